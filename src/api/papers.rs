//! Papers (agenda packs, reports, handouts): uploaded as bytes, stored as
//! content-addressed files named by their BLAKE3 hash in `papers/` of the
//! data directory, each fsynced with its directory before the upload is
//! acknowledged, so a `paper.attached` event never names a file that is
//! not on stable storage. Downloads check the hash on the way out.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde_json::json;

use super::tokens::{Caller, Role};
use super::{blocking, ApiError, ApiResult, AppState};

/// The directory in the data directory that holds papers.
pub const PAPERS_DIRECTORY: &str = "papers";
/// Largest paper accepted, in bytes.
pub const PAPER_BYTES_MAX: usize = 50 * 1024 * 1024;
/// The media types a paper may have.
pub const PAPER_MEDIA_TYPES: &[&str] = &[
    "application/pdf",
    "text/plain",
    "text/csv",
    "text/markdown",
    "image/png",
    "image/jpeg",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
];

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/papers", post(upload).layer(super::transport::body_limit(PAPER_BYTES_MAX)))
        .route("/v1/papers/{hash}", get(download))
}

/// Where the paper with this hash lives.
pub fn paper_path(data: &Path, hash: &blake3::Hash) -> PathBuf {
    data.join(PAPERS_DIRECTORY).join(hash.to_hex().as_str())
}

async fn upload(
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
    if !PAPER_MEDIA_TYPES.contains(&media_type.as_str()) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            format!("a paper of type {media_type:?} is not accepted; accepted are {}", PAPER_MEDIA_TYPES.join(", ")),
        ));
    }
    if bytes.is_empty() {
        return Err(ApiError::invalid("a paper of 0 bytes holds nothing"));
    }
    let data = state.data.clone();
    let (hash, created) = blocking(move || store(&data, &bytes).map_err(ApiError::internal)).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    let body = json!({ "content_hash": hash.to_hex().as_str(), "size_bytes": size_of(&state.data, &hash), "media_type": media_type });
    Ok((status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response())
}

fn size_of(data: &Path, hash: &blake3::Hash) -> u64 {
    std::fs::metadata(paper_path(data, hash)).map_or(0, |m| m.len())
}

/// Writes the paper under its hash: to a temporary file, fsynced, renamed
/// into place, and the directory fsynced. Returns whether it was new.
pub fn store(data: &Path, bytes: &[u8]) -> std::io::Result<(blake3::Hash, bool)> {
    let hash = blake3::hash(bytes);
    let directory = data.join(PAPERS_DIRECTORY);
    std::fs::create_dir_all(&directory)?;
    let path = paper_path(data, &hash);
    if path.exists() {
        return Ok((hash, false));
    }
    let mut random = [0u8; 8];
    let _ = getrandom::getrandom(&mut random);
    let temporary = directory.join(format!(".upload-{}", minutebook_log::hex(&random)));
    let mut file = std::fs::File::create(&temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temporary, &path)?;
    std::fs::File::open(&directory)?.sync_all()?;
    Ok((hash, true))
}

async fn download(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    UrlPath(hex): UrlPath<String>,
) -> ApiResult<Response> {
    let hash = blake3::Hash::from_hex(&hex)
        .map_err(|_| ApiError::not_found(format!("{hex:?} is not the BLAKE3 hash of a paper")))?;
    blocking(move || {
        let record = state.recorder.record().map_err(ApiError::command)?;
        // Which meeting attached it, with what media type; the public gets
        // a paper only if an item it may read, or no item, names it.
        let attached: Vec<_> = record
            .meetings
            .values()
            .flat_map(|m| m.papers.iter().map(move |p| (m, p)))
            .filter(|(_, p)| p.paper.content_hash == *hash.as_bytes())
            .collect();
        let visible = caller.role != Role::Public
            || attached.iter().any(|(m, p)| {
                !p.paper
                    .item
                    .and_then(|n| m.item(n))
                    .is_some_and(minutebook_projections::record::Item::exempt_unreleased)
            });
        if !visible || (caller.role == Role::Public && attached.is_empty()) {
            return Err(ApiError::not_found(format!("no paper {hex} is published")));
        }
        let media_type =
            attached.first().map_or("application/octet-stream".to_owned(), |(_, p)| p.paper.media_type.clone());
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
        Ok(([(header::CONTENT_TYPE, media_type)], bytes).into_response())
    })
    .await
}
