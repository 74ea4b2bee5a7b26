//! The security headers every response carries.

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use super::session::over_tls;

/// The policy of every response that is not one of the site's pages
/// (JSON, problems, text, papers, the API's minutes as HTML): it loads
/// nothing, runs nothing, may not be framed, and is a sandboxed origin of
/// its own, so even bytes a browser would take for a document are inert.
pub const INERT_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; frame-ancestors 'none'; sandbox";

/// Headers every response carries. `nosniff` everywhere, so a browser
/// never reads JSON or a paper as a script or a page; frames refused
/// everywhere; responses without a policy of their own (everything but
/// the site's pages) get `INERT_CONTENT_SECURITY_POLICY`; and HSTS when
/// the request came over TLS (a proxy in front says so). A browser ignores
/// HSTS sent over plain HTTP (RFC 6797 §8.1), so a spoofed
/// `X-Forwarded-Proto` cannot pin anyone to HTTPS who is not already on it.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let over_tls = over_tls(request.headers());
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(INERT_CONTENT_SECURITY_POLICY));
    }
    if over_tls {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    response
}
