//! Accounts, roles, sessions and CSRF: each role against each kind of
//! route, refused by the server (not only hidden by the pages).

use app::accounts::model::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::{spawn_app, Browser, TestApp, PASSWORD};

const MODEL: &str = "
services:
  - {name: orders}
  - {name: customers}
relations:
  - {name: order.customer, from: orders, to: customers}
";

async fn modelled(pool: &PgPool) -> TestApp {
    let app = spawn_app(pool.clone()).await;
    assert_eq!(
        app.put_topology("application/yaml", MODEL).await.status(),
        200
    );
    app
}

/// What each kind of route answers to a browser of this role: read a
/// server function and an API route, operate, design, administer.
async fn answers(browser: &Browser) -> [StatusCode; 8] {
    let read_fn = browser
        .call_json("queue_counts", json!({"filter": {}}))
        .await
        .status();
    let read_api = browser.get("/api/v1/findings").await.status();
    let operate_fn = browser
        .call_json("claim_next", json!({"filter": {}}))
        .await
        .status();
    let operate_api = browser
        .send(Method::POST, "/api/v1/findings/claim-next")
        .send()
        .await
        .unwrap()
        .status();
    let design_fn = browser
        .call(
            "set_relation_policy",
            &[("relation", "order.customer"), ("policy", "tolerate")],
        )
        .await
        .status();
    let design_api = browser
        .send(Method::PUT, "/api/v1/topology")
        .header("content-type", "application/yaml")
        .body(MODEL)
        .send()
        .await
        .unwrap()
        .status();
    let admin_fn = browser.call("list_accounts", &[]).await.status();
    let admin_api = browser.get("/api/v1/users").await.status();
    [
        read_fn,
        read_api,
        operate_fn,
        operate_api,
        design_fn,
        design_api,
        admin_fn,
        admin_api,
    ]
}

#[sqlx::test]
async fn each_role_may_what_it_should_and_the_server_refuses_the_rest(pool: PgPool) {
    let app = modelled(&pool).await;
    const OK: StatusCode = StatusCode::OK;
    const NONE: StatusCode = StatusCode::NO_CONTENT; // claim-next with nothing to claim
    const NO: StatusCode = StatusCode::FORBIDDEN;
    let expected = [
        (Role::Viewer, [OK, OK, NO, NO, NO, NO, NO, NO]),
        (Role::Operator, [OK, OK, OK, NONE, NO, NO, NO, NO]),
        (Role::Architect, [OK, OK, NO, NO, OK, OK, NO, NO]),
        (Role::Admin, [OK, OK, OK, NONE, OK, OK, OK, OK]),
    ];
    for (role, statuses) in expected {
        let browser = Browser::signed_in(&app, &pool, role.as_str(), role).await;
        assert_eq!(answers(&browser).await, statuses, "{role:?}");
    }

    // Nobody signed in: 401 everywhere, and pages send them to sign in.
    let anonymous = Browser::open(&app).await;
    let statuses = answers(&anonymous).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    let page = anonymous.get("/queue?kind=broken_link").await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        page.headers()["location"],
        "/login?next=/queue%3Fkind%3Dbroken_link"
    );
    for path in ["/queue/export.csv", "/topology.yaml", "/api/live/findings"] {
        assert_eq!(anonymous.get(path).await.status(), 401, "{path}");
    }
}

#[sqlx::test]
async fn a_change_without_the_csrf_token_is_refused(pool: PgPool) {
    let app = modelled(&pool).await;
    let operator = Browser::signed_in(&app, &pool, "olga", Role::Operator).await;
    let claim = |token: Option<&str>| {
        let mut request = operator
            .client
            .post(app.url("/api/fn/claim_next"))
            .json(&json!({"filter": {}}));
        if let Some(token) = token {
            request = request.header("x-csrf-token", token);
        }
        request.send()
    };
    let missing = claim(None).await.unwrap();
    assert_eq!(missing.status(), 403);
    let body: Value = missing.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("CSRF"), "{body}");
    assert_eq!(claim(Some("forged")).await.unwrap().status(), 403);
    assert_eq!(claim(Some(&operator.csrf())).await.unwrap().status(), 200);

    // A bearer token is not ambient authority: no CSRF token needed.
    let api = app
        .admin(Method::POST, "/api/v1/findings/claim-next")
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 204);
}

