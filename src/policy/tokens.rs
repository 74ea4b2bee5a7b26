//! API tokens: who a request speaks for. A token is 32 random bytes shown
//! once (base64url); the data directory keeps only its BLAKE3 hash, with
//! the role and person it stands for, in `tokens.json` (mode 0600).
//! Lookups compare hashes with BLAKE3's constant-time equality.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use base64::Engine;
use serde::{Deserialize, Serialize};

/// The file in the data directory that holds token hashes.
pub const TOKENS_FILE: &str = "tokens.json";
/// Most tokens a data directory keeps.
pub const TOKENS_MAX: usize = 10_000;

/// Why a token could not be made, revoked or read, or a role named.
/// The I/O variants show the operating system's error in their message,
/// not as a `source`, so that it is not printed twice.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("role {0:?} is not one of admin, clerk, member, auditor")]
    UnknownRole(String),
    #[error("no token {0}")]
    NoSuchToken(String),
    #[error("the data directory already holds {TOKENS_MAX} tokens")]
    TooMany,
    #[error("no randomness for a token: {0}")]
    NoRandomness(getrandom::Error),
    #[error("{} is damaged: {error}", path.display())]
    Damaged { path: PathBuf, error: serde_json::Error },
    #[error("cannot read {}: {error}", path.display())]
    Read { path: PathBuf, error: std::io::Error },
    #[error("cannot write {}: {error}", path.display())]
    Write { path: PathBuf, error: std::io::Error },
    #[error("cannot open {}: {error}", path.display())]
    OpenLock { path: PathBuf, error: std::io::Error },
    #[error("cannot lock {}: {error}", path.display())]
    Lock { path: PathBuf, error: std::io::Error },
}

/// What a caller may do; no token is the public.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Public,
    /// Members of bodies (a chair is a member with a registered key).
    Member,
    Auditor,
    Clerk,
    Admin,
}

impl Role {
    pub fn parse(text: &str) -> Result<Role, Error> {
        match text {
            "member" => Ok(Role::Member),
            "auditor" => Ok(Role::Auditor),
            "clerk" => Ok(Role::Clerk),
            "admin" => Ok(Role::Admin),
            other => Err(Error::UnknownRole(other.to_owned())),
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Role::Public => "public",
            Role::Member => "member",
            Role::Auditor => "auditor",
            Role::Clerk => "clerk",
            Role::Admin => "admin",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// A short public id to name the token when revoking it.
    pub id: String,
    /// BLAKE3 of the token, hex.
    pub hash: String,
    pub role: Role,
    pub person: Option<String>,
    pub revoked: bool,
}

/// Who a request speaks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub role: Role,
    pub person: Option<String>,
}

impl Caller {
    pub fn public() -> Caller {
        Caller { role: Role::Public, person: None }
    }
}

/// The file whose lock serialises changes to `TOKENS_FILE` between
/// processes (the server and `minutebook token`).
pub const TOKENS_LOCK_FILE: &str = "tokens.lock";

/// The tokens of a data directory. The file is the truth, shared by the
/// server and the CLI: a change is made under `TOKENS_LOCK_FILE` to the
/// file as it is then, and a lookup first checks whether the file was
/// replaced since it was read, so a token revoked with `minutebook token
/// revoke` while the server runs is refused from the server's next
/// request, and neither process undoes the other's change.
pub struct TokenStore {
    path: PathBuf,
    lock_path: PathBuf,
    tokens: Mutex<Loaded>,
}

/// The tokens as last read, and which version of the file they came from.
struct Loaded {
    tokens: Vec<TokenRecord>,
    /// None once the file could not be read: no token is honoured then.
    from: Option<FileStamp>,
}

/// Identifies one version of the tokens file: it is only ever replaced
/// by a rename, which gives it a new inode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FileStamp {
    inode: u64,
    len: u64,
    modified: Option<std::time::SystemTime>,
}

fn stamp(path: &Path) -> std::io::Result<Option<FileStamp>> {
    match std::fs::metadata(path) {
        Ok(metadata) => Ok(Some(FileStamp {
            inode: std::os::unix::fs::MetadataExt::ino(&metadata),
            len: metadata.len(),
            modified: metadata.modified().ok(),
        })),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

/// The tokens file as it is now, with its stamp (taken before the read,
/// so a change during it is seen by the next check).
fn read(path: &Path) -> Result<(Vec<TokenRecord>, Option<FileStamp>), Error> {
    let reading = |error| Error::Read { path: path.to_owned(), error };
    let stamped = stamp(path).map_err(reading)?;
    let tokens = match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).map_err(|error| Error::Damaged { path: path.to_owned(), error })?,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(error) => return Err(reading(error)),
    };
    Ok((tokens, stamped))
}

