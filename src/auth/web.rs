//! What stands between a request and the application: sessions stored in
//! PostgreSQL, who is signed in (once per request), the sign-in redirect
//! for pages, CSRF checks for cookie-authenticated changes, and the
//! security headers.

use app::accounts::{csrf, session, session::SignedIn};
use app::state::AppState;
use axum::{
    extract::{Request, State},
    http::{header, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use tower_sessions::{cookie::time, cookie::SameSite, Expiry, Session, SessionManagerLayer};
use tower_sessions_sqlx_store::PostgresStore;

use crate::routes::api::ApiError;

const SESSION_COOKIE: &str = "lockstep_session";

/// How long a session lasts without a request.
const IDLE: time::Duration = time::Duration::hours(8);

/// Session cookies: HttpOnly, SameSite=Strict, Secure when Lockstep is
/// served over TLS (`--secure-cookies`, for a TLS-terminating proxy).
pub fn session_layer(state: &AppState) -> SessionManagerLayer<PostgresStore> {
    SessionManagerLayer::new(PostgresStore::new(state.pool.clone()))
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Strict)
        .with_secure(state.secure_cookies)
        .with_expiry(Expiry::OnInactivity(IDLE))
}

/// Removes expired sessions every hour.
pub fn spawn_session_cleanup(pool: sqlx::PgPool) {
    use tower_sessions::session_store::ExpiredDeletion;
    let store = PostgresStore::new(pool);
    tokio::spawn(async move {
        if let Err(error) = store
            .continuously_delete_expired(std::time::Duration::from_secs(3600))
            .await
        {
            tracing::warn!(%error, "session clean-up stopped");
        }
    });
}

/// Paths anyone may fetch: the login page, health, the WASM bundle and
/// static files. Everything else is a page that needs a user (redirected
/// to sign in) or an API that answers 401 itself.
fn is_public(path: &str) -> bool {
    path == "/login"
        || is_machine_endpoint(path)
        || path.starts_with("/pkg/")
        || path.starts_with("/api/")
        || path
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains('.'))
}

/// Resolves the signed-in account from the session (one lookup per
/// request) for the routes, server functions and the page shell, and
/// sends a browser without one from a page to the login page.
pub async fn signed_in(
    State(state): State<AppState>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    // The bundle and health checks need no user: no session lookup for the
    // half-dozen asset requests of every page load.
    let path = request.uri().path();
    if path.starts_with("/pkg/") || is_machine_endpoint(path) {
        return next.run(request).await;
    }
    let user = match session::user_of(&state.pool, &session).await {
        Ok(user) => user,
        Err(error) => return ApiError::from(error).into_response(),
    };
    let path = request.uri().path();
    if user.is_none() && request.method() == Method::GET && !is_public(path) {
        let target = request
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        return Redirect::to(&format!("/login?next={}", encode(target))).into_response();
    }
    if let Some(user) = &user {
        crate::observe::attribute(request.extensions(), &user.name);
    }
    request.extensions_mut().insert(SignedIn(user));
    next.run(request).await
}

/// Health, metrics and the API document: read by machines (probes,
/// scrapers, API clients), open to all, and never tied to a session.
fn is_machine_endpoint(path: &str) -> bool {
    matches!(path, "/healthz" | "/metrics" | "/api/v1/openapi.json")
}

/// Percent-encodes a path for a query value.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The double-submit check: a state-changing request that a browser could
/// have been tricked into sending — one carrying a session cookie, or any
/// call of a server function (login included) — must repeat the
/// `lockstep_csrf` cookie in the `x-csrf-token` header, or, sent as a plain
/// HTML form (before or without the WASM), in its `csrf_token` field.
/// Requests with a bearer token are exempt (a token is never sent by the
/// browser on its own), as are cookie-less API calls (they are refused as
/// anonymous). Every response to a browser without the cookie sets one;
/// the page being rendered gets the same token for its forms.
pub async fn csrf_check(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let cookie = cookie_value(&request, csrf::COOKIE).filter(|c| !c.is_empty());
    let changes = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let bearer = request.headers().contains_key(header::AUTHORIZATION);
    let by_browser = cookie_value(&request, SESSION_COOKIE).is_some()
        || request.uri().path().starts_with("/api/fn/");
    let mut request = request;
    if changes && !bearer && by_browser {
        let (presented, checked) = presented_token(request).await;
        request = checked;
        let matches = matches!((&cookie, presented),
            (Some(c), Some(p)) if constant_time_eq(c.as_bytes(), p.as_bytes()));
        if !matches {
            tracing::warn!(path = %request.uri().path(), "refused: CSRF token missing or wrong");
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "CSRF token missing or wrong: reload the page and try again",
            )
            .into_response();
        }
    }
    let token = cookie.clone().unwrap_or_else(random_token);
    request
        .extensions_mut()
        .insert(csrf::RequestToken(token.clone()));
    let mut response = next.run(request).await;
    if cookie.is_none() {
        let secure = if state.secure_cookies { "; Secure" } else { "" };
        let set = format!("{}={token}; Path=/; SameSite=Strict{secure}", csrf::COOKIE);
        if let Ok(value) = HeaderValue::from_str(&set) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// The largest plain form read for its token: a topology pasted into the
/// upload form (the API's own limit for a topology).
const FORM_LIMIT: usize = 16 * 1024 * 1024;

/// The token a request presents: its header, or the field of a plain
/// URL-encoded form (whose body is read, and put back for the handler).
async fn presented_token(request: Request) -> (Option<String>, Request) {
    if let Some(header) = request.headers().get(csrf::HEADER) {
        return (header.to_str().ok().map(str::to_owned), request);
    }
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return (None, request);
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, FORM_LIMIT).await else {
        return (None, Request::from_parts(parts, axum::body::Body::empty()));
    };
    let field = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .ok()
        .and_then(|fields| fields.into_iter().find(|(name, _)| name == csrf::FIELD))
        .map(|(_, value)| value);
    (
        field,
        Request::from_parts(parts, axum::body::Body::from(bytes)),
    )
}

fn cookie_value(request: &Request, name: &str) -> Option<String> {
    request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| csrf::cookie(v, name))
        .map(str::to_string)
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    // No randomness means no token: the next request gets another try.
    if getrandom::fill(&mut bytes).is_err() {
        return String::new();
    }
    hex::encode(bytes)
}

/// Compares without an early exit, so response time does not reveal how
/// much of a guessed token was right.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The security headers of every response. Scripts: the bundle and the
/// two small inline scripts of the shell (theme, hydration), and WASM.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; \
    script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; \
    form-action 'self'; frame-ancestors 'none'";

pub fn headers() -> [(header::HeaderName, HeaderValue); 4] {
    [
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_need_a_user_and_assets_do_not() {
        for public in [
            "/login",
            "/healthz",
            "/pkg/lockstep.wasm",
            "/api/v1/findings",
            "/favicon.ico",
        ] {
            assert!(is_public(public), "{public}");
        }
        for page in ["/", "/queue", "/inventory/orders", "/users"] {
            assert!(!is_public(page), "{page}");
        }
    }

    #[test]
    fn the_return_path_is_encoded_for_the_query() {
        assert_eq!(
            encode("/queue?kind=broken_link&status=open"),
            "/queue%3Fkind%3Dbroken_link%26status%3Dopen"
        );
    }
}
