//! Starting the application on a free port for a test.

use std::net::SocketAddr;

use app::{accounts::model::Role, state::AppState};
use leptos::prelude::LeptosOptions;
use serde_json::Value;
use sqlx::PgPool;
use tokio::net::TcpListener;

pub const ADMIN_TOKEN: &str = "test-admin-token";

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request failed")
    }
}

/// Serves the production router on 127.0.0.1:0 with the given pool. The
/// Leptos options are the ones cargo-leptos would give the server; the WASM
/// bundle is not needed to render pages on the server.
pub async fn spawn_app(pool: PgPool) -> TestApp {
    spawn_app_on(pool, TcpListener::bind("127.0.0.1:0").await.unwrap()).await
}

/// Serves the router on a listener the test chose (to start Lockstep
/// late, at an address a client was already given).
pub async fn spawn_app_on(pool: PgPool, listener: TcpListener) -> TestApp {
    let addr: SocketAddr = listener.local_addr().unwrap();
    let options = LeptosOptions::builder()
        .output_name("lockstep")
        .site_root("target/site")
        .site_addr(addr)
        .build();
    let state = AppState::new(options, pool, Some(ADMIN_TOKEN.to_string()));
    let router = lockstep::startup::build_router(state);
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    TestApp {
        address: format!("http://{addr}"),
        client: reqwest::Client::new(),
    }
}

impl TestApp {
    /// A request with the admin token.
    pub fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(ADMIN_TOKEN)
    }

    /// The service's suspected restores (spec §9), newest first.
    pub async fn suspicions(&self, service: &str) -> Vec<serde_json::Value> {
        self.get_json(&format!("/api/v1/services/{service}/suspected-restores"))
            .await
            .as_array()
            .expect("a list")
            .clone()
    }

    /// Records suspected restore `id` of `service` with the admin token.
    pub async fn record_suspicion(&self, service: &str, id: i64) -> reqwest::Response {
        self.admin(
            reqwest::Method::POST,
            &format!("/api/v1/services/{service}/suspected-restores/{id}/record"),
        )
        .send()
        .await
        .unwrap()
    }

    /// Records a backup of `service` taken at `taken_at` (RFC 3339); its id.
    pub async fn backup(&self, service: &str, taken_at: &str) -> i64 {
        let response = self
            .admin(
                reqwest::Method::POST,
                &format!("/api/v1/services/{service}/backups"),
            )
            .json(&serde_json::json!({ "taken_at": taken_at }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        response.json::<serde_json::Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap()
    }

    pub async fn put_topology(&self, content_type: &str, body: &str) -> reqwest::Response {
        self.admin(reqwest::Method::PUT, "/api/v1/topology")
            .header("content-type", content_type)
            .body(body.to_string())
            .send()
            .await
            .expect("request failed")
    }

    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let response = self.admin(reqwest::Method::GET, path).send().await.unwrap();
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.unwrap()
    }
}

/// Posts NDJSON events for a service, with the admin token unless another is given.
pub async fn post_events(
    app: &TestApp,
    service: &str,
    token: Option<&str>,
    body: &str,
) -> reqwest::Response {
    let url = app.url(&format!("/api/v1/services/{service}/events"));
    let request = app
        .client
        .post(url)
        .header("content-type", "application/x-ndjson")
        .body(body.to_string());
    let request = match token {
        Some(token) => request.bearer_auth(token),
        None => request.bearer_auth(ADMIN_TOKEN),
    };
    request.send().await.unwrap()
}

/// One JSON value a line.
pub fn ndjson(events: &[Value]) -> String {
    events.iter().map(|e| e.to_string() + "\n").collect()
}

/// A browser: a cookie jar (session, CSRF token) and the CSRF header on
/// every change, as the dashboard's own client sends it.
pub struct Browser {
    pub client: reqwest::Client,
    jar: std::sync::Arc<reqwest::cookie::Jar>,
    base: String,
}

impl Browser {
    /// A fresh browser that has loaded the login page (and so holds a CSRF cookie).
    pub async fn open(app: &TestApp) -> Browser {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let browser = Browser {
            client,
            jar,
            base: app.address.clone(),
        };
        let login = browser.get("/login").await;
        assert_eq!(login.status(), 200);
        browser
    }