#[sqlx::test]
async fn a_wrong_password_is_refused_and_repeated_failures_lock_the_name(pool: PgPool) {
    let app = modelled(&pool).await;
    app::accounts::commands::create(&pool, "test", "wendy", Role::Viewer, PASSWORD)
        .await
        .unwrap();
    let browser = Browser::open(&app).await;
    let wrong = browser.login("wendy", "not her password").await;
    assert_eq!(wrong.status(), 401);
    assert!(wrong
        .text()
        .await
        .unwrap()
        .contains("wrong name or password"));
    let unknown = browser.login("nobody", "whatever at all").await;
    assert_eq!(unknown.status(), 401);
    assert_eq!(browser.call("list_accounts", &[]).await.status(), 401);

    for _ in 0..4 {
        assert_eq!(browser.login("wendy", "guess again").await.status(), 401);
    }
    // Five failures: even the right password waits now.
    let locked = browser.login("wendy", PASSWORD).await;
    assert_eq!(locked.status(), 429);
    assert!(locked
        .text()
        .await
        .unwrap()
        .contains("too many failed logins"));
}

#[sqlx::test]
async fn sessions_end_at_logout_expiry_and_account_deletion(pool: PgPool) {
    let app = modelled(&pool).await;
    async fn read(b: &Browser) -> StatusCode {
        b.call_json("queue_counts", json!({"filter": {}}))
            .await
            .status()
    }

    let leaving = Browser::signed_in(&app, &pool, "lea", Role::Viewer).await;
    assert_eq!(read(&leaving).await, 200);
    assert_eq!(leaving.call("logout", &[]).await.status(), 200);
    assert_eq!(read(&leaving).await, 401);

    let expiring = Browser::signed_in(&app, &pool, "eve", Role::Viewer).await;
    assert_eq!(read(&expiring).await, 200);
    sqlx::query("update tower_sessions.session set expiry_date = now() - interval '1 minute'")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(read(&expiring).await, 401);

    // A changed role and a deleted account take effect at once.
    let admin = Browser::signed_in(&app, &pool, "ada", Role::Admin).await;
    let demoted = Browser::signed_in(&app, &pool, "otto", Role::Operator).await;
    let claim = || demoted.call_json("claim_next", json!({"filter": {}}));
    assert_eq!(claim().await.status(), 200);
    let change = admin
        .call(
            "save_account",
            &[("name", "otto"), ("role", "viewer"), ("create", "false")],
        )
        .await;
    assert_eq!(change.status(), 200, "{}", change.text().await.unwrap());
    assert_eq!(claim().await.status(), 403);
    assert_eq!(
        admin
            .call("delete_account", &[("name", "otto")])
            .await
            .status(),
        200
    );
    assert_eq!(claim().await.status(), 401);

    // The last admin cannot go.
    let last = admin.call("delete_account", &[("name", "ada")]).await;
    assert_eq!(last.status(), 409);
}

#[sqlx::test]
async fn admins_see_who_changed_the_topology_and_recorded_restores(pool: PgPool) {
    let app = modelled(&pool).await;
    let architect = Browser::signed_in(&app, &pool, "archie", Role::Architect).await;
    let flip = architect
        .call(
            "set_relation_policy",
            &[("relation", "order.customer"), ("policy", "tolerate")],
        )
        .await;
    assert_eq!(flip.status(), 200);
    let operator = Browser::signed_in(&app, &pool, "opal", Role::Operator).await;
    let drill = operator
        .call(
            "record_restore",
            &[
                ("service", "customers"),
                ("at", "2026-11-01T12:00"),
                ("drill", "true"),
            ],
        )
        .await;
    assert_eq!(drill.status(), 200, "{}", drill.text().await.unwrap());
    let report: Value = drill.json().await.unwrap();
    assert_eq!(report["recorded_by"], "opal");

    let admin = Browser::signed_in(&app, &pool, "ada", Role::Admin).await;
    let log: Value = admin.call("audit_log", &[]).await.json().await.unwrap();
    let entries: Vec<(String, String, String)> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let text = |k: &str| e[k].as_str().unwrap().to_string();
            (text("actor"), text("action"), text("subject"))
        })
        .collect();
    assert!(
        entries.contains(&(
            "archie".into(),
            "set relation policy".into(),
            "order.customer".into()
        )),
        "{entries:?}"
    );
    assert!(
        entries.contains(&("opal".into(), "drill restore".into(), "customers".into())),
        "{entries:?}"
    );
    assert!(
        entries.contains(&(
            "admin token".into(),
            "upload topology".into(),
            "topology".into()
        )),
        "{entries:?}"
    );
    assert_eq!(operator.call("audit_log", &[]).await.status(), 403);
}

