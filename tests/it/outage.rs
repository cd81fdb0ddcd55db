//! A database outage for tests: the pool talks to PostgreSQL through a TCP
//! relay that a test cuts (closing every connection and refusing new ones)
//! and restores.

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
};

use sqlx::{
    postgres::{PgConnectOptions, PgPoolOptions},
    PgPool,
};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::watch,
};

/// A TCP relay to PostgreSQL that can be switched off and on.
pub struct Outage {
    addr: SocketAddr,
    up: Arc<AtomicBool>,
    cut: watch::Sender<u64>,
}

impl Outage {
    pub async fn start(target: SocketAddr) -> Self {
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

    pub fn stop(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cut.send_modify(|n| *n += 1);
    }

    pub fn restart(&self) {
        self.up.store(true, Ordering::SeqCst);
    }

    /// A pool that reaches the test's database through this relay, and
    /// gives up on a connection after two seconds.
    pub fn pool(&self, options: PgConnectOptions) -> PgPool {
        PgPoolOptions::new()
            .acquire_timeout(std::time::Duration::from_secs(2))
            .connect_lazy_with(options.host("127.0.0.1").port(self.addr.port()))
    }
}
