//! Lockstep's API as a collector (or `lockstep backup run`) calls it, with
//! a service's token.

use std::time::Duration;

use anyhow::anyhow;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

pub struct Lockstep {
    base: String,
    token: String,
    http: reqwest::Client,
}

/// What went wrong talking to Lockstep: worth retrying as it is (it is
/// away or busy), or refused (the collector's data or config is at fault).
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("Lockstep is unreachable or busy: {0}")]
    Away(String),
    #[error("Lockstep refused it ({status}): {body}")]
    Refused { status: u16, body: String },
}

impl Lockstep {
    pub fn new(base: &str, token: &str) -> Lockstep {
        Lockstep {
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(600))
                .build()
                .expect("an HTTP client without TLS always builds"),
        }
    }

    fn service_url(&self, service: &str, tail: &str) -> String {
        format!("{}/api/v1/services/{service}/{tail}", self.base)
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Option<Value>, CallError> {
        let response = request
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|error| CallError::Away(error.to_string()))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|error| CallError::Away(error.to_string()))?;
        if status.is_server_error() || status.as_u16() == 429 {
            return Err(CallError::Away(format!("{status}: {body}")));
        }
        if !status.is_success() {
            return Err(CallError::Refused {
                status: status.as_u16(),
                body,
            });
        }
        Ok(serde_json::from_str(&body).ok())
    }

    /// NDJSON events, applied all or none (idempotent by their `seq`).
    pub async fn post_events(&self, service: &str, body: String) -> Result<(), CallError> {
        let request = self
            .http
            .post(self.service_url(service, "events"))
            .header("content-type", "application/x-ndjson")
            .body(body);
        self.send(request).await.map(drop)
    }

    /// The service's complete state as of `at`.
    pub async fn put_snapshot(
        &self,
        service: &str,
        at: DateTime<Utc>,
        body: String,
    ) -> Result<(), CallError> {
        let request = self
            .http
            .put(self.service_url(service, "inventory"))
            .query(&[("at", at.to_rfc3339())])
            .header("content-type", "application/x-ndjson")
            .body(body);
        self.send(request).await.map(drop)
    }

    /// The collector's progress and resume point.
    pub async fn report(&self, service: &str, report: &Value) -> Result<(), CallError> {
        let request = self
            .http
            .put(self.service_url(service, "collector"))
            .json(report);
        self.send(request).await.map(drop)
    }

    /// The watermarks this service's collector last reported, if any.
    pub async fn watermarks(&self, service: &str) -> Result<Option<Value>, CallError> {
        let request = self.http.get(self.service_url(service, "collector"));
        match self.send(request).await {
            Ok(status) => Ok(status.and_then(|s| s.get("watermarks").cloned())),
            Err(CallError::Refused { status: 404, body }) if body.contains("collector") => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Records a backup of the service taken at `taken_at`; its id.
    pub async fn record_backup(
        &self,
        service: &str,
        taken_at: DateTime<Utc>,
        label: Option<&str>,
    ) -> anyhow::Result<i64> {
        let request = self
            .http
            .post(self.service_url(service, "backups"))
            .json(&json!({"taken_at": taken_at, "label": label}));
        let created = self.send(request).await?;
        created
            .and_then(|c| c["id"].as_i64())
            .ok_or_else(|| anyhow!("Lockstep answered without the backup's id"))
    }
}
