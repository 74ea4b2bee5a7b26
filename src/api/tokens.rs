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
    pub fn parse(text: &str) -> Result<Role, String> {
        match text {
            "member" => Ok(Role::Member),
            "auditor" => Ok(Role::Auditor),
            "clerk" => Ok(Role::Clerk),
            "admin" => Ok(Role::Admin),
            other => Err(format!("role {other:?} is not one of admin, clerk, member, auditor")),
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

pub struct TokenStore {
    path: PathBuf,
    tokens: Mutex<Vec<TokenRecord>>,
}

impl TokenStore {
    pub fn open(data: &Path) -> Result<TokenStore, String> {
        let path = data.join(TOKENS_FILE);
        let tokens = match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| format!("{} is damaged: {e}", path.display()))?,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(error) => return Err(format!("cannot read {}: {error}", path.display())),
        };
        Ok(TokenStore { path, tokens: Mutex::new(tokens) })
    }

    /// Makes a new token; returns it (shown once) and its record.
    pub fn create(&self, role: Role, person: Option<&str>) -> Result<(String, TokenRecord), String> {
        let mut secret = [0u8; 32];
        getrandom::getrandom(&mut secret).map_err(|e| format!("no randomness for a token: {e}"))?;
        let token = format!("mbt_{}", BASE64URL.encode(secret));
        let hash = blake3::hash(token.as_bytes());
        let record = TokenRecord {
            id: hash.to_hex()[..12].to_owned(),
            hash: hash.to_hex().to_string(),
            role,
            person: person.map(str::to_owned),
            revoked: false,
        };
        let mut tokens = self.tokens.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if tokens.len() >= TOKENS_MAX {
            return Err(format!("the data directory already holds {TOKENS_MAX} tokens"));
        }
        tokens.push(record.clone());
        self.save(&tokens)?;
        Ok((token, record))
    }

    /// Revokes the token with this id.
    pub fn revoke(&self, id: &str) -> Result<(), String> {
        let mut tokens = self.tokens.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let record = tokens.iter_mut().find(|t| t.id == id).ok_or_else(|| format!("no token {id}"))?;
        record.revoked = true;
        self.save(&tokens)
    }

    /// The caller a presented token stands for; None if it is unknown or
    /// revoked.
    pub fn caller(&self, token: &str) -> Option<Caller> {
        let presented = blake3::hash(token.as_bytes());
        let tokens = self.tokens.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        tokens
            .iter()
            .filter(|t| !t.revoked)
            .find(|t| blake3::Hash::from_hex(&t.hash).is_ok_and(|stored| stored == presented))
            .map(|t| Caller { role: t.role, person: t.person.clone() })
    }

    /// Writes the file anew and renames it into place, fsynced.
    fn save(&self, tokens: &[TokenRecord]) -> Result<(), String> {
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
        write().map_err(|e| format!("cannot write {}: {e}", self.path.display()))
    }
}
