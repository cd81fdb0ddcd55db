use leptos::prelude::*;

use crate::error::AppError;

/// A failed load or action, said plainly; rejected documents list their problems.
#[component]
pub fn ErrorNotice(error: AppError) -> impl IntoView {
    let problems = match &error {
        AppError::Rejected(problems) => problems.clone(),
        _ => Vec::new(),
    };
    view! {
        <div
            role="alert"
            data-testid="error"
            class="rounded-lg border border-red-300 bg-red-50 p-4 text-sm text-red-800 dark:border-red-800 dark:bg-red-950 dark:text-red-200"
        >
            <p class="font-medium">{error.to_string()}</p>
            <ul class="mt-2 list-disc space-y-1 pl-5">
                {problems.into_iter().map(|p| view! { <li>{p.to_string()}</li> }).collect_view()}
            </ul>
        </div>
    }
}
