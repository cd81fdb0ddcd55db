//! `/healthz` follows the database: 200 while it answers, 503 with a reason
//! while it is away, 200 again once it is back, without a restart.
//!
//! The outage is real at the TCP level: the pool talks to PostgreSQL through
//! a proxy that the test cuts (closing every connection and refusing new
//! ones) and restores.

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
};

use serde_json::Value;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::watch,
};

use crate::helpers::spawn_app;

/// A TCP relay to PostgreSQL that can be switched off and on.
struct Outage {
    addr: SocketAddr,
    up: Arc<AtomicBool>,
    cut: watch::Sender<u64>,
}

impl Outage {
    async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let (cut, _) = watch::channel(0u64);
        let (up_loop, cut_loop) = (up.clone(), cut.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                if !up_loop.load(Ordering::SeqCst) {
                    continue; // dropping the socket refuses the connection
                }
                let mut cut_rx = cut_loop.subscribe();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut_rx.changed() => {}
                    }
                });
            }
        });
        Self { addr, up, cut }
    }

    fn stop(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cut.send_modify(|n| *n += 1);
    }

    fn restart(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

#[sqlx::test]
async fn healthz_follows_the_database_and_recovers(_: PgPoolOptions, options: PgConnectOptions) {
    let target: SocketAddr = format!("{}:{}", options.get_host(), options.get_port())
        .parse()
        .expect("the test database listens on TCP");
    let outage = Outage::start(target).await;
    let pool = PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_secs(2))
        .connect_lazy_with(options.host("127.0.0.1").port(outage.addr.port()));
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
