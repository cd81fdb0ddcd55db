use leptos::prelude::*;

use super::api_document;
use super::model::{ApiReference, Operation};
use crate::components::{ErrorNotice, PageHeader};

#[component]
pub fn ApiPage() -> impl IntoView {
    let reference = Resource::new(|| (), |_| api_document());
    view! {
        <PageHeader
            title="API"
            subtitle="The HTTP API services and scripts use: report inventory, record restores, work the queue. Authenticate with Authorization: Bearer <token>."
        >
            <a
                href="/api/v1/openapi.json"
                class="rounded-md border border-slate-300 px-3 py-1.5 text-sm font-medium hover:bg-slate-50 dark:border-slate-700 dark:hover:bg-slate-800"
                data-testid="openapi-link"
            >
                "OpenAPI document (JSON)"
            </a>
        </PageHeader>
        <Transition fallback=|| view! { <p class="text-sm text-slate-600 dark:text-slate-400">"Loading the API document…"</p> }>
            {move || Suspend::new(async move {
                match reference.await {
                    Ok(reference) => document(reference).into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn document(reference: ApiReference) -> AnyView {
    view! {
        <p class="mb-6 max-w-3xl text-sm text-slate-600 dark:text-slate-400">
            {reference.description}
            " "
            <span class="text-slate-500 dark:text-slate-400">{format!("(version {})", reference.version)}</span>
        </p>
        <nav aria-label="API sections" class="mb-6 flex flex-wrap gap-2 text-sm">
            {reference.groups.iter().map(|g| view! {
                <a href=format!("#{}", g.tag) class="rounded-full bg-slate-100 px-3 py-1 hover:bg-slate-200 dark:bg-slate-800 dark:hover:bg-slate-700">{g.tag.clone()}</a>
            }).collect_view()}
        </nav>
        {reference.groups.into_iter().map(|group| view! {
            <section id=group.tag.clone() class="mb-8" data-testid="api-group">
                <h2 class="text-lg font-medium capitalize">{group.tag.clone()}</h2>
                <p class="mb-3 text-sm text-slate-600 dark:text-slate-400">{group.description}</p>
                <div class="space-y-2">
                    {group.operations.into_iter().map(operation).collect_view()}
                </div>
            </section>
        }.into_any()).collect_view()}
    }
    .into_any()
}

fn method_class(method: &str) -> &'static str {
    match method {
        "GET" => "bg-sky-100 text-sky-800 dark:bg-sky-950 dark:text-sky-300",
        "POST" => "bg-emerald-100 text-emerald-800 dark:bg-emerald-950 dark:text-emerald-300",
        "PUT" => "bg-amber-100 text-amber-800 dark:bg-amber-950 dark:text-amber-300",
        _ => "bg-rose-100 text-rose-800 dark:bg-rose-950 dark:text-rose-300",
    }
}

fn status_class(status: &str) -> &'static str {
    match status.as_bytes().first() {
        Some(b'2') => "text-emerald-700 dark:text-emerald-400",
        Some(b'4') => "text-amber-700 dark:text-amber-400",
        _ => "text-rose-700 dark:text-rose-400",
    }
}

/// One operation: method, path and summary; its parameters, body and
/// responses when opened. Type-erased (`AnyView`): nested in the page's
/// view, its full type overflows the compiler's query depth in the
/// browser build.
fn operation(op: Operation) -> AnyView {
    let badge = format!(
        "inline-block w-16 rounded px-2 py-0.5 text-center font-mono text-xs font-semibold {}",
        method_class(&op.method)
    );
    view! {
        <details class="rounded-lg border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900" data-testid="api-operation">
            <summary class="flex cursor-pointer flex-wrap items-center gap-3 px-3 py-2">
                <span class=badge>{op.method.clone()}</span>
                <code class="font-mono text-sm">{op.path.clone()}</code>
                <span class="text-sm text-slate-600 dark:text-slate-400">{op.summary.clone()}</span>
                {op.open.then(|| view! { <span class="rounded bg-slate-100 px-1.5 text-xs dark:bg-slate-800">"open"</span> })}
            </summary>
            <div class="space-y-3 border-t border-slate-200 px-3 py-3 text-sm dark:border-slate-800">
                {(!op.description.is_empty()).then(|| view! { <p class="whitespace-pre-line">{op.description.clone()}</p> })}
                {(!op.parameters.is_empty()).then(|| view! {
                    <div>
                        <h3 class="font-medium">"Parameters"</h3>
                        <ul class="mt-1 space-y-1">
                            {op.parameters.iter().map(|p| view! {
                                <li>
                                    <code class="font-mono">{p.name.clone()}</code>
                                    <span class="ml-2 text-xs text-slate-600 dark:text-slate-400">
                                        {format!("{}{}", p.location, if p.required { ", required" } else { "" })}
                                    </span>
                                    <span class="ml-2 text-slate-600 dark:text-slate-400">{p.description.clone()}</span>
                                </li>
                            }).collect_view()}
                        </ul>
                    </div>
                })}
                {(!op.body.is_empty()).then(|| view! {
                    <p><span class="font-medium">"Body: "</span><code class="font-mono">{op.body.join(", ")}</code></p>
                })}
                <div>
                    <h3 class="font-medium">"Responses"</h3>
                    <ul class="mt-1 space-y-1">
                        {op.responses.iter().map(|(status, description)| view! {
                            <li>
                                <code class=format!("font-mono font-semibold {}", status_class(status))>{status.clone()}</code>
                                <span class="ml-2 text-slate-600 dark:text-slate-400">{description.clone()}</span>
                            </li>
                        }).collect_view()}
                    </ul>
                </div>
            </div>
        </details>
    }
    .into_any()
}
