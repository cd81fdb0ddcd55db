//! A small line chart of one figure over time, server-rendered SVG: a dot
//! per measurement with its value in a tooltip, the newest emphasised.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

const WIDTH: f64 = 160.0;
const HEIGHT: f64 = 32.0;
const PAD: f64 = 3.0;

/// `values[i]` was measured at `runs[i]` (oldest first); `label` says in
/// words what the picture shows.
#[component]
pub fn Sparkline(values: Vec<i64>, runs: Vec<DateTime<Utc>>, label: String) -> impl IntoView {
    let top = values.iter().copied().max().unwrap_or(0).max(1) as f64;
    let step = (WIDTH - 2.0 * PAD) / (values.len().max(2) - 1) as f64;
    let points: Vec<(f64, f64)> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            (
                PAD + step * i as f64,
                HEIGHT - PAD - (HEIGHT - 2.0 * PAD) * *v as f64 / top,
            )
        })
        .collect();
    let line = points
        .iter()
        .map(|(x, y)| format!("{x:.1},{y:.1}"))
        .collect::<Vec<_>>()
        .join(" ");
    let last = points.len().saturating_sub(1);
    let dots = points
        .iter()
        .zip(values.iter().zip(&runs))
        .enumerate()
        .map(|(i, ((x, y), (v, at)))| {
            let title = format!("{}: {v} findings", at.format("%Y-%m-%d %H:%M UTC"));
            view! {
                <circle data-testid="exposure-run" cx=*x cy=*y r=if i == last { 3.0 } else { 1.8 } fill="#d97706">
                    <title>{title}</title>
                </circle>
            }
        })
        .collect_view();
    view! {
        <svg data-testid="exposure-chart" viewBox=format!("0 0 {WIDTH} {HEIGHT}") class="h-8 w-40" role="img" aria-label=label>
            <line x1=PAD y1=HEIGHT - PAD x2=WIDTH - PAD y2=HEIGHT - PAD stroke="currentColor" stroke-opacity="0.2" />
            <polyline points=line fill="none" stroke="#d97706" stroke-width="1.5" />
            {dots}
        </svg>
    }
}
