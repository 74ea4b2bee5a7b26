//! The website: server-rendered pages for reading and auditing minutes,
//! served beside the API by `minutebook serve`. Pages are maud templates
//! compiled into the binary, drawn from the same typed models as the API
//! (the minutes model, the registers, the audit trail), and filtered for
//! the reader through the same `policy::visibility` and `policy::reads`.
//!
//! A reader signs in once with a token, kept in an HttpOnly, SameSite=
//! Strict cookie (Secure when served over TLS). Only GETs read the cookie
//! as a token for the API; the sign-in and sign-out forms refuse requests
//! from other sites.

mod console;
mod pages;
mod sign;

use std::sync::Arc;

use axum::extract::{Form, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Router};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use minutebook_log::Log;
use minutebook_projections::record::Record;
use serde::Deserialize;

use crate::http::session::{over_tls, TOKEN_COOKIE};
use crate::http::state::AppState;
use crate::policy::tokens::{Caller, Role};

const STYLESHEET: &str = include_str!("site.css");
const LIVE_SCRIPT: &str = include_str!("live.js");
const CONSOLE_SCRIPT: &str = include_str!("console.js");
const SIGN_SCRIPT: &str = include_str!("sign.js");

/// The pages' routes; the API's router adds them beside its own.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(pages::home))
        .route("/bodies/{body}", get(pages::body))
        .route("/bodies/{body}/actions", get(pages::actions))
        .route("/meetings/{meeting}", get(pages::meeting))
        .route("/meetings/{meeting}/trail", get(pages::trail))
        .route("/meetings/{meeting}/console", get(console::console))
        .route("/meetings/{meeting}/sign", get(sign::sign))
        .route("/people/{person}", get(pages::person))
        .route("/search", get(pages::search))
        .route("/sign-in", get(sign_in_form).post(sign_in))
        .route("/sign-out", axum::routing::post(sign_out))
        .route("/static/site.css", get(|| async { asset("text/css; charset=utf-8", STYLESHEET) }))
        .route("/static/live.js", get(|| async { asset("text/javascript; charset=utf-8", LIVE_SCRIPT) }))
        .route("/static/console.js", get(|| async { asset("text/javascript; charset=utf-8", CONSOLE_SCRIPT) }))
        .route("/static/sign.js", get(|| async { asset("text/javascript; charset=utf-8", SIGN_SCRIPT) }))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=300")], body).into_response()
}

/// A page that could not be made, with the words the error page shows
/// (or, for `Internal`, logs: the page itself says only to try again).
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Internal(String),
}

impl From<minutebook_log::Error> for PageError {
    fn from(error: minutebook_log::Error) -> PageError {
        PageError::Internal(error.to_string())
    }
}

pub type PageResult = Result<Page, PageError>;

/// A page's title, where it sits, and its content.
#[derive(Default)]
pub struct Page {
    pub title: String,
    pub crumbs: Vec<(String, String)>,
    /// The CSRF token the page's script sends with what it records.
    pub csrf: Option<String>,
    pub content: Markup,
}

/// Makes a page from the record as it stands, off the async threads.
pub async fn page(
    state: Arc<AppState>,
    caller: Caller,
    make: impl FnOnce(&Record, &Log, &Caller) -> PageResult + Send + 'static,
) -> Response {
    let caller2 = caller.clone();
    let made = tokio::task::spawn_blocking(move || {
        let record = state.recorder.record().map_err(|e| PageError::Internal(e.to_string()))?;
        make(&record, state.recorder.log(), &caller2)
    })
    .await
    .unwrap_or_else(|e| Err(PageError::Internal(e.to_string())));
    match made {
        Ok(page) => html_response(StatusCode::OK, &caller, &page),
        Err(error) => error_page(&caller, error),
    }
}

