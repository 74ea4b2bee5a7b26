//! Checkpoints: C2SP tlog-checkpoint bodies in C2SP signed notes, signed
//! with the log's Ed25519 key.
//!
//! A note is the body (origin, tree size in decimal, base64 root; each line
//! ending in a newline), a blank line, then signature lines
//! `— <key name> <base64(key id ‖ signature)>`. The signature covers the
//! body, final newline included. The key id is the first four bytes of
//! SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ public key), 0x01 being the Ed25519
//! signature type. Verification is always `verify_strict`.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::envelope::check_text;
use crate::error::{Error, Result};
use crate::limits::ORIGIN_BYTES_MAX;
use crate::types::{hex, parse_decimal, unhex, TreeHash};

/// C2SP signed-note signature type of Ed25519.
const SIGNATURE_TYPE_ED25519: u8 = 0x01;
/// The signature line prefix: U+2014 EM DASH and a space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";
/// Largest note this code parses.
pub const NOTE_BYTES_MAX: usize = 4 * 1024;

/// What a checkpoint says: the log, its size and its root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub tree_size: u64,
    pub root: TreeHash,
}

impl Checkpoint {
    /// The tlog-checkpoint body, the text the signature covers.
    pub fn body(&self) -> String {
        format!("{}\n{}\n{}\n", self.origin, self.tree_size, BASE64.encode(self.root.0))
    }

    pub(crate) fn parse_body(body: &str) -> Result<Checkpoint> {
        let bad = |why: &str| Error::verification(format!("checkpoint body: {why}"));
        let lines: Vec<&str> = body.strip_suffix('\n').ok_or_else(|| bad("no final newline"))?.split('\n').collect();
        let [origin, size, root] = lines[..] else {
            return Err(bad(&format!("expected 3 lines (origin, tree size, root), found {}", lines.len())));
        };
        check_origin(origin)?;
        let tree_size =
            parse_decimal(size).ok_or_else(|| bad(&format!("tree size {size:?} is not a decimal number")))?;
        let root_bytes = BASE64.decode(root).map_err(|_| bad(&format!("root {root:?} is not base64")))?;
        let root: [u8; 32] = root_bytes.try_into().map_err(|_| bad("root is not 32 bytes"))?;
        Ok(Checkpoint { origin: origin.to_owned(), tree_size, root: TreeHash(root) })
    }
}

/// An origin names the log in every checkpoint and is its key name: no
/// spaces, no plus sign, no control characters (C2SP signed-note).
pub fn check_origin(origin: &str) -> Result<()> {
    check_text("origin", origin, ORIGIN_BYTES_MAX)?;
    if origin.contains(|c: char| c.is_whitespace() || c == '+') {
        return Err(Error::invalid(format!("origin {origin:?} contains a space or a plus sign")));
    }
    Ok(())
}

