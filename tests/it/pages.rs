//! Server-rendered pages: every section renders, unknown paths are 404.

use sqlx::PgPool;

use app::accounts::model::Role;

use crate::helpers::{spawn_app, Browser};

#[sqlx::test]
async fn every_section_renders_with_the_navigation(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let browser = Browser::signed_in(&app, &pool, "paula", Role::Viewer).await;
    for (path, heading) in [
        ("/", "Overview"),
        ("/topology", "Topology"),
        ("/groups", "Lockstep groups"),
        ("/inventory", "Inventory"),
        ("/restores", "Restores"),
        ("/queue", "Reconciliation queue"),
    ] {
        let response = browser.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        let html = response.text().await.unwrap();
        assert!(
            html.contains(&format!(">{heading}</h1>")),
            "{path} lacks its heading"
        );
        assert!(
            html.contains(r#"aria-label="Main""#),
            "{path} lacks the navigation"
        );
        assert!(
            html.contains("/pkg/lockstep.js"),
            "{path} lacks the hydration script"
        );
    }
}

#[sqlx::test]
async fn an_unknown_path_is_a_404_page(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let browser = Browser::signed_in(&app, &pool, "paula", Role::Viewer).await;
    let response = browser.get("/no/such/page").await;
    assert_eq!(response.status(), 404);
    assert!(response.text().await.unwrap().contains("Page not found"));
}

#[sqlx::test]
async fn responses_carry_a_request_id(pool: PgPool) {
    let app = spawn_app(pool).await;
    let response = app.get("/healthz").await;
    let id = response
        .headers()
        .get("x-request-id")
        .expect("x-request-id");
    assert_eq!(id.len(), 36, "a UUID: {id:?}");
}

#[sqlx::test]
async fn the_site_root_serves_the_favicon_and_robots_txt_to_anyone(pool: PgPool) {
    let app = spawn_app(pool).await;
    let browser = Browser::open(&app).await; // nobody signed in
    let robots = browser.get("/robots.txt").await;
    assert_eq!(robots.status(), 200);
    assert!(robots.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    assert!(robots.text().await.unwrap().contains("Disallow: /"));
    let icon = browser.get("/favicon.ico").await;
    assert_eq!(icon.status(), 200);
    assert_eq!(icon.headers()["content-type"], "image/x-icon");
    // An ICO file's header: reserved 0, type 1 (icon).
    assert_eq!(&icon.bytes().await.unwrap()[..4], &[0, 0, 1, 0]);
    let svg = browser.get("/favicon.svg").await;
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    // Pages point at them.
    let login = browser.html("/login").await;
    assert!(login.contains(r#"href="/favicon.svg""#));
}

#[sqlx::test]
async fn the_queue_page_reads_its_address_as_the_api_does(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let browser = Browser::signed_in(&app, &pool, "quinn", Role::Viewer).await;
    // The API refuses a bad number with a 422 naming it; the page says so
    // instead of dropping the value.
    let api = browser.get("/api/v1/findings?restore=abc").await;
    assert_eq!(api.status(), 422);
    let page = browser.html("/queue?restore=abc").await;
    assert!(
        page.contains(r#"data-testid="bad-filter""#),
        "no error shown"
    );
    assert!(page.contains("is not a number"), "{page}");
}

/// The groups page draws each group's newest backups on one axis and flags
/// a group whose members' backups are not one moment.
#[sqlx::test]
async fn a_group_whose_backups_lie_hours_apart_is_flagged(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let model = "
services:
  - {name: customers, backup: {duration: 10m}}
  - {name: orders, backup: {duration: 5m}}
  - {name: billing}
  - {name: ledger}
relations:
  - {name: order.customer, from: orders, to: customers}
  - {name: billing.ledger, from: billing, to: ledger}
";
    assert_eq!(
        app.put_topology("application/yaml", model).await.status(),
        200
    );
    for (service, at) in [
        ("customers", "2026-11-01T02:00:00Z"),
        ("orders", "2026-11-01T05:00:00Z"),
        ("billing", "2026-11-01T05:00:00Z"),
        ("ledger", "2026-11-01T05:00:30Z"),
    ] {
        let response = app
            .admin(
                reqwest::Method::POST,
                &format!("/api/v1/services/{service}/backups"),
            )
            .json(&serde_json::json!({"taken_at": at}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
    }
    let browser = Browser::signed_in(&app, &pool, "gina", Role::Viewer).await;
    let html = browser.html("/groups").await;
    let figure = |group: &str| -> String {
        let card = html
            .split(r#"data-testid="lockstep-group""#)
            .find(|card| card.contains(&format!(r#"data-group="{group}""#)))
            .unwrap_or_else(|| panic!("no group {group}"));
        card.split("</figure>").next().unwrap().to_string()
    };
    let shop = figure("customers");
    assert!(shop.contains(r#"data-flagged="true""#), "{shop}");
    assert!(shop.contains("3h apart"), "{shop}");
    let books = figure("billing");
    assert!(books.contains(r#"data-flagged="false""#), "{books}");
}

/// A restore's queue opens on its pictures: the timeline with the writes
/// it lost and the repairs since, and the burndown of its findings.
#[sqlx::test]
async fn a_restores_queue_draws_its_timeline_and_burndown(pool: PgPool) {
    use crate::restores::{entity, report, restore, restored_shop, BACKUP, RESTORED};
    let app = restored_shop(&pool).await;
    let (_, body) = restore(
        &app,
        serde_json::json!({"taken_at": BACKUP, "restored_at": RESTORED}),
    )
    .await;
    let id = body["id"].as_i64().unwrap();
    let browser = Browser::signed_in(&app, &pool, "tess", Role::Viewer).await;
    let story = |html: &str| -> (usize, usize) {
        let count = |group: &str| {
            html.split(&format!(r#"data-testid="{group}""#))
                .nth(1)
                .and_then(|rest| rest.split("</g>").next())
                .map_or(0, |g| g.matches("<line").count())
        };
        (count("lost-writes"), count("repairs"))
    };
    let lost: i64 = sqlx::query_scalar(
        "select count(*) from entity_version v join service s on s.service_id = v.service_id
         where s.name = 'customers' and v.lost",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(lost > 0);
    let html = browser.html(&format!("/queue?restore={id}")).await;
    assert!(
        html.contains(r#"data-testid="restore-timeline""#),
        "no timeline"
    );
    assert_eq!(story(&html), (lost as usize, 0));
    assert!(
        html.contains("Amber pending 6, green verified 0, grey decided 0"),
        "{html}"
    );

    // C/3 comes back: its two broken links are repaired, and drawn so.
    report(&app, "customers", vec![entity("C/3", "15:30")]).await;
    let html = browser.html(&format!("/queue?restore={id}")).await;
    assert_eq!(story(&html), (lost as usize, 2));
    assert!(
        html.contains("Amber pending 4, green verified 2, grey decided 0"),
        "{html}"
    );
}
