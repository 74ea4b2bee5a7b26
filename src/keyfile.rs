//! A person's signing key on disk: an Ed25519 private key as a JSON Web
//! Key (RFC 8037: `kty` OKP, `crv` Ed25519, `x` the public key, `d` the
//! private seed, both base64url without padding), with the person's id as
//! `kid`. Browsers can import it with WebCrypto as it is. The file is
//! created with mode 0600 and never overwritten.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::{STANDARD as BASE64, URL_SAFE_NO_PAD as BASE64URL};
use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};
use minutebook_catalogue::PersonId;

/// Largest key file read, in bytes.
pub const KEY_FILE_BYTES_MAX: u64 = 4 * 1024;

/// Why a key file could not be made, read or written.
///
/// The I/O variants show the operating system's error in their message
/// and so do not also return it as their `source`, which would print it
/// twice in a chain of causes.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no randomness for a new key: {0}")]
    NoRandomness(getrandom::Error),
    #[error("not a JSON Web Key: {0}")]
    NotJson(serde_json::Error),
    #[error("the key has no \"{0}\"")]
    MissingMember(&'static str),
    #[error("the key is not an Ed25519 key (kty OKP, crv Ed25519)")]
    NotEd25519,
    /// The `kid` is not a person's id; the message says why.
    #[error("{0}")]
    Person(String),
    #[error("the key's \"d\" is not 32 bytes of base64url")]
    PrivateKey,
    #[error("the key's \"x\" is not the public key of its \"d\"")]
    PublicKeyMismatch,
    #[error("cannot create {}: {error}", path.display())]
    Create { path: PathBuf, error: std::io::Error },
    #[error("cannot write {}: {error}", path.display())]
    Write { path: PathBuf, error: std::io::Error },
    #[error("cannot open {}: {error}", path.display())]
    Open { path: PathBuf, error: std::io::Error },
    #[error("cannot read {}: {error}", path.display())]
    Read { path: PathBuf, error: std::io::Error },
    #[error("{} is larger than the limit of {bytes_max} bytes", path.display())]
    TooLarge { path: PathBuf, bytes_max: u64 },
    /// The file was read, but what it holds is not a key.
    #[error("{}: {error}", path.display())]
    NotAKey { path: PathBuf, error: Box<Error> },
}

/// A person's signing key.
pub struct KeyFile {
    pub person: PersonId,
    pub key: SigningKey,
}

impl KeyFile {
    pub fn generate(person: PersonId) -> Result<KeyFile, Error> {
        let mut seed = [0u8; 32];
        getrandom::getrandom(&mut seed).map_err(Error::NoRandomness)?;
        Ok(KeyFile { person, key: SigningKey::from_bytes(&seed) })
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    /// The public key in standard base64, as statements and commands show it.
    pub fn public_key_base64(&self) -> String {
        BASE64.encode(self.public_key())
    }

    pub fn to_json(&self) -> String {
        let value = serde_json::json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "kid": self.person.as_str(),
            "x": BASE64URL.encode(self.public_key()),
            "d": BASE64URL.encode(self.key.to_bytes()),
        });
        format!("{}\n", serde_json::to_string_pretty(&value).expect("JSON always encodes"))
    }

    pub fn from_json(text: &str) -> Result<KeyFile, Error> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(Error::NotJson)?;
        let field = |name: &'static str| value.get(name).and_then(|v| v.as_str()).ok_or(Error::MissingMember(name));
        if field("kty")? != "OKP" || field("crv")? != "Ed25519" {
            return Err(Error::NotEd25519);
        }
        let person = PersonId::new(field("kid")?).map_err(Error::Person)?;
        let seed: [u8; 32] =
            BASE64URL.decode(field("d")?).ok().and_then(|bytes| bytes.try_into().ok()).ok_or(Error::PrivateKey)?;
        let key = SigningKey::from_bytes(&seed);
        if field("x")? != BASE64URL.encode(key.verifying_key().to_bytes()) {
            return Err(Error::PublicKeyMismatch);
        }
        Ok(KeyFile { person, key })
    }

    /// Writes a new key file readable by its owner only.
    pub fn write_new(&self, path: &Path) -> Result<(), Error> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path).map_err(|error| Error::Create { path: path.to_owned(), error })?;
        file.write_all(self.to_json().as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|error| Error::Write { path: path.to_owned(), error })
    }

    pub fn read(path: &Path) -> Result<KeyFile, Error> {
        let text = read_limited(path, KEY_FILE_BYTES_MAX)?;
        KeyFile::from_json(&text).map_err(|error| Error::NotAKey { path: path.to_owned(), error: Box::new(error) })
    }

    /// The base64 signature over `message`.
    pub fn sign_base64(&self, message: &[u8]) -> String {
        BASE64.encode(self.key.sign(message).to_bytes())
    }
}

/// Reads a text file of at most `max` bytes.
pub fn read_limited(path: &Path, max: u64) -> Result<String, Error> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|error| Error::Open { path: path.to_owned(), error })?;
    let mut text = String::new();
    file.take(max + 1).read_to_string(&mut text).map_err(|error| Error::Read { path: path.to_owned(), error })?;
    if text.len() as u64 > max {
        return Err(Error::TooLarge { path: path.to_owned(), bytes_max: max });
    }
    Ok(text)
}
