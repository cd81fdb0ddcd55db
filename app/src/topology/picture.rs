//! Lays the topology out with layout-rs (a Graphviz-style layered layout)
//! and keeps only the geometry: the page draws the SVG itself, so it can
//! shade lockstep groups, link nodes and style edges by policy.

use layout::core::base::Orientation;
use layout::core::color::Color;
use layout::core::format::{ClipHandle, RenderBackend};
use layout::core::geometry::Point;
use layout::core::style::{LineStyleKind, StyleAttr};
use layout::std_shapes::shapes::{Arrow, Element, LineEndKind, ShapeKind};
use layout::topo::layout::VisualGraph;

use super::model::{
    LockstepGroup, Picture, PictureCluster, PictureEdge, PictureNode, Policy, RelationKind,
    Topology,
};

const NODE_HEIGHT: f64 = 44.0;
const CLUSTER_PADDING: f64 = 10.0;
const MARGIN: f64 = 20.0;

/// Lays out every service and relation. Self-references are drawn as loops
/// by the layout; relations to undeclared services cannot reach here.
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
    let mut graph = VisualGraph::new(Orientation::TopToBottom);
    let handles: Vec<_> = topology
        .services
        .iter()
        .enumerate()
        .map(|(i, service)| {
            let width = (service.name.len().max(10) as f64) * 8.0 + 24.0;
            let mut element = Element::create(
                ShapeKind::Box(service.name.clone()),
                StyleAttr::simple(),
                Orientation::TopToBottom,
                Point::new(width, NODE_HEIGHT),
            );
            element.properties = Some(format!("s{i}"));
            graph.add_node(element)
        })
        .collect();
    let index_of = |name: &str| topology.services.iter().position(|s| s.name == name);
    for (i, relation) in topology.relations.iter().enumerate() {
        let (Some(from), Some(to)) = (index_of(&relation.from), index_of(&relation.to)) else {
            continue;
        };
        let mut arrow = Arrow::new(
            LineEndKind::None,
            LineEndKind::Arrow,
            LineStyleKind::Normal,
            "",
            &StyleAttr::new(Color::fast("black"), 1, None, 0, 12),
            &None,
            &None,
        );
        arrow.properties = Some(format!("r{i}"));
        graph.add_edge(arrow, handles[from], handles[to]);
    }

    let mut capture = Capture::default();
    graph.do_it(false, false, false, &mut capture);

    // Shift everything so the drawing starts at the margin.
    let (min_x, min_y) = capture
        .nodes
        .iter()
        .map(|(_, p, _)| (p.x, p.y))
        .fold((f64::MAX, f64::MAX), |(ax, ay), (x, y)| {
            (ax.min(x), ay.min(y))
        });
    let dx = MARGIN + CLUSTER_PADDING - min_x;
    let dy = MARGIN + CLUSTER_PADDING - min_y;

    let nodes: Vec<PictureNode> = capture
        .nodes
        .iter()
        .map(|&(i, at, size)| {
            let service = &topology.services[i];
            PictureNode {
                name: service.name.clone(),
                label: service.datastore.map_or("—".into(), |d| d.to_string()),
                group: group_of(&service.name),
                x: at.x + dx,
                y: at.y + dy,
                w: size.x,
                h: size.y,
            }
        })
        .collect();
    let edges = capture
        .edges
        .iter()
        .map(|(i, points)| {
            let relation = &topology.relations[*i];
            PictureEdge {
                relation: relation.name.clone(),
                path: svg_path(points, dx, dy),
                lockstep: relation.effective_policy() == Policy::Lockstep,
                mirror: relation.kind == RelationKind::Mirror,
            }
        })
        .collect();
    let clusters = clusters(&nodes, groups);
    let width = nodes.iter().map(|n| n.x + n.w).fold(0.0, f64::max) + MARGIN + CLUSTER_PADDING;
    let height = nodes.iter().map(|n| n.y + n.h).fold(0.0, f64::max) + MARGIN + CLUSTER_PADDING;
    Picture {
        width,
        height,
        nodes,
        edges,
        clusters,
    }
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

/// The layout's Bézier control points as SVG path data (the first pair is
/// the exit vector, each later pair the entry into the next point).
fn svg_path(points: &[(Point, Point)], dx: f64, dy: f64) -> String {
    let p = |pt: Point| format!("{:.1} {:.1}", pt.x + dx, pt.y + dy);
    let mut path = String::new();
    if let [first, second, rest @ ..] = points {
        path.push_str(&format!(
            "M {} C {}, {}, {}",
            p(first.0),
            p(first.1),
            p(second.0),
            p(second.1)
        ));
        for point in rest {
            path.push_str(&format!(" S {}, {}", p(point.0), p(point.1)));
        }
    }
    path
}

/// A render backend that records where the layout put our shapes instead
/// of drawing them. Nodes and edges are recognised by the `properties` tag
/// we gave them; connector boxes and labels are ignored.
#[derive(Default)]
struct Capture {
    nodes: Vec<(usize, Point, Point)>,
    edges: Vec<(usize, Vec<(Point, Point)>)>,
}

fn tag(properties: Option<String>, prefix: char) -> Option<usize> {
    properties?.strip_prefix(prefix)?.parse().ok()
}

impl RenderBackend for Capture {
    fn draw_rect(
        &mut self,
        xy: Point,
        size: Point,
        _: &StyleAttr,
        properties: Option<String>,
        _: Option<ClipHandle>,
    ) {
        if let Some(i) = tag(properties, 's') {
            self.nodes.push((i, xy, size));
        }
    }

    fn draw_line(&mut self, _: Point, _: Point, _: &StyleAttr, _: Option<String>) {}

    fn draw_circle(&mut self, _: Point, _: Point, _: &StyleAttr, _: Option<String>) {}

    fn draw_text(&mut self, _: Point, _: &str, _: &StyleAttr) {}

    fn draw_arrow(
        &mut self,
        path: &[(Point, Point)],
        _: bool,
        _: (bool, bool),
        _: &StyleAttr,
        properties: Option<String>,
        _: &str,
    ) {
        if let Some(i) = tag(properties, 'r') {
            self.edges.push((i, path.to_vec()));
        }
    }

    fn create_clip(&mut self, _: Point, _: Point, _: usize) -> ClipHandle {
        0
    }
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
