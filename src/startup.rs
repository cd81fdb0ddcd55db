//! Builds the axum router (pages, server functions, API, static files) and
//! runs it until SIGINT or SIGTERM.

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use anyhow::Context;
use app::{inventory::db::scan, shell, state::AppState, App};
use axum::{http::HeaderName, middleware::from_fn_with_state, routing::get, Router};
use leptos::prelude::LeptosOptions;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio::net::TcpListener;
use tower_http::{
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    set_header::SetResponseHeaderLayer,
    timeout::TimeoutLayer,
};

use crate::{accounts, auth, cli::Cli, db, demo, observe, routes};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application as one router, so integration tests serve exactly
/// what production serves.
pub fn build_router(state: AppState) -> Router {
    let (api, document) = routes::api::router();
    let document = document
        .to_json()
        .expect("the OpenAPI document serialises to JSON");
    let state = state.with_api_document(document);
    let routes = generate_route_list(App);
    let leptos_options = state.leptos_options.clone();
    let live = routes::live::Live::start(state.pool.clone());
    let sessions = auth::web::session_layer(&state);
    let headers = auth::web::headers()
        .map(|(name, value)| SetResponseHeaderLayer::if_not_present(name, value));
    let [csp, nosniff, frames, referrer] = headers;
    Router::new()
        .route("/healthz", get(routes::health::healthz))
        .route("/metrics", get(routes::metrics::metrics))
        .merge(api.layer(axum::middleware::from_fn(routes::api::json_errors)))
        .merge(routes::live::router())
        .merge(routes::export::router())
        .merge(routes::public::router())
        .leptos_routes(&state, routes, move || shell(leptos_options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        // Innermost first: who is signed in needs the session; the CSRF
        // check runs before either touches the store.
        .layer(from_fn_with_state(state.clone(), auth::web::signed_in))
        .layer(sessions)
        .layer(from_fn_with_state(state.clone(), auth::web::csrf_check))
        .with_state(state)
        .layer(axum::Extension(live))
        .layer(axum::middleware::from_fn(observe::requests))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(60),
        ))
        .layer(csp)
        .layer(nosniff)
        .layer(frames)
        .layer(referrer)
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// Leptos settings come from cargo-leptos (`LEPTOS_*`, baked in at build
/// time when built by it); the listen address is ours to choose.
pub fn leptos_options(addr: SocketAddr) -> anyhow::Result<LeptosOptions> {
    let mut options = leptos::config::get_configuration(None)
        .context("reading the Leptos configuration (build with cargo-leptos)")?
        .leptos_options;
    options.site_addr = addr;
    Ok(options)
}

pub async fn serve(cli: &Cli) -> anyhow::Result<()> {
    let addr = cli.addr;
    let pool = db::connect(cli.database_url()?).await?;
    db::migrate(&pool).await?;
    if let (Some(name), Some(password)) = (&cli.admin_user, &cli.admin_password) {
        accounts::first_admin(&pool, name, password).await?;
    }
    let demo_tasks = app::state::BackgroundTasks::default();
    if cli.demo {
        match demo::live::Settings::from_env() {
            Some(settings) => {
                let token = cli.admin_token.as_deref().ok_or_else(|| {
                    anyhow::anyhow!("the live demo's collectors need LOCKSTEP_ADMIN_TOKEN")
                })?;
                demo::load_live(
                    &demo_tasks,
                    &pool,
                    &settings?,
                    &format!("http://{addr}"),
                    token,
                )
                .await?;
            }
            None => {
                demo::load_if_empty(&pool).await?;
            }
        }
        accounts::demo_logins(&pool).await?;
    }
    auth::web::spawn_session_cleanup(pool.clone());
    if cli.scan_interval > 0 {
        let pool = pool.clone();
        let (full_every, passes) = (cli.scan_full_every, Arc::new(AtomicU64::new(0)));
        // The first tick would run at once: let start-up finish.
        tokio::spawn(periodically(
            cli.scan_interval,
            true,
            "integrity scan",
            move || {
                let pool = pool.clone();
                let n = passes.fetch_add(1, Ordering::Relaxed);
                let pass = if full_every > 0 && n % full_every == 0 {
                    scan::Pass::Full
                } else {
                    scan::Pass::Incremental
                };
                async move {
                    let report = scan::run(&pool, pass).await?;
                    Ok(format!(
                        "scan {} ({:?}, {} entities): {:?}",
                        report.id, pass, report.examined, report.counts
                    ))
                }
            },
        ));
    }
    if cli.exposure_interval > 0 {
        let pool = pool.clone();
        // At once: the groups page has a figure from the start.
        tokio::spawn(periodically(
            cli.exposure_interval,
            false,
            "exposure run",
            move || {
                let pool = pool.clone();
                async move {
                    let points = app::exposure::db::measure(&pool).await?;
                    Ok(format!("{} services drilled", points.len()))
                }
            },
        ));
    }
    let state = AppState::new(leptos_options(addr)?, pool, cli.admin_token.clone())
        .with_secure_cookies(cli.secure_cookies)
        .with_demo_tasks(demo_tasks);
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    tracing::info!("Lockstep listening on http://{addr}");
    axum::serve(listener, build_router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("serving HTTP")
}

/// Runs `job` every `seconds`; a failed run is logged and the next one
/// tried on time (the database may come back in between).
async fn periodically<F, Fut>(seconds: u64, skip_first: bool, what: &'static str, job: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<String, app::error::AppError>>,
{
    let mut ticks = tokio::time::interval(Duration::from_secs(seconds));
    if skip_first {
        ticks.tick().await;
    }
    loop {
        ticks.tick().await;
        match job().await {
            Ok(summary) => tracing::info!(%summary, "{what}"),
            Err(error) => tracing::warn!(%error, "{what} failed"),
        }
    }
}

/// Resolves on the first SIGINT or SIGTERM; in-flight requests finish, and
/// open transactions either commit or roll back with their connection.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
