//! Lays the topology out with rust-sugiyama (Sugiyama's layered drawing:
//! cycle removal, ranking, crossing reduction, Brandes–Köpf coordinates) and
//! keeps only the geometry: the page draws the SVG itself, so it can shade
//! lockstep groups, link nodes and style edges by policy.
//!
//! The layout library places each connected component on its own; this
//! module routes the edges as curves between box borders and packs the
//! components into rows.

use petgraph::stable_graph::{NodeIndex, StableDiGraph};
use rust_sugiyama::configure::{Config, CrossingMinimization};

use super::model::{
    LockstepGroup, Picture, PictureCluster, PictureEdge, PictureNode, Policy, RelationKind,
    Topology,
};

const NODE_HEIGHT: f64 = 44.0;
const CLUSTER_PADDING: f64 = 10.0;
const MARGIN: f64 = 20.0;
/// Space between packed components.
const GAP: f64 = 40.0;
/// Components are packed into rows no wider than this (or the widest one).
const ROW_WIDTH: f64 = 1600.0;

fn node_width(name: &str) -> f64 {
    (name.len().max(10) as f64) * 8.0 + 24.0
}

/// Lays out every service and relation. Self-references are drawn as loops
/// beside their service; relations to undeclared services cannot reach here.
pub fn draw(topology: &Topology, groups: &[LockstepGroup]) -> Picture {
    if topology.services.is_empty() {
        return Picture::default();
    }
    let group_of = |name: &str| {
        groups
            .iter()
            .position(|g| g.services.iter().any(|s| s == name))
            .unwrap_or(0)
    };
    let mut graph: StableDiGraph<f64, ()> = StableDiGraph::new();
    let nodes: Vec<NodeIndex> = topology
        .services
        .iter()
        .map(|s| graph.add_node(node_width(&s.name)))
        .collect();
    let index_of = |name: &str| topology.services.iter().position(|s| s.name == name);
    let ends: Vec<Option<(usize, usize)>> = topology
        .relations
        .iter()
        .map(|r| Some((index_of(&r.from)?, index_of(&r.to)?)))
        .collect();
    for &(from, to) in ends.iter().flatten() {
        if from != to {
            graph.add_edge(nodes[from], nodes[to], ());
        }
    }
    let widest = nodes.iter().map(|&n| graph[n]).fold(0.0, f64::max);
    let config = Config {
        vertex_spacing: 30.0 + widest / 4.0,
        // The barycenter heuristic without transposition keeps a 500-service
        // model well under a second (see BENCHMARKS.md).
        c_minimization: CrossingMinimization::Barycenter,
        transpose: false,
        ..Config::default()
    };
    let layouts = rust_sugiyama::from_graph(&graph, &|_, width| (*width, NODE_HEIGHT), &config);

    // Each component's boxes relative to its own top-left corner.
    let mut components: Vec<Component> = layouts
        .into_iter()
        .map(|(placed, _, _)| {
            let boxes: Vec<(usize, f64, f64)> = placed
                .into_iter()
                .map(|(id, (x, y))| {
                    let i = id.index();
                    (i, x - graph[nodes[i]] / 2.0, y)
                })
                .collect();
            let x0 = boxes.iter().map(|b| b.1).fold(f64::MAX, f64::min);
            let y0 = boxes.iter().map(|b| b.2).fold(f64::MAX, f64::min);
            let boxes: Vec<_> = boxes
                .into_iter()
                .map(|(i, x, y)| (i, x - x0, y - y0))
                .collect();
            let w = boxes
                .iter()
                .map(|&(i, x, _)| x + graph[nodes[i]])
                .fold(0.0, f64::max);
            let h = boxes.iter().map(|b| b.2 + NODE_HEIGHT).fold(0.0, f64::max);
            Component { boxes, w, h }
        })
        .collect();
    // Biggest components first, packed left to right into rows.
    components.sort_by(|a, b| {
        b.boxes
            .len()
            .cmp(&a.boxes.len())
            .then(a.boxes[0].0.cmp(&b.boxes[0].0))
    });
    let row_width = components.iter().map(|c| c.w).fold(ROW_WIDTH, f64::max);
    let origin = MARGIN + CLUSTER_PADDING;
    let (mut cx, mut cy, mut row_height) = (origin, origin, 0.0f64);
    let mut placed = vec![(0.0, 0.0); topology.services.len()];
    for Component { boxes, w, h } in &components {
        if cx > origin && cx + w > origin + row_width {
            cx = origin;
            cy += row_height + GAP;
            row_height = 0.0;
        }
        for &(i, x, y) in boxes {
            placed[i] = (cx + x, cy + y);
        }
        cx += w + GAP;
        row_height = row_height.max(*h);
    }

    let picture_nodes: Vec<PictureNode> = topology
        .services
        .iter()
        .enumerate()
        .map(|(i, service)| PictureNode {
            name: service.name.clone(),
            label: service.datastore.map_or("—".into(), |d| d.to_string()),
            group: group_of(&service.name),
            x: placed[i].0,
            y: placed[i].1,
            w: graph[nodes[i]],
            h: NODE_HEIGHT,
        })
        .collect();
    let edges = topology
        .relations
        .iter()
        .zip(&ends)
        .filter_map(|(relation, ends)| {
            let (from, to) = (*ends)?;
            Some(PictureEdge {
                relation: relation.name.clone(),
                path: route(&picture_nodes[from], &picture_nodes[to]),
                lockstep: relation.effective_policy() == Policy::Lockstep,
                mirror: relation.kind == RelationKind::Mirror,
            })
        })
        .collect();
    let clusters = clusters(&picture_nodes, groups);
    let width =
        picture_nodes.iter().map(|n| n.x + n.w).fold(0.0, f64::max) + MARGIN + CLUSTER_PADDING;
    let height =
        picture_nodes.iter().map(|n| n.y + n.h).fold(0.0, f64::max) + MARGIN + CLUSTER_PADDING;
    Picture {
        width,
        height,
        nodes: picture_nodes,
        edges,
        clusters,
    }
}

