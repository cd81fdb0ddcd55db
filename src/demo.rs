//! The demo data: an online shop, loaded only into an empty database so a
//! user's own model is never overwritten. Its services report three days of
//! inventory through the real ingest path, each has backups, and `orders`
//! has been restored from its backup of six hours ago — so the queue has
//! work in it at once (`POST /api/v1/demo`, the end-to-end suite's
//! fixture). `scripts/run.sh` runs the live demo instead (`live`): three of
//! the services in real databases, collected, and restored for real.

pub mod live;

use anyhow::Context;
use app::error::AppError;
use app::inventory::{
    db as inventory,
    events::{EntityEvent, Events, ReferenceEvent},
};
use app::restores::db::engine::{self, RestorePoint, RestoreRequest};
use app::topology::{commands, document};
use chrono::{DateTime, Duration, DurationRound, Utc};
use serde_json::json;
use sqlx::PgPool;

const SHOP_TOPOLOGY: &str = include_str!("../demo/shop-topology.yaml");
const ORDERS: i64 = 80;
const CUSTOMERS: i64 = 30;
const PRODUCTS: i64 = 20;
const CITIES: [&str; 3] = ["Lugano", "Paris", "Bern"];

/// Loads the demo shop when the database holds no service; says whether it did.
/// Each step is its own transaction, so a topology change from elsewhere can
/// remove a demo service half-way: the error then holds an
/// `AppError::NotFound` (see `changed_meanwhile`).
pub async fn load_if_empty(pool: &PgPool) -> anyhow::Result<bool> {
    let Some((now, _)) = load_shop(pool, &[]).await? else {
        return Ok(false);
    };
    let restore = engine::record(
        pool,
        RestoreRequest {
            service: "orders".into(),
            point: RestorePoint::At(now - Duration::hours(6)),
            restored_at: Some(now),
            drill: false,
            actor: "demo".into(),
        },
    )
    .await
    .context("demo restore")?;
    tracing::info!(findings = restore.total(), "demo shop loaded");
    Ok(true)
}

/// The live demo (`live`): the shop loaded into an empty database with
/// `orders`, `customers` and `payments` in databases of their own, or —
/// when the database already holds those services (a restart) — the same
/// databases collected again. Says whether it started.
pub async fn load_live(
    tasks: &app::state::BackgroundTasks,
    pool: &PgPool,
    settings: &live::Settings,
    lockstep: &str,
    token: &str,
) -> anyhow::Result<bool> {
    let loaded = load_shop(pool, &live::COLLECTED).await?;
    if loaded.is_none() {
        for service in live::COLLECTED {
            if inventory::find_service(pool, service).await.is_err() {
                tracing::info!("live demo skipped: the database holds another topology");
                return Ok(false);
            }
        }
    }
    let fresh = loaded.is_some();
    let shop = loaded.map(|(_, shop)| shop).unwrap_or_default();
    live::start(
        tasks,
        pool,
        settings,
        &shop.into_iter().collect(),
        fresh,
        lockstep,
        token,
    )
    .await?;
    Ok(true)
}

/// The demo topology and three days of inventory for every service but
/// `skip` (they report their own), each with its backups; None when the
/// database already holds a topology. Returns the time it was loaded at and
/// every service's events.
async fn load_shop(
    pool: &PgPool,
    skip: &[&str],
) -> anyhow::Result<Option<(DateTime<Utc>, Vec<(&'static str, Events)>)>> {
    if app::topology::db::holds_services(pool).await? {
        tracing::info!("demo data skipped: the database already holds a topology");
        return Ok(None);
    }
    let topology = document::parse(SHOP_TOPOLOGY)
        .map_err(|problems| anyhow::anyhow!("the demo topology is invalid: {problems:?}"))?;
    commands::replace(pool, "demo", &topology, false)
        .await
        .context("loading the demo topology")?;
    let now = Utc::now().duration_trunc(Duration::minutes(1))?;
    let shop = shop_inventory(now);
    for (service, events) in shop.iter().filter(|(s, _)| !skip.contains(s)) {
        let target = inventory::find_service(pool, service).await?;
        inventory::apply(pool, target, events.clone())
            .await
            .with_context(|| format!("demo inventory of {service}"))?;
        for (hours, label) in [(30, "nightly"), (18, "midday"), (6, "morning")] {
            inventory::record_backup(pool, target, now - Duration::hours(hours), Some(label))
                .await?;
        }
    }
    tracing::info!(
        services = topology.services.len(),
        "demo topology and inventory loaded"
    );
    Ok(Some((now, shop)))
}

/// Whether a failed load lost a demo service to a concurrent topology
/// change (the caller's conflict, not a fault).
pub fn changed_meanwhile(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<AppError>(),
            Some(AppError::NotFound(_))
        )
    })
}

/// Builds one service's events, numbering lines as the API would.
#[derive(Default)]
struct Batch(Events);

impl Batch {
    fn entity(&mut self, key: String, at: DateTime<Utc>, data: serde_json::Value) {
        let line = self.0.len() + 1;
        self.0.entities.push(EntityEvent {
            data: Some(data),
            ..EntityEvent::new(line, key, at)
        });
    }

    fn reference(
        &mut self,
        from: &str,
        relation: &str,
        to: String,
        observed: DateTime<Utc>,
        at: DateTime<Utc>,
        cache: Option<serde_json::Value>,
    ) {
        let line = self.0.len() + 1;
        self.0.references.push(ReferenceEvent {
            cache,
            ..ReferenceEvent::new(line, relation, (from.to_string(), to), observed, at)
        });
    }
}

