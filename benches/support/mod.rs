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