#[sqlx::test]
async fn pages_carry_the_security_headers_and_the_signed_in_user(pool: PgPool) {
    let app = modelled(&pool).await;
    let viewer = Browser::signed_in(&app, &pool, "vera", Role::Viewer).await;
    let page = viewer.get("/queue").await;
    assert_eq!(page.status(), 200);
    let headers = page.headers().clone();
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    let html = page.text().await.unwrap();
    assert!(
        html.contains(r#"name="lockstep-user""#),
        "the shell names the user"
    );
    assert!(html.contains("vera"));
    // The session cookie is out of scripts' reach and never cross-site.
    let browser = Browser::open(&app).await;
    let login = browser
        .send(Method::POST, "/api/fn/login")
        .form(&[("name", "vera"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let cookie = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("lockstep_session="))
        .expect("a session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
}

#[sqlx::test]
async fn the_first_admin_comes_from_the_environment_only_into_an_empty_database(pool: PgPool) {
    lockstep::accounts::first_admin(&pool, "root-admin", PASSWORD)
        .await
        .unwrap();
    lockstep::accounts::first_admin(&pool, "second", PASSWORD)
        .await
        .unwrap();
    let names: Vec<String> = sqlx::query_scalar("select name from account")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(names, ["root-admin"]);
    // Bad input for an account is a clear refusal, and nothing is created.
    let short =
        app::accounts::commands::create(&pool, "test", "shorty", Role::Viewer, "short").await;
    assert!(
        matches!(short, Err(app::error::AppError::Invalid { ref field, .. }) if field == "password")
    );
    let taken =
        app::accounts::commands::create(&pool, "test", "root-admin", Role::Viewer, PASSWORD).await;
    assert!(matches!(taken, Err(app::error::AppError::Conflict(_))));
}

#[sqlx::test]
async fn the_page_the_api_and_the_cli_create_accounts_alike(pool: PgPool) {
    let app = modelled(&pool).await;
    // The API, with a padded name: stored and audited trimmed.
    let response = app
        .admin(Method::POST, "/api/v1/users")
        .json(&json!({"name": "  padded ", "role": "viewer", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.json::<Value>().await.unwrap()["name"], "padded");
    // The Users page's server function, the same way.
    let admin = Browser::signed_in(&app, &pool, "root-admin", Role::Admin).await;
    let created = admin
        .call(
            "save_account",
            &[
                ("name", " spaced  "),
                ("role", "operator"),
                ("password", PASSWORD),
                ("create", "true"),
            ],
        )
        .await;
    assert_eq!(created.status(), 200, "{}", created.text().await.unwrap());
    for name in ["padded", "spaced"] {
        let browser = Browser::open(&app).await;
        assert_eq!(browser.login(name, PASSWORD).await.status(), 200, "{name}");
    }
    let audited: Vec<(String, String)> = sqlx::query_as(
        "select actor, subject from audit_event where action = 'create account' order by audit_event_id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        audited,
        [
            ("admin token", "padded"),
            ("test", "root-admin"),
            ("root-admin", "spaced")
        ]
        .map(|(a, s)| (a.to_string(), s.to_string()))
    );
}

/// The `Location` a plain form's answer sends the browser to.
fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_string()
}

#[sqlx::test]
async fn sign_in_and_out_work_as_plain_forms_with_the_token_in_a_field(pool: PgPool) {
    let app = modelled(&pool).await;
    app::accounts::commands::create(&pool, "test", "nina", Role::Operator, PASSWORD)
        .await
        .unwrap();
    let browser = Browser::open(&app).await;
    // The login page's form carries the token the cookie holds.
    let page = browser
        .get("/login?next=/queue")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"method="post""#),
        "the sign-in form is a POST"
    );
    assert!(page.contains(&format!(r#"value="{}""#, browser.csrf())));
    let fields = [("name", "nina"), ("password", PASSWORD), ("next", "/queue")];
    // Without the field it is refused, as a forged form would be.
    let forged = browser
        .submit_form("/login?next=/queue", "/api/fn/login", &fields, false)
        .await;
    assert_eq!(forged.status(), 403);
    assert_eq!(browser.get("/queue").await.status(), 303, "not signed in");
    // A wrong password: back to the page, with the error for it to show.
    let wrong = browser
        .submit_form(
            "/login?next=/queue",
            "/api/fn/login",
            &[
                ("name", "nina"),
                ("password", "not it at all"),
                ("next", "/queue"),
            ],
            true,
        )
        .await;
    assert_eq!(wrong.status(), 302);
    let back = location(&wrong);
    assert!(
        back.contains("/login?next=/queue") && back.contains("__err"),
        "{back}"
    );
    let shown = browser.get(&back.replace(&app.address, "")).await;
    assert!(shown
        .text()
        .await
        .unwrap()
        .contains("wrong name or password"));
    // The right one: signed in and sent where it was going.
    let signed_in = browser
        .submit_form("/login?next=/queue", "/api/fn/login", &fields, true)
        .await;
    assert_eq!(signed_in.status(), 302);
    assert_eq!(location(&signed_in), "/queue");
    assert_eq!(browser.get("/queue").await.status(), 200);
    // Signing out, the same way.
    let out = browser
        .submit_form("/queue", "/api/fn/logout", &[], true)
        .await;
    assert_eq!(out.status(), 302);
    assert_eq!(location(&out), "/login");
    assert_eq!(browser.get("/queue").await.status(), 303);
}
