//! Live updates for the dashboard: every change to the queue is announced
//! by PostgreSQL (`NOTIFY lockstep_findings`, sent by restores and by every
//! operator action, from any server process) and relayed to the browsers
//! watching the queue as server-sent events. The event carries no data:
//! pages refetch what they show, so nothing can be shown stale or partial.
//! A suspected restore raised by a collected snapshot (`NOTIFY
//! lockstep_suspected_restores`) goes out as a `suspected-restore` event
//! naming the service.

use std::{convert::Infallible, time::Duration};

use app::restores::db::suspected;
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

/// What happened, as the stream tells it.
#[derive(Clone, Debug)]
enum Notice {
    Findings,
    /// The service a suspicion was raised (or renewed) for.
    SuspectedRestore(String),
}

/// Fans the database's notifications out to every open event stream.
#[derive(Clone)]
pub struct Live(broadcast::Sender<Notice>);

impl Live {
    /// Starts relaying notifications; reconnects by itself when the
    /// database goes away.
    pub fn start(pool: PgPool) -> Live {
        let (sender, _) = broadcast::channel(16);
        tokio::spawn(relay(pool, sender.clone()));
        Live(sender)
    }
}

async fn relay(pool: PgPool, sender: broadcast::Sender<Notice>) {
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

async fn listen(pool: &PgPool, sender: &broadcast::Sender<Notice>) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen_all([CHANNEL, suspected::CHANNEL]).await?;
    loop {
        let notification = listener.recv().await?;
        let notice = if notification.channel() == suspected::CHANNEL {
            Notice::SuspectedRestore(notification.payload().to_string())
        } else {
            Notice::Findings
        };
        // No subscriber is fine: nobody is looking at the queue.
        let _ = sender.send(notice);
    }
}

pub fn router() -> Router<app::state::AppState> {
    Router::new().route("/api/live/findings", get(findings))
}

/// `text/event-stream`: one `findings` event per change (bursts coalesce),
/// and a `suspected-restore` event (data: the service) per suspicion.
async fn findings(
    _: crate::auth::api::Reader,
    Extension(live): Extension<Live>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let receiver = live.0.subscribe();
    let events = stream::unfold(receiver, |mut receiver| async move {
        let event = match receiver.recv().await {
            Ok(Notice::SuspectedRestore(service)) => {
                Event::default().event("suspected-restore").data(service)
            }
            Ok(Notice::Findings) | Err(broadcast::error::RecvError::Lagged(_)) => {
                Event::default().event("findings").data("changed")
            }
            Err(broadcast::error::RecvError::Closed) => return None,
        };
        Some((Ok(event), receiver))
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}