    /// A browser signed in as a new account with this role.
    pub async fn signed_in(app: &TestApp, pool: &PgPool, name: &str, role: Role) -> Browser {
        app::accounts::commands::create(pool, "test", name, role, PASSWORD)
            .await
            .unwrap();
        let browser = Browser::open(app).await;
        let response = browser.login(name, PASSWORD).await;
        assert!(
            response.status().is_success() || response.status().is_redirection(),
            "login of {name}: {}",
            response.status()
        );
        browser
    }

    pub fn csrf(&self) -> String {
        use reqwest::cookie::CookieStore;
        let url = self.base.parse().unwrap();
        let cookies = self.jar.cookies(&url).expect("cookies");
        app::accounts::csrf::cookie(cookies.to_str().unwrap(), app::accounts::csrf::COOKIE)
            .expect("a CSRF cookie")
            .to_string()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    /// A page's HTML.
    pub async fn html(&self, path: &str) -> String {
        self.get(path).await.text().await.unwrap()
    }

    /// A request with the CSRF header, as the dashboard sends changes.
    pub fn send(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .header(app::accounts::csrf::HEADER, self.csrf())
    }

    pub async fn login(&self, name: &str, password: &str) -> reqwest::Response {
        self.send(reqwest::Method::POST, "/api/fn/login")
            .form(&[("name", name), ("password", password)])
            .send()
            .await
            .unwrap()
    }

    /// Calls a server function with URL-encoded arguments.
    pub async fn call(&self, function: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.send(reqwest::Method::POST, &format!("/api/fn/{function}"))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Sends a form as a browser without the WASM does: no CSRF header (the
    /// page's hidden field instead, when `with_token`), asking for HTML,
    /// from the page at `from`.
    pub async fn submit_form(
        &self,
        from: &str,
        action: &str,
        fields: &[(&str, &str)],
        with_token: bool,
    ) -> reqwest::Response {
        let token = self.csrf();
        let mut fields = fields.to_vec();
        if with_token {
            fields.push((app::accounts::csrf::FIELD, &token));
        }
        self.client
            .post(format!("{}{action}", self.base))
            .header("accept", "text/html,application/xhtml+xml")
            .header("referer", format!("{}{from}", self.base))
            .form(&fields)
            .send()
            .await
            .unwrap()
    }

    /// Calls a server function that takes JSON.
    pub async fn call_json(&self, function: &str, body: Value) -> reqwest::Response {
        self.send(reqwest::Method::POST, &format!("/api/fn/{function}"))
            .json(&body)
            .send()
            .await
            .unwrap()
    }
}

/// Every test account's password.
pub const PASSWORD: &str = "a long test password";

/// The real `lockstep` binary, serving a test's database on a free port.
pub struct RealServer;

impl RealServer {
    /// Starts the binary with `env` added and its standard output sent to
    /// `stdout`; returns it and its base URL once `/healthz` answers.
    pub async fn start(
        options: &sqlx::postgres::PgConnectOptions,
        env: &[(&str, &str)],
        stdout: std::process::Stdio,
    ) -> (std::process::Child, String) {
        let url = format!(
            "postgres://{}@{}:{}/{}",
            options.get_username(),
            options.get_host(),
            options.get_port(),
            options.get_database().expect("a test database")
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let server = std::process::Command::new(env!("CARGO_BIN_EXE_lockstep"))
            .env("DATABASE_URL", url)
            .env("LOCKSTEP_ADDR", format!("127.0.0.1:{port}"))
            .env("LOCKSTEP_ADMIN_TOKEN", ADMIN_TOKEN)
            .env("LOCKSTEP_SCAN_INTERVAL", "0")
            .env("LEPTOS_OUTPUT_NAME", "lockstep")
            .env_remove("LOCKSTEP_DEMO")
            .envs(env.iter().copied())
            .stdout(stdout)
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("the lockstep binary");
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let up = async {
            while !client
                .get(format!("{base}/healthz"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(60), up)
            .await
            .expect("the server never came up");
        (server, base)
    }
}