pub fn error_page(caller: &Caller, error: PageError) -> Response {
    let (status, title, detail) = match error {
        PageError::NotFound(detail) => (StatusCode::NOT_FOUND, "Page not found", detail),
        PageError::Forbidden(detail) => (StatusCode::FORBIDDEN, "Not for this sign-in", detail),
        PageError::BadRequest(detail) => (StatusCode::BAD_REQUEST, "That request could not be understood", detail),
        PageError::Internal(detail) => {
            tracing::error!("page failed: {detail}");
            (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong", "Please try again later.".to_owned())
        }
    };
    let page = Page {
        title: title.to_owned(),
        crumbs: Vec::new(),
        csrf: None,
        content: html! {
            h1 { (title) }
            p { (detail) }
            p { a href="/" { "Go to the list of committees" } }
        },
    };
    html_response(status, caller, &page)
}

/// The web pages' answer for a path nothing serves.
pub async fn not_found(Extension(caller): Extension<Caller>) -> Response {
    error_page(&caller, PageError::NotFound("There is no page at this address.".to_owned()))
}

fn html_response(status: StatusCode, caller: &Caller, page: &Page) -> Response {
    let mut response = (status, layout(caller, page).into_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(header::VARY, HeaderValue::from_static("Cookie"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    response
}

/// Every page's frame: a skip link, the site's header and navigation, the
/// breadcrumbs, the page, and the footer.
fn layout(caller: &Caller, page: &Page) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en-GB" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (page.title) " — Minutes" }
                link rel="stylesheet" href="/static/site.css";
                @if let Some(csrf) = &page.csrf {
                    meta name="csrf-token" content=(csrf);
                }
            }
            body {
                a.skip-link href="#main" { "Skip to main content" }
                header.site-header {
                    div.wrap {
                        a.site-name href="/" { "Committee minutes" }
                        nav aria-label="Site" {
                            ul {
                                li { a href="/" { "Committees" } }
                                li {
                                    form.search role="search" action="/search" method="get" {
                                        label for="q" { "Find a minute" }
                                        input #q type="search" name="q" placeholder="minute 394" size="12";
                                        button type="submit" { "Find" }
                                    }
                                }
                                @if caller.role == Role::Public {
                                    li { a href="/sign-in" { "Sign in" } }
                                } @else {
                                    li.signed-in {
                                        "Signed in as " (caller.person.as_deref().unwrap_or(caller.role.name()))
                                        " (" (caller.role.name()) ")"
                                    }
                                    li {
                                        form action="/sign-out" method="post" {
                                            button.link type="submit" { "Sign out" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                div.wrap {
                    @if !page.crumbs.is_empty() {
                        nav.crumbs aria-label="Breadcrumb" {
                            ol {
                                li { a href="/" { "Committees" } }
                                @for (label, href) in &page.crumbs {
                                    li { a href=(href) { (label) } }
                                }
                            }
                        }
                    }
                    main #main tabindex="-1" {
                        (page.content)
                    }
                }
                footer.site-footer {
                    div.wrap {
                        p {
                            "These minutes are kept in a tamper-evident log. Anyone can check them: "
                            a href="/v1/checkpoint" { "the latest signed checkpoint" } ", "
                            a href="/v1/log/key" { "the log's key" } ", and "
                            code { "minutebook verify" } " on an export."
                        }
                        p { a href="/openapi.json" { "The API" } " serves everything on these pages as data." }
                    }
                }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct SignInQuery {
    next: Option<String>,
}

async fn sign_in_form(Extension(caller): Extension<Caller>, Query(query): Query<SignInQuery>) -> Response {
    let page = sign_in_page(query.next.as_deref(), None);
    html_response(StatusCode::OK, &caller, &page)
}

fn sign_in_page(next: Option<&str>, problem: Option<&str>) -> Page {
    Page {
        title: "Sign in".to_owned(),
        crumbs: Vec::new(),
        csrf: None,
        content: html! {
            h1 { "Sign in" }
            p {
                "Officers, members and auditors sign in with the token they were given, to read drafts "
                "and exempt content. Everyone else can read published minutes without signing in."
            }
            @if let Some(problem) = problem {
                div.notice.error role="alert" {
                    p { (problem) }
                }
            }
            form.stacked action="/sign-in" method="post" {
                input type="hidden" name="next" value=(safe_next(next));
                label for="token" { "Token" }
                input #token type="password" name="token" autocomplete="current-password" required;
                button type="submit" { "Sign in" }
            }
        },
    }
}

/// Where to go after signing in: a path on this site, never elsewhere,
/// and only one that can stand in a Location header as it is.
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && path.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            path
        }
        _ => "/",
    }
}

/// The bytes a Location header cannot carry as they are: controls, space,
/// and what would end or confuse a URL. Anything not ASCII is encoded too.
const LOCATION_ENCODE: &percent_encoding::AsciiSet =
    &percent_encoding::CONTROLS.add(b' ').add(b'"').add(b'<').add(b'>').add(b'`').add(b'\\');

/// A redirect to a path on this site. axum's `Redirect::to` panics on a
/// location that is not a valid header value, and paths here are built
/// from what a client sent (`/meetings/%0a/console`), so every location
/// is percent-encoded first and never is.
pub fn redirect_to(path: &str) -> Response {
    Redirect::to(&percent_encoding::utf8_percent_encode(path, LOCATION_ENCODE).to_string()).into_response()
}

#[derive(Deserialize)]
struct SignInForm {
    token: String,
    next: Option<String>,
}

/// Whether a form post comes from this site's own pages. Browsers say
/// where a request comes from; a post from another site is refused.
fn same_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    match (headers.get(header::ORIGIN), headers.get(header::HOST)) {
        (Some(origin), Some(host)) => {
            let origin = origin.to_str().unwrap_or("");
            let host = host.to_str().unwrap_or("");
            origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://")) == Some(host)
        }
        (Some(_), None) => false,
        (None, _) => true,
    }
}

fn token_cookie(value: &str, max_age: Option<u64>, secure: bool) -> HeaderValue {
    let mut cookie = format!("{TOKEN_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age {
        cookie.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        cookie.push_str("; Secure");
    }
    HeaderValue::from_str(&cookie).expect("a token is URL-safe base64")
}

async fn sign_in(State(state): State<Arc<AppState>>, headers: HeaderMap, Form(form): Form<SignInForm>) -> Response {
    let public = Caller::public();
    if !same_site(&headers) {
        return error_page(&public, PageError::BadRequest("Sign in from this site's own page.".to_owned()));
    }
    let token = form.token.trim();
    let valid = token.len() <= 256 && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let Some(caller) = valid.then(|| state.tokens.caller(token)).flatten() else {
        let page = sign_in_page(form.next.as_deref(), Some("That token is not known, or it was revoked."));
        return html_response(StatusCode::UNAUTHORIZED, &public, &page);
    };
    tracing::info!("signed in to the web pages as {}", caller.role.name());
    let mut response = redirect_to(safe_next(form.next.as_deref()));
    response.headers_mut().insert(header::SET_COOKIE, token_cookie(token, None, over_tls(&headers)));
    response
}

async fn sign_out(headers: HeaderMap) -> Response {
    if !same_site(&headers) {
        return error_page(&Caller::public(), PageError::BadRequest("Sign out from this site's own page.".to_owned()));
    }
    let mut response = redirect_to("/");
    response.headers_mut().insert(header::SET_COOKIE, token_cookie("", Some(0), over_tls(&headers)));
    response
}

/// A page only the signed-in may use: the public is sent to sign in first,
/// and comes back to `path` after.
pub fn sign_in_first(caller: &Caller, path: &str) -> Option<Response> {
    (caller.role == Role::Public).then(|| {
        let next: String = form_urlencoded::byte_serialize(path.as_bytes()).collect();
        redirect_to(&format!("/sign-in?next={next}"))
    })
}

/// Whether a request is for the web pages rather than the API.
pub fn is_page(request: &Request) -> bool {
    !request.uri().path().starts_with("/v1/") && !matches!(request.uri().path(), "/healthz" | "/openapi.json")
}

/// Trusted HTML: the minutes' own renderer escapes what people wrote.
pub fn trusted(html: String) -> PreEscaped<String> {
    PreEscaped(html)
}
