//! What a paper may be: the media types a council publishes papers in, and
//! how to tell that a file's bytes are of the type it is said to be.
//!
//! A paper is served from the site's own origin, so a type a browser would
//! run (HTML, SVG, XML, JavaScript) would let whoever uploads a paper run a
//! script as the site. Only inert types are accepted, and the bytes must
//! agree with the type: a file that starts like a PDF is a PDF, text is
//! UTF-8 without NUL bytes. Papers are served inert besides (see
//! `http::api::papers::download`): this is the first of two fences.
//!
//! Papers are kept as content-addressed files named by their BLAKE3 hash
//! in `papers/` of the data directory (`store`, `paper_path`).

use std::io::Write;
use std::path::{Path, PathBuf};

/// A media type a paper may have, with how its first bytes read.
struct PaperType {
    media_type: &'static str,
    /// The file name extension a download is given.
    extension: &'static str,
    content: Content,
}

enum Content {
    /// The file starts with one of these byte strings.
    Starts(&'static [&'static [u8]]),
    /// RIFF container of this form (bytes 8..12), such as WebP.
    Riff(&'static [u8; 4]),
    /// UTF-8 text with no NUL byte.
    Text,
}

const PDF: &[&[u8]] = &[b"%PDF-"];
/// Office Open XML and OpenDocument files are ZIP archives.
const ZIP: &[&[u8]] = &[b"PK\x03\x04"];
/// Word, Excel and PowerPoint's older files are OLE compound files.
const OLE: &[&[u8]] = &[b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"];

const PAPER_TYPES: &[PaperType] = &[
    PaperType { media_type: "application/pdf", extension: "pdf", content: Content::Starts(PDF) },
    PaperType { media_type: "text/plain", extension: "txt", content: Content::Text },
    PaperType { media_type: "text/csv", extension: "csv", content: Content::Text },
    PaperType { media_type: "text/markdown", extension: "md", content: Content::Text },
    PaperType { media_type: "image/png", extension: "png", content: Content::Starts(&[b"\x89PNG\r\n\x1A\n"]) },
    PaperType { media_type: "image/jpeg", extension: "jpg", content: Content::Starts(&[b"\xFF\xD8\xFF"]) },
    PaperType { media_type: "image/gif", extension: "gif", content: Content::Starts(&[b"GIF87a", b"GIF89a"]) },
    PaperType { media_type: "image/webp", extension: "webp", content: Content::Riff(b"WEBP") },
    PaperType {
        media_type: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        extension: "docx",
        content: Content::Starts(ZIP),
    },
    PaperType {
        media_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        extension: "xlsx",
        content: Content::Starts(ZIP),
    },
    PaperType {
        media_type: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        extension: "pptx",
        content: Content::Starts(ZIP),
    },
    PaperType {
        media_type: "application/vnd.oasis.opendocument.text",
        extension: "odt",
        content: Content::Starts(ZIP),
    },
    PaperType {
        media_type: "application/vnd.oasis.opendocument.spreadsheet",
        extension: "ods",
        content: Content::Starts(ZIP),
    },
    PaperType {
        media_type: "application/vnd.oasis.opendocument.presentation",
        extension: "odp",
        content: Content::Starts(ZIP),
    },
    PaperType { media_type: "application/msword", extension: "doc", content: Content::Starts(OLE) },
    PaperType { media_type: "application/vnd.ms-excel", extension: "xls", content: Content::Starts(OLE) },
    PaperType { media_type: "application/vnd.ms-powerpoint", extension: "ppt", content: Content::Starts(OLE) },
];

/// Why a file is not accepted as a paper.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("a paper of type {media_type:?} is not accepted; accepted are {}", accepted_list())]
    TypeNotAccepted { media_type: String },
    #[error("the paper's bytes are not {media_type}")]
    ContentDisagrees { media_type: String },
}

/// How many of a file's first bytes `content_agrees` needs to see.
pub const PAPER_HEAD_BYTES: usize = 64 * 1024;