/// Three days of a shop, up to `now`: orders arrive every 54 minutes, each
/// paid, reserved, and (every other one) shipped; the last seven arrive
/// after the 6-hour-old backup the demo restores, and a few older orders
/// changed after it too. The two newest customers are referred to only by
/// those lost orders.
fn shop_inventory(now: DateTime<Utc>) -> Vec<(&'static str, Events)> {
    let start = now - Duration::hours(72);
    let customer_at = |c: i64| {
        if c > CUSTOMERS - 2 {
            now - Duration::hours(5)
        } else {
            start - Duration::days(10) + Duration::hours(c * 7)
        }
    };
    let product_at = |p: i64| start - Duration::days(30) + Duration::hours(p * 11);
    let order_at = |o: i64| start + Duration::minutes(54 * o);
    // New orders go to the two newest customers; the rest spread over all.
    let customer_of = |o: i64| {
        if order_at(o) > now - Duration::hours(5) {
            CUSTOMERS - (o % 2)
        } else {
            o % (CUSTOMERS - 2) + 1
        }
    };

    let (mut customers, mut catalog, mut media) =
        (Batch::default(), Batch::default(), Batch::default());
    for c in 1..=CUSTOMERS {
        customers.entity(
            format!("C/{c}"),
            customer_at(c),
            json!({"name": format!("Customer {c}"), "city": CITIES[c as usize % 3]}),
        );
    }
    for p in 1..=PRODUCTS {
        let at = product_at(p);
        media.entity(
            format!("M/{p}"),
            at,
            json!({"file": format!("product-{p}.jpg")}),
        );
        catalog.entity(
            format!("P/{p}"),
            at,
            json!({"name": format!("Product {p}"), "price": 10 + p}),
        );
        catalog.reference(
            &format!("P/{p}"),
            "product.image",
            format!("M/{p}"),
            at,
            at,
            None,
        );
    }

    let (mut orders, mut payments, mut inventory, mut shipping, mut notifications) = (
        Batch::default(),
        Batch::default(),
        Batch::default(),
        Batch::default(),
        Batch::default(),
    );
    for o in 1..=ORDERS {
        let at = order_at(o);
        let (key, c, p) = (format!("O/{o}"), customer_of(o), o % PRODUCTS + 1);
        orders.entity(
            key.clone(),
            at,
            json!({"status": "placed", "total": 20 + o}),
        );
        orders.reference(
            &key,
            "order.customer",
            format!("C/{c}"),
            customer_at(c),
            at,
            None,
        );
        orders.reference(
            &key,
            "order.product",
            format!("P/{p}"),
            product_at(p),
            at,
            Some(json!({"name": format!("Product {p}"), "price": 10 + p})),
        );
        let paid = at + Duration::minutes(5);
        // The payment mirrors its order (payment.ledger): mirrors are
        // matched by key (spec §5), so it carries the order's business key.
        let payment = key.clone();
        payments.entity(payment.clone(), paid, json!({"amount": 20 + o}));
        payments.reference(&payment, "payment.order", key.clone(), at, paid, None);
        payments.reference(&payment, "payment.ledger", key.clone(), at, paid, None);
        let reservation = format!("R/{o}");
        inventory.entity(
            reservation.clone(),
            at + Duration::minutes(1),
            json!({"quantity": 1 + o % 3}),
        );
        inventory.reference(
            &reservation,
            "reservation.order",
            key.clone(),
            at,
            at + Duration::minutes(1),
            None,
        );
        if o % 2 == 0 && at + Duration::minutes(30) < now {
            let shipped = at + Duration::minutes(30);
            let shipment = format!("SH/{o}");
            shipping.entity(shipment.clone(), shipped, json!({"carrier": "post"}));
            shipping.reference(
                &shipment,
                "shipment.order",
                key.clone(),
                at,
                shipped,
                Some(json!({"status": "placed", "total": 20 + o})),
            );
            shipping.reference(
                &shipment,
                "shipment.address",
                format!("C/{c}"),
                customer_at(c),
                shipped,
                Some(json!({"name": format!("Customer {c}")})),
            );
        }
        if o % 5 == 0 && c < CUSTOMERS - 1 {
            let note = format!("N/{o}");
            notifications.entity(note.clone(), at, json!({"template": "order-confirmation"}));
            notifications.reference(
                &note,
                "notification.customer",
                format!("C/{c}"),
                customer_at(c),
                at,
                None,
            );
        }
    }
    // Four older orders shipped after the backup: their new status is lost
    // by the restore while shipping saw it (stale references, with copies).
    for o in [62, 64, 66, 68] {
        let changed = now - Duration::hours(3) + Duration::minutes(o);
        orders.entity(
            format!("O/{o}"),
            changed,
            json!({"status": "shipped", "total": 20 + o}),
        );
        shipping.reference(
            &format!("SH/{o}"),
            "shipment.order",
            format!("O/{o}"),
            changed,
            changed + Duration::minutes(2),
            Some(json!({"status": "shipped", "total": 20 + o})),
        );
    }
    vec![
        ("customers", customers.0),
        ("media", media.0),
        ("catalog", catalog.0),
        ("orders", orders.0),
        ("payments", payments.0),
        ("inventory", inventory.0),
        ("shipping", shipping.0),
        ("notifications", notifications.0),
    ]
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_topology_is_valid() {
        let topology = app::topology::document::parse(super::SHOP_TOPOLOGY).unwrap();
        assert_eq!(topology.services.len(), 8);
    }
}
