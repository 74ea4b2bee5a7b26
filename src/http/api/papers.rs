//! Papers (agenda packs, reports, handouts): uploaded as bytes, stored as
//! content-addressed files named by their BLAKE3 hash in `papers/` of the
//! data directory, each fsynced with its directory before the upload is
//! acknowledged, so a `paper.attached` event never names a file that is
//! not on stable storage. Downloads check the hash on the way out.

use std::path::Path;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};

use crate::domain::papers::{self, paper_path, store};
use crate::http::problem::{blocking, ApiError, ApiResult};
use crate::http::state::AppState;
use crate::policy::tokens::{Caller, Role};

/// Largest paper accepted, in bytes.
pub const PAPER_BYTES_MAX: usize = 50 * 1024 * 1024;

/// The papers' routes, from the table of operations; an upload takes a
/// body up to `PAPER_BYTES_MAX`.
pub fn routes() -> Router<Arc<AppState>> {
    super::openapi::routes(true)
}

pub(super) async fn upload(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult<Response> {
    match caller.role {
        Role::Clerk | Role::Admin => {}
        Role::Public => return Err(ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "uploading needs a token")),
        _ => return Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden", "only clerks upload papers")),
    }
    let media_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .unwrap_or_default();
    if !papers::accepted_media_type(&media_type) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            format!("a paper of type {media_type:?} is not accepted; accepted are {}", papers::accepted_list()),
        ));
    }
    if bytes.is_empty() {
        return Err(ApiError::invalid("a paper of 0 bytes holds nothing"));
    }
    papers::content_agrees(&media_type, &bytes[..bytes.len().min(papers::PAPER_HEAD_BYTES)])
        .map_err(|error| ApiError::invalid(error.to_string()))?;
    let data = state.data.clone();
    let (hash, created) = blocking(move || store(&data, &bytes).map_err(ApiError::internal)).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    let body = super::wire::responses::Uploaded {
        content_hash: hash.to_hex().to_string(),
        size_bytes: size_of(&state.data, &hash),
        media_type,
    };
    Ok((status, [(header::CONTENT_TYPE, "application/json")], super::wire::json(body).0.to_string()).into_response())
}

fn size_of(data: &Path, hash: &blake3::Hash) -> u64 {
    std::fs::metadata(paper_path(data, hash)).map_or(0, |m| m.len())
}

pub(super) async fn download(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    UrlPath(hex): UrlPath<String>,
) -> ApiResult<Response> {
    let hash = blake3::Hash::from_hex(&hex)
        .map_err(|_| ApiError::not_found(format!("{hex:?} is not the BLAKE3 hash of a paper")))?;
    blocking(move || {
        let record = state.recorder.record().map_err(ApiError::command)?;
        // Which meeting attached it, with what media type; the public gets
        // a paper only if it may read an event that attached it (of
        // published minutes, and not of an exempt item).
        let attached: Vec<_> = record
            .meetings
            .values()
            .flat_map(|m| m.papers.iter().map(move |p| (m, p)))
            .filter(|(_, p)| p.paper.content_hash == *hash.as_bytes())
            .collect();
        let visible = caller.role != Role::Public
            || attached.iter().any(|(m, p)| {
                let attaching = minutebook_catalogue::DomainEvent::PaperAttached(p.paper.clone());
                minutebook_projections::visibility::public_may_read_in(&record, m, attaching)
            });
        if !visible || (caller.role == Role::Public && attached.is_empty()) {
            return Err(ApiError::not_found(format!("no paper {hex} is published")));
        }
        // Recorded before types were checked, a paper may name one that
        // is not inert: it is then served as bytes to save, nothing more.
        let media_type = attached
            .first()
            .map(|(_, p)| p.paper.media_type.as_str())
            .filter(|t| papers::accepted_media_type(t))
            .unwrap_or("application/octet-stream");
        let bytes = match std::fs::read(paper_path(&state.data, &hash)) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(ApiError::not_found(format!("no paper {hex} was uploaded")))
            }
            Err(error) => return Err(ApiError::internal(error)),
        };
        if blake3::hash(&bytes) != hash {
            return Err(ApiError::corrupt_record(format!("the stored paper {hex} does not match its hash")));
        }
        Ok(served(&hash, media_type, bytes))
    })
    .await
}

/// A paper as a response that nothing can run: saved, not shown, unless it
/// is an image; never sniffed; and under the inert policy every response
/// without its own gets (`INERT_CONTENT_SECURITY_POLICY`: a sandbox that
/// loads and runs nothing), set here too so that it holds whatever layers
/// come after.
fn served(hash: &blake3::Hash, media_type: &str, bytes: Vec<u8>) -> Response {
    let content_type =
        if media_type.starts_with("text/") { format!("{media_type}; charset=utf-8") } else { media_type.to_owned() };
    let disposition = if papers::shown_inline(media_type) { "inline" } else { "attachment" };
    // Named by hash, not by the reference a clerk typed, so the header
    // carries nothing anyone wrote.
    let name = format!("paper-{}.{}", &hash.to_hex()[..16], papers::extension(media_type).unwrap_or("bin"));
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, format!("{disposition}; filename=\"{name}\"")),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (header::CONTENT_SECURITY_POLICY, crate::http::headers::INERT_CONTENT_SECURITY_POLICY.to_owned()),
        ],
        bytes,
    )
        .into_response()
}
