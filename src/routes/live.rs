//! Live updates for the dashboard: every change to the queue is announced
//! by PostgreSQL (`NOTIFY lockstep_findings`, sent by restores and by every
//! operator action, from any server process) and relayed to the browsers
//! watching the queue as server-sent events. The event carries no data:
//! pages refetch what they show, so nothing can be shown stale or partial.

use std::{convert::Infallible, time::Duration};

use axum::{
    response::sse::{Event, KeepAlive, Sse},
    routing::get,
    Extension, Router,
};
use futures_util::stream::{self, Stream};
use sqlx::{postgres::PgListener, PgPool};
use tokio::sync::broadcast;

/// The channel restores and queue actions notify.
const CHANNEL: &str = "lockstep_findings";

/// Fans the database's notifications out to every open event stream.
#[derive(Clone)]
pub struct Live(broadcast::Sender<()>);

impl Live {
    /// Starts relaying notifications; reconnects by itself when the
    /// database goes away.
    pub fn start(pool: PgPool) -> Live {
        let (sender, _) = broadcast::channel(16);
        tokio::spawn(relay(pool, sender.clone()));
        Live(sender)
    }
}

async fn relay(pool: PgPool, sender: broadcast::Sender<()>) {
    loop {
        match listen(&pool, &sender).await {
            Ok(()) => return,
            Err(error) => {
                tracing::warn!(%error, "live updates interrupted; reconnecting");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    }
}

async fn listen(pool: &PgPool, sender: &broadcast::Sender<()>) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    loop {
        listener.recv().await?;
        // No subscriber is fine: nobody is looking at the queue.
        let _ = sender.send(());
    }
}

pub fn router() -> Router<app::state::AppState> {
    Router::new().route("/api/live/findings", get(findings))
}

/// `text/event-stream`: one `findings` event per change (bursts coalesce).
async fn findings(
    _: crate::auth::api::Reader,
    Extension(live): Extension<Live>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let receiver = live.0.subscribe();
    let events = stream::unfold(receiver, |mut receiver| async move {
        match receiver.recv().await {
            Ok(()) | Err(broadcast::error::RecvError::Lagged(_)) => Some((
                Ok(Event::default().event("findings").data("changed")),
                receiver,
            )),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}
