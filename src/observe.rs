//! One log line and one metrics sample per request: request id, route
//! template, status, latency and who called (the signed-in account or the
//! bearer token's service). With `LOCKSTEP_LOG_FORMAT=json` each request is
//! one JSON object on one line; at a terminal it is a readable line.

use std::{
    sync::{Arc, OnceLock},
    time::Instant,
};

use app::metrics::METRICS;
use axum::{
    extract::{MatchedPath, Request},
    middleware::Next,
    response::Response,
};

use crate::startup::REQUEST_ID;

/// Who made the request, filled in by whatever authenticates it (the
/// session middleware or the bearer-token extractor) and read when the
/// response is logged. A slot, because authentication happens deeper in
/// the stack than the log line is written.
#[derive(Clone, Default)]
pub struct Actor(Arc<OnceLock<String>>);

impl Actor {
    /// Names the caller; the first name given wins.
    pub fn set(&self, who: impl Into<String>) {
        let _ = self.0.set(who.into());
    }

    fn get(&self) -> &str {
        self.0.get().map_or("-", String::as_str)
    }
}

/// Names the caller for the request log, if the request passed through
/// [`requests`] (it always does in the served router).
pub fn attribute(extensions: &axum::http::Extensions, who: impl Into<String>) {
    if let Some(actor) = extensions.get::<Actor>() {
        actor.set(who);
    }
}

/// Times the request, then logs it and counts it by route template (not by
/// path, which would make one series per finding id). Static assets are
/// counted but logged only at trace level: a page load fetches several.
pub async fn requests(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let actor = Actor::default();
    request.extensions_mut().insert(actor.clone());
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| unmatched(&path), |m| label(m.as_str()));
    let request_id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();

    let response = next.run(request).await;

    let took = started.elapsed();
    let status = response.status().as_u16();
    METRICS.request(method.as_str(), &route, status, took);
    let latency_ms = took.as_secs_f64() * 1000.0;
    if route == "/pkg/:asset" {
        tracing::trace!(target: "lockstep::request", request_id, %method, route, path, status, latency_ms, actor = actor.get());
    } else {
        tracing::info!(target: "lockstep::request", request_id, %method, route, path, status, latency_ms, actor = actor.get());
    }
    response
}

/// A route template as a label value: `/findings/{id}` becomes
/// `/findings/:id`, since some exposition parsers stop a label set at the
/// first closing brace, even inside a quoted value.
fn label(template: &str) -> String {
    template.replace('{', ":").replace('}', "")
}

/// The label for a request no route matched: static files share one, the
/// rest (pages Leptos renders as not found, probes) another, so that no
/// path ever becomes a label value of its own.
fn unmatched(path: &str) -> String {
    if path.starts_with("/pkg/") {
        "/pkg/:asset".into()
    } else {
        "unmatched".into()
    }
}
