use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;

use crate::topology::model::{Picture, PictureCluster, PictureEdge, PictureNode};

/// Fills for lockstep groups; a group keeps its colour in the boxes and in
/// the shaded rectangle behind them.
const GROUP_FILLS: [&str; 8] = [
    "#6366f1", "#0ea5e9", "#10b981", "#f59e0b", "#ec4899", "#8b5cf6", "#14b8a6", "#ef4444",
];

fn fill(group: usize) -> &'static str {
    GROUP_FILLS[group % GROUP_FILLS.len()]
}

/// The topology as an SVG: solid arrows for lockstep relations, dashed for
/// tolerated ones, a diamond at the source of mirrors, lockstep groups
/// shaded. Drag to pan, buttons or the wheel to zoom; a click (or Enter)
/// on a service jumps to its row; its "+" starts a relation from it.
#[component]
pub fn TopologyGraph(
    picture: Picture,
    /// Called with a service's name when its "+" asks for a new relation from it.
    on_relate: Callback<String>,
) -> impl IntoView {
    let full = (0.0, 0.0, picture.width.max(1.0), picture.height.max(1.0));
    let (view_box, set_view_box) = signal(full);
    let (dragging, set_dragging) = signal(false);

    let zoom = move |factor: f64| {
        set_view_box.update(|(x, y, w, h)| {
            let (cx, cy) = (*x + *w / 2.0, *y + *h / 2.0);
            *w *= factor;
            *h *= factor;
            *x = cx - *w / 2.0;
            *y = cy - *h / 2.0;
        })
    };
    let pan = move |ev: leptos::ev::PointerEvent| {
        if !dragging.get_untracked() {
            return;
        }
        let width_px = ev
            .current_target()
            .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
            .map_or(1, |svg| svg.client_width().max(1)) as f64;
        set_view_box.update(|(x, y, w, _)| {
            let units_per_px = *w / width_px;
            *x -= ev.movement_x() as f64 * units_per_px;
            *y -= ev.movement_y() as f64 * units_per_px;
        });
    };

    let nodes = picture.nodes.clone();
    let edges = picture.edges.clone();
    let clusters = picture.clusters.clone();
    view! {
        <figure class="mb-8 rounded-xl border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
            <div class="flex items-center justify-between gap-2 border-b border-slate-200 px-4 py-2 text-xs text-slate-600 dark:text-slate-400 dark:border-slate-800">
                <figcaption>
                    "Solid: lockstep · dashed: tolerated · ◆ mirror · shaded: lockstep group"
                </figcaption>
                <div class="flex gap-1">
                    <button type="button" aria-label="Zoom in" class=BUTTON on:click=move |_| zoom(0.8)>
                        "+"
                    </button>
                    <button type="button" aria-label="Zoom out" class=BUTTON on:click=move |_| zoom(1.25)>
                        "−"
                    </button>
                    <button type="button" class=BUTTON on:click=move |_| set_view_box.set(full)>
                        "Fit"
                    </button>
                </div>
            </div>
            <svg
                data-testid="topology-graph"
                role="group"
                aria-label="Topology graph"
                class="block h-[28rem] w-full touch-none select-none"
                class:cursor-grabbing=dragging
                class:cursor-grab=move || !dragging.get()
                viewBox=move || {
                    let (x, y, w, h) = view_box.get();
                    format!("{x:.1} {y:.1} {w:.1} {h:.1}")
                }
                preserveAspectRatio="xMidYMid meet"
                on:pointerdown=move |_| set_dragging.set(true)
                on:pointerup=move |_| set_dragging.set(false)
                on:pointerleave=move |_| set_dragging.set(false)
                on:pointermove=pan
                on:wheel=move |ev| {
                    ev.prevent_default();
                    zoom(if ev.delta_y() > 0.0 { 1.1 } else { 0.9 });
                }
            >
                <defs>
                    <marker id="arrow-end" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                        <path d="M 0 0 L 10 5 L 0 10 z" fill="#64748b" />
                    </marker>
                    <marker id="mirror-start" viewBox="0 0 10 10" refX="5" refY="5" markerWidth="8" markerHeight="8" orient="auto">
                        <path d="M 0 5 L 5 0 L 10 5 L 5 10 z" fill="#64748b" />
                    </marker>
                </defs>
                {clusters_view(clusters, &nodes)}
                {edges_view(edges)}
                {nodes.into_iter().map(|n| node_view(n, on_relate)).collect_view()}
            </svg>
        </figure>
    }
}

