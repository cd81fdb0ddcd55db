//! CSRF protection, the browser's half: every state-changing request from
//! the dashboard carries the `lockstep_csrf` cookie's value in the
//! `x-csrf-token` header (a double submit). Another site can make the
//! browser send the cookie, never read it to set the header; the server
//! refuses a cookie-authenticated change without the matching header.
//! Every server function is declared with `client = CsrfClient`. A form
//! sent before (or without) the WASM cannot set a header: it repeats the
//! token in a hidden field instead (`CsrfField`), which another site cannot
//! fill in either.

use leptos::prelude::*;

use leptos::server_fn::client::{browser::BrowserClient, Client};
use leptos::server_fn::error::FromServerFnError;
use leptos::server_fn::request::browser::BrowserRequest;
use leptos::server_fn::response::browser::BrowserResponse;

/// The cookie that holds the token (readable by the page's script).
pub const COOKIE: &str = "lockstep_csrf";
/// The header a state-changing request repeats it in.
pub const HEADER: &str = "x-csrf-token";
/// The field a plain form repeats it in.
pub const FIELD: &str = "csrf_token";

/// The token of the request being served, put there by the server's CSRF
/// middleware (also when it only now sets the cookie).
#[derive(Debug, Clone)]
pub struct RequestToken(pub String);

/// The hidden field every form that changes something carries, for when it
/// is sent as a plain HTML form.
#[component]
pub fn CsrfField() -> impl IntoView {
    view! { <input type="hidden" name=FIELD value=page_token() /> }
}

fn page_token() -> String {
    #[cfg(feature = "ssr")]
    {
        use_context::<axum::http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<RequestToken>().cloned())
            .map(|token| token.0)
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        token().unwrap_or_default()
    }
}

/// The token from `document.cookie`, in the browser.
#[cfg(feature = "hydrate")]
pub fn token() -> Option<String> {
    use leptos::wasm_bindgen::JsCast;
    let document = leptos::prelude::document()
        .dyn_into::<web_sys::HtmlDocument>()
        .ok()?;
    let cookies = document.cookie().ok()?;
    cookie(&cookies, COOKIE).map(str::to_string)
}

/// The value of cookie `name` in a `Cookie` header (or `document.cookie`):
/// `a=1; b=2`.
pub fn cookie<'a>(cookies: &'a str, name: &str) -> Option<&'a str> {
    cookies
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value)
}

#[cfg(not(feature = "hydrate"))]
pub fn token() -> Option<String> {
    None
}

/// The browser's `fetch` client with the CSRF header added.
pub struct CsrfClient;

impl<E, IS, OS> Client<E, IS, OS> for CsrfClient
where
    E: FromServerFnError,
    IS: FromServerFnError,
    OS: FromServerFnError,
{
    type Request = BrowserRequest;
    type Response = BrowserResponse;

    fn send(
        req: Self::Request,
    ) -> impl std::future::Future<Output = Result<Self::Response, E>> + Send {
        if let Some(token) = token() {
            req.headers().set(HEADER, &token);
        }
        <BrowserClient as Client<E, IS, OS>>::send(req)
    }

    fn open_websocket(
        url: &str,
    ) -> impl std::future::Future<
        Output = Result<
            (
                impl futures::Stream<
                        Item = Result<leptos::server_fn::Bytes, leptos::server_fn::Bytes>,
                    > + Send
                    + 'static,
                impl futures::Sink<leptos::server_fn::Bytes> + Send + 'static,
            ),
            E,
        >,
    > + Send {
        <BrowserClient as Client<E, IS, OS>>::open_websocket(url)
    }

    fn spawn(future: impl std::future::Future<Output = ()> + Send + 'static) {
        <BrowserClient as Client<E, IS, OS>>::spawn(future)
    }
}
