//! `/healthz` follows the database: 200 while it answers, 503 with a reason
//! while it is away, 200 again once it is back, without a restart.
//!
//! The outage is real at the TCP level: the pool talks to PostgreSQL through
//! a proxy that the test cuts (closing every connection and refusing new
//! ones) and restores.

use std::net::SocketAddr;

use serde_json::Value;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::spawn_app;
use crate::outage::Outage;

#[sqlx::test]
async fn healthz_follows_the_database_and_recovers(_: PgPoolOptions, options: PgConnectOptions) {
    let target: SocketAddr = format!("{}:{}", options.get_host(), options.get_port())
        .parse()
        .expect("the test database listens on TCP");
    let outage = Outage::start(target).await;
    let pool = outage.pool(options);
    let app = spawn_app(pool).await;

    let healthy = app.get("/healthz").await;
    assert_eq!(healthy.status(), 200);
    assert_eq!(healthy.json::<Value>().await.unwrap()["database"], "up");

    outage.stop();
    let down = app.get("/healthz").await;
    assert_eq!(down.status(), 503);
    let body: Value = down.json().await.unwrap();
    assert_eq!(body["database"], "down");
    assert!(body["reason"].as_str().is_some_and(|r| !r.is_empty()));

    outage.restart();
    let recovered = app.get("/healthz").await;
    assert_eq!(recovered.status(), 200, "{:?}", recovered.text().await);
}
