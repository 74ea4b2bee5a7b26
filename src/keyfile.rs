//! A person's signing key on disk: an Ed25519 private key as a JSON Web
//! Key (RFC 8037: `kty` OKP, `crv` Ed25519, `x` the public key, `d` the
//! private seed, both base64url without padding), with the person's id as
//! `kid`. Browsers can import it with WebCrypto as it is. The file is
//! created with mode 0600 and never overwritten.

use std::io::Write;
use std::path::Path;

use base64::engine::general_purpose::{STANDARD as BASE64, URL_SAFE_NO_PAD as BASE64URL};
use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};
use minutebook_catalogue::PersonId;

/// Largest key file read, in bytes.
pub const KEY_FILE_BYTES_MAX: u64 = 4 * 1024;

/// A person's signing key.
pub struct KeyFile {
    pub person: PersonId,
    pub key: SigningKey,
}

impl KeyFile {
    pub fn generate(person: PersonId) -> Result<KeyFile, String> {
        let mut seed = [0u8; 32];
        getrandom::getrandom(&mut seed).map_err(|error| format!("no randomness for a new key: {error}"))?;
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

    pub fn from_json(text: &str) -> Result<KeyFile, String> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|error| format!("not a JSON Web Key: {error}"))?;
        let field =
            |name: &str| value.get(name).and_then(|v| v.as_str()).ok_or_else(|| format!("the key has no \"{name}\""));
        if field("kty")? != "OKP" || field("crv")? != "Ed25519" {
            return Err("the key is not an Ed25519 key (kty OKP, crv Ed25519)".to_owned());
        }
        let person = PersonId::new(field("kid")?)?;
        let seed: [u8; 32] = BASE64URL
            .decode(field("d")?)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or("the key's \"d\" is not 32 bytes of base64url")?;
        let key = SigningKey::from_bytes(&seed);
        if field("x")? != BASE64URL.encode(key.verifying_key().to_bytes()) {
            return Err("the key's \"x\" is not the public key of its \"d\"".to_owned());
        }
        Ok(KeyFile { person, key })
    }

    /// Writes a new key file readable by its owner only.
    pub fn write_new(&self, path: &Path) -> Result<(), String> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path).map_err(|error| format!("cannot create {}: {error}", path.display()))?;
        file.write_all(self.to_json().as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|error| format!("cannot write {}: {error}", path.display()))
    }

    pub fn read(path: &Path) -> Result<KeyFile, String> {
        let text = read_limited(path, KEY_FILE_BYTES_MAX)?;
        KeyFile::from_json(&text).map_err(|error| format!("{}: {error}", path.display()))
    }

    /// The base64 signature over `message`.
    pub fn sign_base64(&self, message: &[u8]) -> String {
        BASE64.encode(self.key.sign(message).to_bytes())
    }
}

/// Reads a text file of at most `max` bytes.
pub fn read_limited(path: &Path, max: u64) -> Result<String, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|error| format!("cannot open {}: {error}", path.display()))?;
    let mut text = String::new();
    file.take(max + 1).read_to_string(&mut text).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    if text.len() as u64 > max {
        return Err(format!("{} is larger than the limit of {max} bytes", path.display()));
    }
    Ok(text)
}