impl TokenStore {
    pub fn open(data: &Path) -> Result<TokenStore, Error> {
        let path = data.join(TOKENS_FILE);
        let (tokens, from) = read(&path)?;
        let loaded = Loaded { tokens, from: Some(from.unwrap_or(FileStamp { inode: 0, len: 0, modified: None })) };
        Ok(TokenStore { path, lock_path: data.join(TOKENS_LOCK_FILE), tokens: Mutex::new(loaded) })
    }

    /// Makes a new token; returns it (shown once) and its record.
    pub fn create(&self, role: Role, person: Option<&str>) -> Result<(String, TokenRecord), Error> {
        let mut secret = [0u8; 32];
        getrandom::getrandom(&mut secret).map_err(Error::NoRandomness)?;
        let token = format!("mbt_{}", BASE64URL.encode(secret));
        let hash = blake3::hash(token.as_bytes());
        let record = TokenRecord {
            id: hash.to_hex()[..12].to_owned(),
            hash: hash.to_hex().to_string(),
            role,
            person: person.map(str::to_owned),
            revoked: false,
        };
        self.change(|tokens| {
            if tokens.len() >= TOKENS_MAX {
                return Err(Error::TooMany);
            }
            tokens.push(record.clone());
            Ok(())
        })?;
        Ok((token, record))
    }

    /// Revokes the token with this id.
    pub fn revoke(&self, id: &str) -> Result<(), Error> {
        self.change(|tokens| {
            let record = tokens.iter_mut().find(|t| t.id == id).ok_or_else(|| Error::NoSuchToken(id.to_owned()))?;
            record.revoked = true;
            Ok(())
        })
    }

    /// The caller a presented token stands for; None if it is unknown or
    /// revoked, or if the tokens file can no longer be read (the error is
    /// logged: a damaged file honours no token, rather than old ones).
    pub fn caller(&self, token: &str) -> Option<Caller> {
        let presented = blake3::hash(token.as_bytes());
        let mut loaded = self.tokens.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let current = stamp(&self.path).ok().flatten();
        if current.is_some() && current != loaded.from {
            *loaded = match read(&self.path) {
                Ok((tokens, from)) => Loaded { tokens, from },
                Err(error) => {
                    tracing::error!(%error, "the tokens file cannot be read: no token is honoured until it can");
                    Loaded { tokens: Vec::new(), from: None }
                }
            };
        }
        loaded
            .tokens
            .iter()
            .filter(|t| !t.revoked)
            .find(|t| blake3::Hash::from_hex(&t.hash).is_ok_and(|stored| stored == presented))
            .map(|t| Caller { role: t.role, person: t.person.clone() })
    }

    /// Changes the tokens file as it is now, holding the lock that other
    /// processes take to change it, and keeps what was written.
    fn change(&self, edit: impl FnOnce(&mut Vec<TokenRecord>) -> Result<(), Error>) -> Result<(), Error> {
        let mut loaded = self.tokens.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&self.lock_path)
            .map_err(|error| Error::OpenLock { path: self.lock_path.clone(), error })?;
        lock.lock().map_err(|error| Error::Lock { path: self.lock_path.clone(), error })?;
        let (mut tokens, _) = read(&self.path)?;
        edit(&mut tokens)?;
        self.save(&tokens)?;
        let from = stamp(&self.path).map_err(|error| Error::Read { path: self.path.clone(), error })?;
        *loaded = Loaded { tokens, from };
        Ok(())
    }

    /// Writes the file anew and renames it into place, fsynced.
    fn save(&self, tokens: &[TokenRecord]) -> Result<(), Error> {
        let text = serde_json::to_string_pretty(tokens).expect("tokens always encode");
        let temporary = self.path.with_extension("json.new");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let write = || -> std::io::Result<()> {
            let mut file = options.open(&temporary)?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
            std::fs::rename(&temporary, &self.path)?;
            if let Some(directory) = self.path.parent() {
                std::fs::File::open(directory)?.sync_all()?;
            }
            Ok(())
        };
        write().map_err(|error| Error::Write { path: self.path.clone(), error })
    }
}
