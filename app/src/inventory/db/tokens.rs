//! Per-service API tokens: minted once and shown once, stored as a SHA-256
//! hash. The tokens are 256 random bits, so a fast hash is enough; a slow
//! password hash would only slow every ingest request down.

use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::error::AppError;

/// Prefix that makes a leaked token recognisable in logs and scanners.
const PREFIX: &str = "lst_";

pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Mints a token for the service and returns it; only its hash is kept.
pub async fn mint(db: &PgPool, service_id: i64) -> Result<String, AppError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|error| {
        tracing::error!(%error, "no randomness for a token");
        AppError::Internal
    })?;
    let token = format!("{PREFIX}{}", hex::encode(bytes));
    sqlx::query("insert into service_token (service_id, token_sha256) values ($1, $2)")
        .bind(service_id)
        .bind(hash(&token))
        .execute(db)
        .await?;
    Ok(token)
}

/// The service a token was minted for (id and name), if it is one of ours.
pub async fn service_of(db: &PgPool, token: &str) -> Result<Option<(i64, String)>, AppError> {
    Ok(sqlx::query_as(
        "select service_id, s.name from service_token t join service s using (service_id)
         where t.token_sha256 = $1",
    )
    .bind(hash(token))
    .fetch_optional(db)
    .await?)
}
