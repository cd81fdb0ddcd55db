//! Runs a transaction again when PostgreSQL aborted it to break a deadlock
//! or a serialization failure (`AppError::Contended`). PostgreSQL's own
//! advice is to retry such transactions; the writers that need it are the
//! ones that update rows of several services at once, such as two ingests
//! of services that refer to each other, each adding to the other's
//! dependency counters.

use std::future::Future;
use std::time::Duration;

use crate::error::AppError;

/// Tries in all, the first included.
const ATTEMPTS: u32 = 4;

/// Runs `transaction` until it is not aborted by a concurrent one, at most
/// `ATTEMPTS` times, waiting a little longer before each retry (the other
/// side holds its locks until it commits). The last failure is returned
/// as it is.
pub async fn when_contended<T, Fut>(mut transaction: impl FnMut() -> Fut) -> Result<T, AppError>
where
    Fut: Future<Output = Result<T, AppError>>,
{
    let mut attempt = 1;
    loop {
        match transaction().await {
            Err(AppError::Contended) if attempt < ATTEMPTS => {
                tracing::info!(
                    attempt,
                    "retrying a transaction aborted by a concurrent one"
                );
                tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
                attempt += 1;
            }
            outcome => return outcome,
        }
    }
}