fn paper_type(media_type: &str) -> Option<&'static PaperType> {
    PAPER_TYPES.iter().find(|t| t.media_type == media_type)
}

/// Every media type a paper may have.
pub fn paper_media_types() -> impl Iterator<Item = &'static str> {
    PAPER_TYPES.iter().map(|t| t.media_type)
}

/// Whether a paper may have this media type (exactly, in lower case,
/// without parameters).
pub fn accepted_media_type(media_type: &str) -> bool {
    paper_type(media_type).is_some()
}

/// The extension a download of this type is named with.
pub fn extension(media_type: &str) -> Option<&'static str> {
    paper_type(media_type).map(|t| t.extension)
}

/// Whether a browser may show a paper of this type in the page rather
/// than save it: images only, which run nothing. (A PDF viewer runs the
/// file's scripts, and browsers do not open PDFs under a sandbox policy.)
pub fn shown_inline(media_type: &str) -> bool {
    media_type.starts_with("image/") && accepted_media_type(media_type)
}

/// Whether a file whose first bytes are `head` (its first
/// `PAPER_HEAD_BYTES`, or all of it if shorter) is of `media_type`; the
/// reason if not.
pub fn content_agrees(media_type: &str, head: &[u8]) -> Result<(), Error> {
    let Some(paper_type) = paper_type(media_type) else {
        return Err(Error::TypeNotAccepted { media_type: media_type.to_owned() });
    };
    let agrees = match &paper_type.content {
        Content::Starts(signatures) => signatures.iter().any(|signature| head.starts_with(signature)),
        Content::Riff(form) => head.len() >= 12 && head.starts_with(b"RIFF") && head[8..12] == form[..],
        Content::Text => !head.contains(&0) && text_prefix(head),
    };
    if agrees {
        Ok(())
    } else {
        Err(Error::ContentDisagrees { media_type: media_type.to_owned() })
    }
}

/// Whether `head` is UTF-8, allowing a character cut off at its end.
fn text_prefix(head: &[u8]) -> bool {
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(error) => error.error_len().is_none() && head.len() == PAPER_HEAD_BYTES,
    }
}

/// The accepted media types, for messages.
pub fn accepted_list() -> String {
    paper_media_types().collect::<Vec<_>>().join(", ")
}

/// The directory in the data directory that holds papers.
pub const PAPERS_DIRECTORY: &str = "papers";
/// Where the paper with this hash lives.
pub fn paper_path(data: &Path, hash: &blake3::Hash) -> PathBuf {
    data.join(PAPERS_DIRECTORY).join(hash.to_hex().as_str())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_must_agree_with_the_type() {
        assert!(content_agrees("application/pdf", b"%PDF-1.7\n").is_ok());
        assert!(content_agrees("application/pdf", b"<html><script>").is_err());
        assert!(content_agrees("text/plain", "Agenda – item 1\n".as_bytes()).is_ok());
        assert!(content_agrees("text/plain", b"ab\0cd").is_err());
        assert!(content_agrees("text/plain", b"\xFF\xFE").is_err());
        assert!(content_agrees("image/webp", b"RIFF\x10\0\0\0WEBPVP8 ").is_ok());
        assert!(content_agrees("image/webp", b"RIFF\x10\0\0\0WAVEfmt ").is_err());
        assert!(content_agrees("text/html", b"<p>hello</p>").is_err());
        assert!(content_agrees("image/svg+xml", b"<svg/>").is_err());
        // A character cut by the end of the head is still text.
        let mut head = vec![b'a'; PAPER_HEAD_BYTES - 1];
        head.push(0xE2);
        assert!(content_agrees("text/plain", &head).is_ok());
        assert!(content_agrees("text/plain", &head[1..]).is_err());
    }

    #[test]
    fn only_images_are_shown_inline() {
        assert!(shown_inline("image/png"));
        assert!(!shown_inline("application/pdf"));
        assert!(!shown_inline("image/svg+xml"));
        assert!(!shown_inline("text/plain"));
    }
}
