//! A restore's pictures, server-rendered SVG that needs no JavaScript: its
//! timeline (the service's lane: the backup, the lost writes, the restore,
//! the amnesia interval, the repairs arriving) and the burndown of its
//! findings (pending, verified by Lockstep, decided by operators).

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use super::api::restore_story;
use super::model::RestoreStory;
use super::ui::when;
use crate::components::ErrorNotice;

const WIDTH: f64 = 600.0;
const LEFT: f64 = 10.0;

/// Refreshed when `version` moves (the queue's live updates).
#[component]
pub fn RestoreStoryPanel(id: i64, version: RwSignal<u64>) -> impl IntoView {
    let story = Resource::new(move || version.get(), move |_| restore_story(id));
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match story.await {
                    Ok(story) => pictures(story).into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn pictures(story: RestoreStory) -> impl IntoView {
    view! {
        <section aria-labelledby="story-heading" data-testid="restore-story" class="mb-6 grid gap-4 lg:grid-cols-2">
            <h2 id="story-heading" class="sr-only">{format!("Restore #{} of {}", story.id, story.service)}</h2>
            {timeline(&story)}
            {burndown(&story)}
        </section>
    }
}

/// A time axis from `start` to `end` onto `LEFT..WIDTH - LEFT`.
fn axis(start: DateTime<Utc>, end: DateTime<Utc>) -> impl Fn(DateTime<Utc>) -> f64 {
    let span = (end - start).num_milliseconds().max(1) as f64;
    move |t| LEFT + (WIDTH - 2.0 * LEFT) * (t - start).num_milliseconds() as f64 / span
}

fn timeline(s: &RestoreStory) -> impl IntoView {
    let times: Vec<DateTime<Utc>> = [s.backup_taken_at, s.restored_at]
        .into_iter()
        .chain(s.amnesia_to)
        .chain(s.lost_writes.iter().copied())
        .chain(s.repairs.iter().copied())
        .collect();
    let start = times.iter().min().copied().unwrap_or(s.backup_taken_at);
    let end = times.iter().max().copied().unwrap_or(s.restored_at);
    let pad = (end - start) / 20 + chrono::Duration::seconds(1);
    let x = axis(start - pad, end + pad);
    let amnesia_end = s.amnesia_to.map_or(WIDTH - LEFT, &x);
    let ticks = |times: &[DateTime<Utc>], y: f64, colour: &'static str| {
        times
            .iter()
            .map(|t| view! { <line x1=x(*t) y1=y x2=x(*t) y2=y + 10.0 stroke=colour stroke-width="1" /> })
            .collect_view()
    };
    let label = format!(
        "{}: backup {}, restored {}, {} writes lost, {} findings repaired since",
        s.service,
        when(s.backup_taken_at),
        when(s.restored_at),
        s.lost_total,
        s.repairs.len()
    );
    view! {
        <figure class="rounded-lg border border-slate-200 p-3 dark:border-slate-800">
            <figcaption class="mb-1 text-sm font-medium">{format!("Timeline of {}", s.service)}</figcaption>
            <svg data-testid="restore-timeline" viewBox="0 0 600 70" class="w-full" role="img" aria-label=label>
                <line x1=LEFT y1="30" x2=WIDTH - LEFT y2="30" stroke="currentColor" stroke-opacity="0.25" />
                <rect x=x(s.backup_taken_at) y="24" width=(amnesia_end - x(s.backup_taken_at)).max(2.0) height="12" fill="#f59e0b" fill-opacity="0.35" />
                <g data-testid="lost-writes">{ticks(&s.lost_writes, 12.0, "#dc2626")}</g>
                <g data-testid="repairs">{ticks(&s.repairs, 38.0, "#059669")}</g>
                <circle cx=x(s.backup_taken_at) cy="30" r="5" fill="#4f46e5" />
                <text x=x(s.backup_taken_at) y="62" font-size="10" text-anchor="middle" fill="currentColor">"backup"</text>
                <rect x=x(s.restored_at) - 4.0 y="22" width="8" height="16" fill="#0f172a" fill-opacity="0.8" />
                <text x=x(s.restored_at) y="62" font-size="10" text-anchor="middle" fill="currentColor">"restore"</text>
            </svg>
            <p class="text-xs text-slate-600 dark:text-slate-400">
                {format!("Red: the {} writes the restore lost. Amber: the amnesia interval{}. Green: findings Lockstep saw repaired.",
                    s.lost_total,
                    s.amnesia_to.map_or(" (still open)".to_string(), |t| format!(", to {}", when(t))))}
            </p>
        </figure>
    }
}

fn burndown(s: &RestoreStory) -> impl IntoView {
    let (Some(first), Some(last)) = (s.burndown.first(), s.burndown.last()) else {
        return ().into_any();
    };
    let x = axis(first.at, last.at);
    let top = s
        .burndown
        .iter()
        .map(|p| p.pending + p.verified + p.decided)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let y = |n: i64| 90.0 - 80.0 * n as f64 / top;
    let line = |value: fn(&super::model::BurndownPoint) -> i64| -> String {
        s.burndown
            .iter()
            .map(|p| format!("{:.1},{:.1}", x(p.at), y(value(p))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let label = format!(
        "Findings now: {} pending, {} verified by Lockstep, {} decided by operators",
        last.pending, last.verified, last.decided
    );
    view! {
        <figure class="rounded-lg border border-slate-200 p-3 dark:border-slate-800">
            <figcaption class="mb-1 text-sm font-medium">"Burndown of its findings"</figcaption>
            <svg data-testid="restore-burndown" viewBox="0 0 600 100" class="w-full" role="img" aria-label=label.clone()>
                <line x1=LEFT y1="90" x2=WIDTH - LEFT y2="90" stroke="currentColor" stroke-opacity="0.25" />
                <polyline points=line(|p| p.pending) fill="none" stroke="#f59e0b" stroke-width="2" />
                <polyline points=line(|p| p.verified) fill="none" stroke="#059669" stroke-width="2" />
                <polyline points=line(|p| p.decided) fill="none" stroke="#64748b" stroke-width="2" />
            </svg>
            <p class="text-xs text-slate-600 dark:text-slate-400" data-testid="burndown-now">
                {format!("Amber pending {}, green verified {}, grey decided {} (since {}).", last.pending, last.verified, last.decided, when(first.at))}
            </p>
        </figure>
    }
    .into_any()
}