/// C2SP signed-note key id of an Ed25519 key.
pub fn key_id(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update([b'\n', SIGNATURE_TYPE_ED25519]);
    hasher.update(key.as_bytes());
    let digest = hasher.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

/// The log's public key with its name: checks checkpoints.
#[derive(Clone, Debug)]
pub struct NoteVerifier {
    name: String,
    key: VerifyingKey,
    key_id: [u8; 4],
}

impl NoteVerifier {
    pub fn new(name: &str, key: VerifyingKey) -> Result<NoteVerifier> {
        check_origin(name)?;
        Ok(NoteVerifier { name: name.to_owned(), key_id: key_id(name, &key), key })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key(&self) -> &VerifyingKey {
        &self.key
    }

    /// The verifier key text `<name>+<hex key id>+<base64(0x01 ‖ key)>`.
    pub fn to_vkey(&self) -> String {
        let mut typed = vec![SIGNATURE_TYPE_ED25519];
        typed.extend_from_slice(self.key.as_bytes());
        format!("{}+{}+{}", self.name, hex(&self.key_id), BASE64.encode(typed))
    }

    pub fn from_vkey(text: &str) -> Result<NoteVerifier> {
        let bad = || Error::invalid(format!("verifier key {:?} is not <name>+<key id>+<base64 key>", text.trim()));
        let mut parts = text.trim().splitn(3, '+');
        let (Some(name), Some(id_hex), Some(key_b64), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let typed = BASE64.decode(key_b64).map_err(|_| bad())?;
        let [SIGNATURE_TYPE_ED25519, key_bytes @ ..] = typed.as_slice() else {
            return Err(Error::invalid("verifier key is not an Ed25519 key"));
        };
        let key_bytes: [u8; 32] = key_bytes.try_into().map_err(|_| bad())?;
        let key = VerifyingKey::from_bytes(&key_bytes)
            .map_err(|_| Error::invalid("verifier key is not a valid Ed25519 point"))?;
        let verifier = NoteVerifier::new(name, key)?;
        let mut id = [0u8; 4];
        unhex(id_hex, &mut id).ok_or_else(bad)?;
        if id != verifier.key_id {
            return Err(Error::invalid(format!("verifier key's id {id_hex} does not match its key")));
        }
        Ok(verifier)
    }

    /// Checks a signed checkpoint note and returns what it says. The note
    /// must carry a valid signature by this key, and its origin must be this
    /// key's name.
    pub fn open(&self, note: &str) -> Result<Checkpoint> {
        if note.len() > NOTE_BYTES_MAX {
            return Err(Error::verification(format!(
                "checkpoint of {} bytes exceeds the limit of {NOTE_BYTES_MAX}",
                note.len()
            )));
        }
        if note.chars().any(|c| c.is_ascii_control() && c != '\n') {
            return Err(Error::verification("checkpoint contains a control character"));
        }
        let split = note
            .rfind("\n\n")
            .ok_or_else(|| Error::verification("checkpoint has no blank line before its signatures"))?;
        let (body, signatures) = (&note[..split + 1], &note[split + 2..]);
        let signatures =
            signatures.strip_suffix('\n').ok_or_else(|| Error::verification("checkpoint does not end in a newline"))?;
        let mut found = None;
        for line in signatures.split('\n') {
            let rest = line.strip_prefix(SIGNATURE_PREFIX).ok_or_else(|| {
                Error::verification(format!("signature line {line:?} does not start with an em dash and a space"))
            })?;
            let (name, b64) = rest
                .split_once(' ')
                .ok_or_else(|| Error::verification(format!("signature line {line:?} has no signature")))?;
            let bytes =
                BASE64.decode(b64).map_err(|_| Error::verification(format!("signature of {name} is not base64")))?;
            if name == self.name && bytes.len() == 68 && bytes[..4] == self.key_id && found.is_none() {
                found =
                    Some(Signature::from_slice(&bytes[4..]).map_err(|_| Error::verification("malformed signature"))?);
            }
        }
        let signature = found.ok_or_else(|| {
            Error::verification(format!("checkpoint carries no signature by key {} ({})", self.name, hex(&self.key_id)))
        })?;
        self.key
            .verify_strict(body.as_bytes(), &signature)
            .map_err(|_| Error::verification(format!("checkpoint signature by {} does not verify", self.name)))?;
        let checkpoint = Checkpoint::parse_body(body)?;
        if checkpoint.origin != self.name {
            return Err(Error::verification(format!(
                "checkpoint origin {:?} is not the log's name {:?}",
                checkpoint.origin, self.name
            )));
        }
        Ok(checkpoint)
    }
}

/// The log's private key: signs checkpoints.
pub struct NoteSigner {
    verifier: NoteVerifier,
    key: SigningKey,
}

impl NoteSigner {
    pub fn generate(name: &str) -> Result<NoteSigner> {
        let mut seed = [0u8; 32];
        getrandom::getrandom(&mut seed)
            .map_err(|error| Error::io("reading the random source", std::io::Error::other(error.to_string())))?;
        NoteSigner::from_seed(name, seed)
    }

    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<NoteSigner> {
        let key = SigningKey::from_bytes(&seed);
        Ok(NoteSigner { verifier: NoteVerifier::new(name, key.verifying_key())?, key })
    }

    pub fn verifier(&self) -> &NoteVerifier {
        &self.verifier
    }

    /// The private key text `PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 ‖ seed)>`.
    pub fn to_skey(&self) -> String {
        let mut typed = vec![SIGNATURE_TYPE_ED25519];
        typed.extend_from_slice(self.key.as_bytes());
        format!("PRIVATE+KEY+{}+{}+{}", self.verifier.name, hex(&self.verifier.key_id), BASE64.encode(typed))
    }

    pub fn from_skey(text: &str) -> Result<NoteSigner> {
        let bad = || Error::invalid("private key is not PRIVATE+KEY+<name>+<key id>+<base64 key>");
        let rest = text.trim().strip_prefix("PRIVATE+KEY+").ok_or_else(bad)?;
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(key_b64), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let typed = BASE64.decode(key_b64).map_err(|_| bad())?;
        let [SIGNATURE_TYPE_ED25519, seed @ ..] = typed.as_slice() else {
            return Err(bad());
        };
        let signer = NoteSigner::from_seed(name, seed.try_into().map_err(|_| bad())?)?;
        if id_hex != hex(&signer.verifier.key_id) {
            return Err(Error::invalid("private key's id does not match its key"));
        }
        Ok(signer)
    }

    /// A 32-byte key for `context`, derived from the private key, so that
    /// whoever lacks the private key cannot compute it.
    pub(crate) fn derive_key(&self, context: &str) -> [u8; 32] {
        blake3::derive_key(context, self.key.as_bytes())
    }

    /// The signed note of `checkpoint`.
    pub fn sign(&self, checkpoint: &Checkpoint) -> String {
        assert_eq!(checkpoint.origin, self.verifier.name);
        let body = checkpoint.body();
        let signature = self.key.sign(body.as_bytes());
        let mut signed = self.verifier.key_id.to_vec();
        signed.extend_from_slice(&signature.to_bytes());
        format!("{body}\n{SIGNATURE_PREFIX}{} {}\n", self.verifier.name, BASE64.encode(signed))
    }
}
