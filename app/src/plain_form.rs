//! Forms that work before and without the WASM. Each form that changes
//! something is a real `<form method="post">` aimed at its server function
//! (Leptos's `ActionForm`), with the CSRF token in a hidden field. Sent by
//! the browser itself (it asks for HTML, not JSON), the server function's
//! answer is a redirect: back to the page, with any error in its address
//! for the page to show, or where the function says. Once the WASM runs,
//! the same form is sent by `fetch` and none of this applies.

/// Whether the server function being served was called by a plain form
/// (not by `fetch`, and not directly while a page renders).
pub fn is_plain_form() -> bool {
    leptos::prelude::use_context::<axum::http::request::Parts>().is_some_and(|parts| {
        parts.uri.path().starts_with("/api/fn/")
            && parts
                .headers
                .get(axum::http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|accept| accept.contains("text/html"))
    })
}

/// Sends a plain form's browser to `path` afterwards (instead of back to
/// the page it came from).
pub fn go_to_after(path: &str) {
    if is_plain_form() {
        leptos_axum::redirect(path);
    }
}