/// The lockstep groups, shaded behind their members.
fn clusters_view(clusters: Vec<PictureCluster>, nodes: &[PictureNode]) -> impl IntoView {
    clusters
        .into_iter()
        .map(|c| {
            let mut members: Vec<&str> = nodes
                .iter()
                .filter(|n| n.group == c.group)
                .map(|n| n.name.as_str())
                .collect();
            members.sort_unstable();
            let members = members.join(" ");
            view! {
                <rect
                    data-testid="graph-cluster"
                    data-members=members
                    x=c.x
                    y=c.y
                    width=c.w
                    height=c.h
                    rx="12"
                    fill=fill(c.group)
                    fill-opacity="0.12"
                    stroke=fill(c.group)
                    stroke-opacity="0.5"
                />
            }
        })
        .collect_view()
}

/// The relations: solid for lockstep, dashed for tolerated, a diamond at
/// a mirror's source.
fn edges_view(edges: Vec<PictureEdge>) -> impl IntoView {
    edges
        .into_iter()
        .map(|e| {
            let title = e.relation.clone();
            view! {
                <path
                    data-testid="graph-edge"
                    data-relation=e.relation.clone()
                    data-policy=if e.lockstep { "lockstep" } else { "tolerate" }
                    d=e.path
                    fill="none"
                    stroke="#64748b"
                    stroke-width="1.5"
                    stroke-dasharray=if e.lockstep { "none" } else { "6 4" }
                    marker-end="url(#arrow-end)"
                    marker-start=if e.mirror { "url(#mirror-start)" } else { "" }
                >
                    <title>{title}</title>
                </path>
            }
        })
        .collect_view()
}

/// A service's box (a link to its row) and its "+" (a relation from it).
fn node_view(n: PictureNode, on_relate: Callback<String>) -> impl IntoView {
    let anchor = format!("service-{}", n.name);
    let service = n.name.clone();
    let aria = format!("Open service {}", n.name);
    let open = move || {
        let _ = window().location().set_hash(&anchor);
    };
    let open_on_enter = open.clone();
    let relate_from = n.name.clone();
    let relate_label = format!("Add a relation from {}", n.name);
    let relate_title = relate_label.clone();
    let (plus_x, plus_y) = (n.x + n.w - 2.0, n.y + 2.0);
    // A <g> rather than an SVG <a>: elements created after
    // hydration would get the HTML <a> and not render.
    view! {
        <g
            role="link"
            tabindex="0"
            aria-label=aria
            class="cursor-pointer"
            data-testid="graph-node"
            data-service=service
            on:pointerdown=|ev| ev.stop_propagation()
            on:click=move |_| open()
            on:keydown=move |ev| {
                if ev.key() == "Enter" {
                    open_on_enter();
                }
            }
        >
            <rect
                x=n.x
                y=n.y
                width=n.w
                height=n.h
                rx="8"
                fill=fill(n.group)
                fill-opacity="0.9"
            />
            <text
                x=n.x + n.w / 2.0
                y=n.y + 18.0
                text-anchor="middle"
                fill="white"
                font-size="13"
                font-weight="600"
            >
                {n.name}
            </text>
            <text
                x=n.x + n.w / 2.0
                y=n.y + 34.0
                text-anchor="middle"
                fill="white"
                fill-opacity="0.85"
                font-size="11"
            >
                {n.label}
            </text>
        </g>
        <g
            role="button"
            tabindex="0"
            aria-label=relate_label
            data-testid="graph-relate"
            class="cursor-pointer"
            class:hidden=!crate::accounts::ui::may(crate::accounts::model::Permission::Design)
            on:pointerdown=|ev| ev.stop_propagation()
            on:click=move |_| on_relate.run(relate_from.clone())
        >
            <title>{relate_title}</title>
            <circle cx=plus_x cy=plus_y r="9" fill="white" stroke="#64748b" />
            <text x=plus_x y=plus_y + 4.0 text-anchor="middle" font-size="13" fill="#334155">
                "+"
            </text>
        </g>
    }
}

const BUTTON: &str = "rounded border border-slate-300 px-2 py-0.5 hover:bg-slate-100 dark:border-slate-700 dark:hover:bg-slate-800";
