//! The restores page's suspected restores: what a collected snapshot
//! showed, the backup it most likely came from, and one button to record
//! it (or to say it was not a restore). Plain forms, so they work before
//! and without the WASM.

use leptos::prelude::*;

use super::api::{suspected_restores, DismissSuspectedRestore, RecordSuspectedRestore};
use super::model::SuspectedRestore;
use super::ui::when;
use crate::accounts::csrf::CsrfField;
use crate::accounts::{model::Permission, ui::may};
use crate::components::ErrorNotice;

#[component]
pub fn SuspectedRestores(
    record: ServerAction<RecordSuspectedRestore>,
    dismiss: ServerAction<DismissSuspectedRestore>,
) -> impl IntoView {
    let open = Resource::new(
        move || (record.version().get(), dismiss.version().get()),
        |_| suspected_restores(),
    );
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match open.await {
                    Ok(list) if list.is_empty() => ().into_any(),
                    Ok(list) => view! {
                        <section
                            aria-labelledby="suspected-heading"
                            data-testid="suspected-restores"
                            class="mb-6 rounded-xl border border-amber-300 bg-amber-50 p-4 dark:border-amber-800 dark:bg-amber-950"
                        >
                            <h2 id="suspected-heading" class="text-lg font-medium">"Suspected restores"</h2>
                            <p class="mt-1 text-sm text-slate-700 dark:text-slate-300">
                                "A collected snapshot showed these services' state going back in time. Record the restore to roll the inventory back and fill the queue."
                            </p>
                            <ul class="mt-3 space-y-3">
                                {list.into_iter().map(|s| suspicion(s, record, dismiss)).collect_view()}
                            </ul>
                        </section>
                    }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Transition>
        {move || record.value().get().and_then(Result::err).or_else(|| dismiss.value().get().and_then(Result::err))
            .map(|error| view! { <div class="mb-4"><ErrorNotice error /></div> })}
    }
}

/// What the evidence says, in words.
fn evidence(s: &SuspectedRestore) -> String {
    let mut parts = Vec::new();
    if s.evidence.vanished > 0 {
        parts.push(format!(
            "{} entities gone without a delete",
            s.evidence.vanished
        ));
    }
    if s.evidence.regressed > 0 {
        parts.push(format!("{} back at older versions", s.evidence.regressed));
    }
    let source = match s.taken_at {
        Some(taken_at) => format!("most likely restored from the backup of {}", when(taken_at)),
        None => format!(
            "no recorded backup matches: restored to a state before {}",
            when(s.evidence.first_lost_at)
        ),
    };
    format!(
        "First seen {}: {}; {source}.",
        when(s.seen_at),
        parts.join(" and ")
    )
}

fn suspicion(
    s: SuspectedRestore,
    record: ServerAction<RecordSuspectedRestore>,
    dismiss: ServerAction<DismissSuspectedRestore>,
) -> impl IntoView {
    let text = evidence(&s);
    // Both forms name the suspicion the same way.
    let names = StoredValue::new((s.service.clone(), s.id.to_string()));
    let hidden = move || {
        let (service, id) = names.get_value();
        view! {
            <CsrfField />
            <input type="hidden" name="service" value=service />
            <input type="hidden" name="id" value=id />
        }
    };
    view! {
        <li data-testid="suspected-restore" data-service=s.service.clone() class="rounded-lg bg-white p-3 text-sm dark:bg-slate-900">
            <p><span class="font-medium">{s.service.clone()}</span>" — "{text}</p>
            {may(Permission::Operate).then(|| view! {
                <div class="mt-2 flex flex-wrap gap-2">
                    <ActionForm action=record attr:class="inline">
                        {hidden()}
                        <button
                            type="submit"
                            data-testid="record-suspected"
                            class="rounded-md bg-red-700 px-3 py-1.5 font-medium text-white hover:bg-red-600 disabled:opacity-50"
                            prop:disabled=move || record.pending().get()
                        >
                            "Record this restore"
                        </button>
                    </ActionForm>
                    <ActionForm action=dismiss attr:class="inline">
                        {hidden()}
                        <button type="submit" data-testid="dismiss-suspected" class="rounded-md border border-slate-300 px-3 py-1.5 dark:border-slate-700">
                            "Not a restore"
                        </button>
                    </ActionForm>
                </div>
            })}
        </li>
    }
}
