//! What the benchmarks share (each includes it with `mod support;`).

#![allow(dead_code)] // each benchmark uses part of it

use app::topology::model::{Backup, Relation, RelationKind, Service};
use sqlx::PgPool;

/// A service with nothing but a name.
pub fn bare_service(name: &str) -> Service {
    Service {
        name: name.into(),
        team: None,
        description: None,
        datastore: None,
        pattern: None,
        backup: Backup::default(),
        prefers: None,
    }
}

/// A required reference from `from` to `to`, named `from.to`.
pub fn reference(from: &str, to: &str, cached: bool) -> Relation {
    Relation {
        name: format!("{from}.{to}"),
        from: from.into(),
        to: to.into(),
        kind: RelationKind::Reference,
        required: true,
        cached,
        policy: None,
        on_broken: None,
    }
}

/// The bench database (`DATABASE_URL`), migrated, holding `topology`;
/// `None`, said on standard output, when no database is given.
pub async fn database(bench: &str, topology: &app::topology::model::Topology) -> Option<PgPool> {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        println!("{bench}: skipped (set DATABASE_URL)");
        return None;
    };
    let pool = PgPool::connect(&url).await.expect("DATABASE_URL reachable");
    lockstep::db::migrate(&pool).await.expect("migrations");
    app::topology::commands::replace(&pool, "bench", topology, true)
        .await
        .expect("the bench topology");
    Some(pool)
}

/// The baselines' load: `csv` COPYed into `table` (what `psql \copy` sends).
pub async fn copy_csv(pool: &PgPool, table: &str, csv: String) {
    let mut conn = pool.acquire().await.unwrap();
    let mut copy = conn
        .copy_in_raw(&format!("copy {table} from stdin (format csv)"))
        .await
        .unwrap();
    copy.send(csv.into_bytes()).await.unwrap();
    copy.finish().await.unwrap();
}

/// Serves the production router on a free port; returns its base URL.
pub async fn serve(pool: PgPool, admin_token: Option<&str>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let options = leptos::prelude::LeptosOptions::builder()
        .output_name("lockstep")
        .site_root("target/site")
        .site_addr(addr)
        .build();
    let state = app::state::AppState::new(options, pool, admin_token.map(str::to_string));
    let router = lockstep::startup::build_router(state);
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

/// A client signed in to the dashboard at `base` as a new viewer (pages
/// need a session; the API's bearer token does not open them).
pub async fn signed_in(pool: &PgPool, base: &str) -> reqwest::Client {
    use reqwest::cookie::CookieStore;
    const PASSWORD: &str = "bench-viewer-password";
    app::accounts::commands::create(
        pool,
        "bench",
        "bench-viewer",
        app::accounts::model::Role::Viewer,
        PASSWORD,
    )
    .await
    .expect("the bench's viewer");
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = client.get(format!("{base}/login")).send().await.unwrap();
    assert_eq!(login.status(), 200, "the sign-in page");
    let cookies = jar.cookies(&base.parse().unwrap()).expect("cookies");
    let csrf = app::accounts::csrf::cookie(cookies.to_str().unwrap(), app::accounts::csrf::COOKIE)
        .expect("a CSRF cookie")
        .to_string();
    let signed = client
        .post(format!("{base}/api/fn/login"))
        .header(app::accounts::csrf::HEADER, csrf)
        .form(&[("name", "bench-viewer"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(
        signed.status().is_success() || signed.status().is_redirection(),
        "sign-in: {}",
        signed.status()
    );
    client
}

/// Starts a new peak of this process's resident memory (Linux: writing 5
/// to `clear_refs` resets `VmHWM`).
pub fn reset_peak_memory() {
    std::fs::write("/proc/self/clear_refs", "5").expect("a Linux /proc");
}

/// This process's peak resident memory since `reset_peak_memory`, in MiB.
/// The benches run the server in their own process, so this bounds the
/// server's from above (the client's side is counted too).
pub fn peak_memory_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("a Linux /proc");
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status");
    kib / 1024.0
}
