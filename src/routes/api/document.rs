//! The OpenAPI document: what every operation shares (authentication, the
//! error shape and the error statuses) is added here once, so each handler
//! declares only what is particular to it.

use app::state::AppState;
use axum::{
    body::Body,
    extract::{Request, State},
    http::{header, HeaderValue},
    middleware::Next,
    response::{IntoResponse, Response},
};
use utoipa::{
    openapi::{
        path::Operation,
        security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
        ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder,
    },
    Modify, OpenApi as _,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::ErrorBody;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Lockstep API",
        description = "Disaster-recovery planning and post-restore reconciliation: the \
            topology, the reference inventory services report, restores and drills, and the \
            reconciliation queue (SPEC.md §6). Authenticate with `Authorization: Bearer <token>` \
            (the admin token, or a service token for that service's events, snapshots and \
            backups) or with a dashboard session cookie plus its `x-csrf-token` header.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    security(("bearer" = []), ("session" = [])),
    components(schemas(ErrorBody)),
    tags(
        (name = "topology", description = "Services, relations and lockstep groups"),
        (name = "inventory", description = "What services report: events, snapshots, backups, tokens, scans"),
        (name = "restores", description = "Restores and drills"),
        (name = "findings", description = "The reconciliation queue"),
        (name = "accounts", description = "Dashboard accounts"),
        (name = "meta", description = "This document and the demo data")
    )
)]
struct ApiDoc;

/// The document every route is added to.
pub fn base() -> OpenApi {
    ApiDoc::openapi()
}

/// Adds what all operations share, once every route is in the document.
pub fn finish(mut openapi: OpenApi) -> OpenApi {
    Conventions.modify(&mut openapi);
    openapi
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(openapi_json))
}

/// This document (OpenAPI 3.1), generated from the routes. Open to all.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "meta",
    security(()),
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json", body = Object))
)]
async fn openapi_json(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.api_document.to_string(),
    )
        .into_response()
}

/// Adds the bearer and session schemes and, to every operation, the error
/// responses any of them can give: 401/403 (authentication, role, CSRF),
/// 503 (the database is unreachable), 404 where the path names something,
/// 400/413/422 where a body or query is read, 409 for changes.
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "LOCKSTEP_ADMIN_TOKEN, or a token minted by POST /api/v1/services/{service}/tokens",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "lockstep_session",
                "The dashboard's session (sign in at /login); changes also need the \
                 x-csrf-token header set to the lockstep_csrf cookie",
            ))),
        );
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations = [
                (false, &mut item.get),
                (true, &mut item.put),
                (true, &mut item.post),
                (true, &mut item.delete),
                (true, &mut item.patch),
            ];
            for (changes, operation) in operations {
                if let Some(operation) = operation {
                    add_errors(path, changes, operation);
                }
            }
        }
    }
}

fn add_errors(path: &str, changes: bool, operation: &mut Operation) {
    let public = operation
        .security
        .as_ref()
        .is_some_and(|s| s.iter().all(|r| r == &Default::default()));
    let reads_input = operation.request_body.is_some()
        || operation.parameters.as_ref().is_some_and(|p| {
            p.iter()
                .any(|p| p.parameter_in == utoipa::openapi::path::ParameterIn::Query)
        });
    let mut statuses: Vec<(&str, &str)> = vec![(
        "503",
        "The database is unavailable, or a concurrent change got in the way; nothing was changed, retry (`Retry-After`)",
    )];
    if !public {
        statuses.push(("401", "No or an invalid token or session"));
        statuses.push((
            "403",
            "The caller's role or token does not allow this (or the CSRF header is missing)",
        ));
    }
    if path.contains('{') {
        statuses.push(("404", "Nothing by that name or id"));
    }
    if reads_input {
        statuses.push(("400", "The body or query cannot be read"));
        statuses.push(("422", "The input is invalid; `details` lists every problem"));
    }
    if operation.request_body.is_some() {
        statuses.push(("413", "The body is larger than this route accepts"));
    }
    if changes {
        statuses.push((
            "409",
            "The change conflicts with the current state (say, another operator's claim)",
        ));
    }
    for (status, description) in statuses {
        operation
            .responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::T(error_response(description)));
    }
}

fn error_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}

/// Keeps the error contract for errors axum itself answers before a
/// handler runs (unknown route, wrong method, body over the limit, …):
/// a 4xx or 5xx without a JSON body gets `{"error", "details": []}`.
pub async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .ok()
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_lowercase());
    let body = ErrorBody::new(text);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    let json = serde_json::to_vec(&body).unwrap_or_default();
    Response::from_parts(parts, Body::from(json))
}