/// One connected component as laid out: (service index, x, y) of each box,
/// relative to the component's top-left corner, and its size.
struct Component {
    boxes: Vec<(usize, f64, f64)>,
    w: f64,
    h: f64,
}

/// A curve from one box's border to the other's: down the layers when the
/// target sits lower, up when it sits higher, sideways within a layer, and
/// a loop beside the box for a self-reference.
fn route(from: &PictureNode, to: &PictureNode) -> String {
    let (fx, tx) = (from.x + from.w / 2.0, to.x + to.w / 2.0);
    if std::ptr::eq(from, to) {
        let (x, y) = (from.x + from.w, from.y + from.h / 2.0);
        return format!(
            "M {x:.1} {:.1} C {:.1} {:.1}, {:.1} {:.1}, {x:.1} {:.1}",
            y - 8.0,
            x + 40.0,
            y - 30.0,
            x + 40.0,
            y + 30.0,
            y + 8.0
        );
    }
    let (sy, ty) = if to.y > from.y + 1.0 {
        (from.y + from.h, to.y)
    } else if to.y + 1.0 < from.y {
        (from.y, to.y + to.h)
    } else {
        // Same layer: leave and enter through the facing sides.
        let (sx, ex) = if tx > fx {
            (from.x + from.w, to.x)
        } else {
            (from.x, to.x + to.w)
        };
        let y = from.y + from.h / 2.0;
        let bend = (ex - sx) / 2.0;
        return format!(
            "M {sx:.1} {y:.1} C {:.1} {:.1}, {:.1} {:.1}, {ex:.1} {y:.1}",
            sx + bend,
            y - 30.0,
            ex - bend,
            y - 30.0
        );
    };
    let bend = (ty - sy) / 2.0;
    format!(
        "M {fx:.1} {sy:.1} C {fx:.1} {:.1}, {tx:.1} {:.1}, {tx:.1} {ty:.1}",
        sy + bend,
        ty - bend
    )
}

/// One shaded rectangle around the members of each group of two or more.
fn clusters(nodes: &[PictureNode], groups: &[LockstepGroup]) -> Vec<PictureCluster> {
    (0..groups.len())
        .filter(|&g| groups[g].services.len() > 1)
        .filter_map(|g| {
            let members: Vec<&PictureNode> = nodes.iter().filter(|n| n.group == g).collect();
            let x0 = members.iter().map(|n| n.x).reduce(f64::min)?;
            let y0 = members.iter().map(|n| n.y).reduce(f64::min)?;
            let x1 = members.iter().map(|n| n.x + n.w).reduce(f64::max)?;
            let y1 = members.iter().map(|n| n.y + n.h).reduce(f64::max)?;
            Some(PictureCluster {
                group: g,
                x: x0 - CLUSTER_PADDING,
                y: y0 - CLUSTER_PADDING,
                w: x1 - x0 + 2.0 * CLUSTER_PADDING,
                h: y1 - y0 + 2.0 * CLUSTER_PADDING,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::groups::lockstep_groups;
    use crate::topology::model::*;

    fn topology() -> Topology {
        let service = |name: &str| Service {
            name: name.into(),
            team: None,
            description: None,
            datastore: Some(Datastore::Postgres),
            pattern: None,
            backup: Backup::default(),
            prefers: None,
        };
        let relation = |name: &str, from: &str, to: &str, cached: bool| Relation {
            name: name.into(),
            from: from.into(),
            to: to.into(),
            kind: RelationKind::Reference,
            required: true,
            cached,
            policy: None,
            on_broken: None,
        };
        Topology {
            services: ["orders", "customers", "payments", "media"]
                .map(service)
                .to_vec(),
            relations: vec![
                relation("order.customer", "orders", "customers", false),
                relation("payment.order", "payments", "orders", true),
                relation("order.self", "orders", "orders", false),
            ],
        }
    }

    #[test]
    fn every_service_gets_a_box_and_every_relation_a_path() {
        let topology = topology();
        let groups = lockstep_groups(&topology);
        let picture = draw(&topology, &groups);
        assert_eq!(picture.nodes.len(), 4);
        assert_eq!(picture.edges.len(), 3);
        assert!(picture.edges.iter().all(|e| e.path.starts_with("M ")));
        // Boxes lie inside the drawing and do not overlap.
        for (i, a) in picture.nodes.iter().enumerate() {
            assert!(
                a.x >= 0.0
                    && a.y >= 0.0
                    && a.x + a.w <= picture.width
                    && a.y + a.h <= picture.height
            );
            for b in &picture.nodes[i + 1..] {
                let apart =
                    a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y;
                assert!(apart, "{} overlaps {}", a.name, b.name);
            }
        }
    }

    #[test]
    fn only_multi_member_groups_are_shaded_around_their_members() {
        let topology = topology();
        let groups = lockstep_groups(&topology);
        let picture = draw(&topology, &groups);
        assert_eq!(picture.clusters.len(), 1);
        let cluster = &picture.clusters[0];
        assert_eq!(groups[cluster.group].services, vec!["customers", "orders"]);
        for node in picture.nodes.iter().filter(|n| n.group == cluster.group) {
            assert!(node.x >= cluster.x && node.x + node.w <= cluster.x + cluster.w);
        }
        let lockstep: Vec<bool> = picture.edges.iter().map(|e| e.lockstep).collect();
        assert_eq!(
            lockstep.iter().filter(|l| **l).count(),
            2,
            "order.customer and the self-reference"
        );
    }
}
