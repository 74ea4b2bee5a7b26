//! Who a request speaks for: a bearer token, or the pages' sign-in cookie
//! with its CSRF token for writes; none is the public.

use axum::http::{header, HeaderMap, StatusCode};

use super::problem::{ApiError, ApiResult};
use super::state::AppState;
use crate::policy::tokens::Caller;

/// The cookie the web pages keep a token in.
pub const TOKEN_COOKIE: &str = "minutebook_token";

/// Who the request speaks for: a bearer token, or the web pages' cookie;
/// none is the public. An unknown or revoked token is refused, not
/// treated as the public, so a client notices.
pub(crate) fn caller(state: &AppState, method: &axum::http::Method, headers: &HeaderMap) -> ApiResult<Caller> {
    if let Some(token) = bearer_token(headers)? {
        return state
            .tokens
            .caller(token)
            .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "the token is unknown or revoked"));
    }
    let cookie = cookie_token(headers);
    // The pages' cookie reads; it writes only with the page's CSRF token
    // beside it, which only this site's pages hold, so a form another site
    // makes a browser send records nothing. A cookie whose token was
    // revoked reads as the public, so the pages go on working.
    if !matches!(*method, axum::http::Method::GET | axum::http::Method::HEAD) {
        let presented = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        return match (cookie, presented) {
            (Some(token), Some(presented)) if csrf_matches(token, presented) => {
                state.tokens.caller(token).ok_or_else(|| {
                    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "the token is unknown or revoked")
                })
            }
            (Some(_), Some(_)) => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "the page's CSRF token does not match its sign-in: reload the page",
            )),
            _ => Ok(Caller::public()),
        };
    }
    Ok(cookie.and_then(|token| state.tokens.caller(token)).unwrap_or_else(Caller::public))
}

/// The token of an `Authorization: Bearer <token>` header, if one was
/// sent. The scheme is matched without regard to case (RFC 9110 §11.1);
/// a header that is present but unusable (another scheme, no token, not
/// text) is refused, never taken for the public, so a misconfigured
/// client learns at once that it is not signed in.
fn bearer_token(headers: &HeaderMap) -> ApiResult<Option<&str>> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let unusable =
        |why: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", format!("the Authorization header {why}"));
    let value = value.to_str().map_err(|_| unusable("is not text"))?;
    let (scheme, token) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(unusable("must use the Bearer scheme: Authorization: Bearer <token>"));
    }
    let token = token.trim_start_matches(' ');
    if token.is_empty() {
        return Err(unusable("names the Bearer scheme but no token"));
    }
    Ok(Some(token))
}

/// The header a page's script sends its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The pages' sign-in token, from their cookie.
pub fn cookie_token(headers: &HeaderMap) -> Option<&str> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|cookies| {
        cookies.split(';').map(str::trim).find_map(|c| c.strip_prefix(TOKEN_COOKIE).and_then(|c| c.strip_prefix('=')))
    })
}

/// The CSRF token of a signed-in page: derived from the sign-in token,
/// which no script can read (its cookie is HttpOnly), so only pages this
/// site rendered for that sign-in hold it.
pub fn csrf_token(token: &str) -> String {
    minutebook_log::hex(&blake3::derive_key("minutebook 2026-11-26 web page CSRF token", token.as_bytes())[..16])
}

fn csrf_matches(token: &str, presented: &str) -> bool {
    // Compared as BLAKE3 hashes, whose equality takes constant time.
    blake3::hash(csrf_token(token).as_bytes()) == blake3::hash(presented.as_bytes())
}

/// Whether the site is served over TLS (directly, or by a proxy that says so).
pub(crate) fn over_tls(request_headers: &HeaderMap) -> bool {
    request_headers.get("x-forwarded-proto").is_some_and(|v| v == "https")
}
