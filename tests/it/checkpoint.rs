//! Checkpoints: signed notes byte for byte as C2SP specifies them, checked
//! against notes and keys made by other implementations; keys that
//! round-trip; tampered or malformed notes refused without panicking; and a
//! log whose signed checkpoints are all consistent with one another.

use minutebook_log::checkpoint::NOTE_BYTES_MAX;
use minutebook_log::{hex, merkle, Checkpoint, ErrorCategory, NoteSigner, NoteVerifier, TreeHash};
use proptest::prelude::*;

use crate::merkle::log_with_batches;
use crate::support::{Scratch, ORIGIN};

/// The example key of golang.org/x/mod/sumdb/note, the reference
/// implementation of signed notes.
const GO_SKEY: &str = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const GO_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";

const ROOT_BASE64: &str = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";
const ROOT_HEX: &str = "0ac5186a91863e8e1d90c808014aa89bf5da8e3ee1d9f07630f0378f68f1ab62";

/// The checkpoint of 20852163 leaves with root `ROOT_HEX`, signed with
/// `GO_SKEY` by Python's `cryptography` (Ed25519 signatures are
/// deterministic), the key id computed with `hashlib`.
const SIGNED_ELSEWHERE: &str = "PeterNeumann\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\
\u{2014} PeterNeumann x08go9iKupgWNHi/EgHZnoG+ps1lAjYwfjEc/8lpKQy7IflYyxkNOvLryOwkElHoaRroM1ZSqWsPs/ebq+/3jt1yDQQ=\n";

/// RFC 8032 §7.1 TEST 1: an Ed25519 secret key and its public key.
const RFC_8032_SEED_HEX: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const RFC_8032_PUBLIC_HEX: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
/// The keys of RFC 8032's TEST 1 under the test origin, composed in Python
/// with the key id SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[..4] from
/// `hashlib`.
const RFC_8032_VKEY: &str = "test.minutebook.local/log+e73a58ec+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea";
const RFC_8032_SKEY: &str =
    "PRIVATE+KEY+test.minutebook.local/log+e73a58ec+AZ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g";

// -- Base64 (RFC 4648 §4, padded), written here so that the notes' encoding
// is checked against something other than the crate the log uses.

const BASE64_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(bytes: &[u8]) -> String {
    let mut text = String::new();
    for chunk in bytes.chunks(3) {
        let group =
            chunk.iter().enumerate().fold(0u32, |group, (idx, &byte)| group | u32::from(byte) << (16 - 8 * idx));
        for sextet_idx in 0..4 {
            if sextet_idx <= chunk.len() {
                text.push(char::from(BASE64_ALPHABET[(group >> (18 - 6 * sextet_idx)) as usize & 63]));
            } else {
                text.push('=');
            }
        }
    }
    text
}

fn base64_decode(text: &str) -> Vec<u8> {
    let (mut group, mut n_bits, mut bytes) = (0u32, 0, Vec::new());
    for symbol in text.bytes().filter(|&symbol| symbol != b'=') {
        let value = BASE64_ALPHABET.iter().position(|&candidate| candidate == symbol).expect("a base64 symbol");
        group = group << 6 | value as u32;
        n_bits += 6;
        if n_bits >= 8 {
            n_bits -= 8;
            bytes.push((group >> n_bits) as u8);
            group &= (1 << n_bits) - 1;
        }
    }
    bytes
}

fn seed_from_hex(text: &str) -> [u8; 32] {
    TreeHash::from_hex(text).expect("32 bytes of hex").0
}

/// The example checkpoint `SIGNED_ELSEWHERE` says.
fn example_checkpoint() -> Checkpoint {
    Checkpoint { origin: "PeterNeumann".into(), tree_size: 20852163, root: TreeHash::from_hex(ROOT_HEX).unwrap() }
}

/// Checks that `note` is exactly the C2SP signed note of `checkpoint` with
/// one signature by the key `vkey`: the body `origin\nsize\nbase64(root)\n`,
/// a blank line, and `— name base64(key id ‖ 64-byte signature)\n`.
fn check_note_format(note: &str, checkpoint: &Checkpoint, vkey: &str) {
    let mut vkey_parts = vkey.splitn(3, '+');
    let (name, key_id_hex) = (vkey_parts.next().unwrap(), vkey_parts.next().unwrap());
    let signature_base64 = note.trim_end_matches('\n').rsplit_once(' ').expect("a signature line").1;
    let signature = base64_decode(signature_base64);
    assert_eq!(signature.len(), 4 + 64, "key id and Ed25519 signature");
    assert_eq!(hex(&signature[..4]), key_id_hex);
    assert_eq!(base64_encode(&signature), signature_base64, "canonical base64");
    let root_base64 = base64_encode(&checkpoint.root.0);
    let (origin, tree_size) = (&checkpoint.origin, checkpoint.tree_size);
    assert_eq!(note, format!("{origin}\n{tree_size}\n{root_base64}\n\n\u{2014} {name} {signature_base64}\n"));
}

/// Opens `note` with `verifier` and checks it is refused for a reason that
/// mentions `message`.
fn check_refused(verifier: &NoteVerifier, note: &str, message: &str) {
    let error = verifier.open(note).expect_err(&format!("{note:?} should be refused"));
    assert_eq!(error.category(), ErrorCategory::Verification, "{error}");
    assert!(error.to_string().contains(message), "{error} does not say {message:?}, for {note:?}");
}

#[test]
fn notes_match_those_signed_elsewhere() {
    assert_eq!(base64_encode(&example_checkpoint().root.0), ROOT_BASE64);
    assert_eq!(base64_decode(ROOT_BASE64), example_checkpoint().root.0);
    let signer = NoteSigner::from_skey(GO_SKEY).unwrap();
    assert_eq!(signer.to_skey(), GO_SKEY);
    assert_eq!(signer.verifier().to_vkey(), GO_VKEY);
    assert_eq!(signer.sign(&example_checkpoint()), SIGNED_ELSEWHERE);
    let verifier = NoteVerifier::from_vkey(GO_VKEY).unwrap();
    assert_eq!(verifier.to_vkey(), GO_VKEY);
    assert_eq!(verifier.open(SIGNED_ELSEWHERE).unwrap(), example_checkpoint());
    check_note_format(SIGNED_ELSEWHERE, &example_checkpoint(), GO_VKEY);
}

#[test]
fn key_ids_match_an_independent_computation() {
    let signer = NoteSigner::from_seed(ORIGIN, seed_from_hex(RFC_8032_SEED_HEX)).unwrap();
    assert_eq!(hex(signer.verifier().key().as_bytes()), RFC_8032_PUBLIC_HEX);
    assert_eq!(signer.verifier().to_vkey(), RFC_8032_VKEY);
    assert_eq!(signer.to_skey(), RFC_8032_SKEY);
    let parsed = NoteVerifier::from_vkey(RFC_8032_VKEY).unwrap();
    assert_eq!((parsed.name(), parsed.key()), (ORIGIN, signer.verifier().key()));
}

#[test]
fn malformed_keys_are_refused() {
    let refused_vkeys = [
        "",
        "PeterNeumann",
        "PeterNeumann+c74f20a3",
        // Wrong key id, or the right id under another name.
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumanm+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        // Not base64, a key one byte short, a type other than Ed25519.
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T!",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10=",
        "PeterNeumann+c74f20a3+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        " +c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ];
    for vkey in refused_vkeys {
        let error = NoteVerifier::from_vkey(vkey).expect_err(vkey);
        assert_eq!(error.category(), ErrorCategory::Invalid, "{vkey}: {error}");
    }
    let refused_skeys = [
        "",
        "PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PRIVATE+KEY+PeterNeumanm+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKD=",
        "PRIVATE+KEY+PeterNeumann+c74f20a3+ZYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
    ];
    for skey in refused_skeys {
        assert!(NoteSigner::from_skey(skey).is_err(), "{skey}");
    }
}

/// A note of `body` with one signature line by the key of `GO_VKEY`.
fn go_note(body: &str, signature_base64: &str) -> String {
    format!("{body}\n\u{2014} PeterNeumann {signature_base64}\n")
}

/// Notes whose signature verifies but whose body is no checkpoint, each
/// signed with `GO_SKEY` in Python; and edge values that are fine.
#[test]
fn signed_bodies_that_are_no_checkpoint_are_refused() {
    let verifier = NoteVerifier::from_vkey(GO_VKEY).unwrap();
    let root_line = format!("{ROOT_BASE64}\n");
    let accepted = [
        ("0", "x08goy/evA9Iq4ESGdm24vyQw18kSWAMk3SJ0iVHsm8RHkUyMnCoO4P60OWJ3dQtdY0LRkpj0Z+T2G/XBqanSTptGww=", 0),
        (
            "18446744073709551615",
            "x08goyZubSsPVFldn4RQIG7U3DAKNE7Vyt4n68A3ziEopTgfOJRyphg0nQXnIbfyx9yQFexCWutVTrYbgqdTuAdLXgU=",
            u64::MAX,
        ),
    ];
    for (tree_size_line, signature, tree_size) in accepted {
        let note = go_note(&format!("PeterNeumann\n{tree_size_line}\n{root_line}"), signature);
        assert_eq!(verifier.open(&note).unwrap().tree_size, tree_size);
    }
    let refused = [
        (
            format!("PeterNeumann\n20852163\n{root_line}extension line\n"),
            "x08go1fHyMVe7IlwH9tlPOJr3alirN8EcYWTZ17+JawHD+AYIBLCPzbnh2kNM89zEg8R/VtvZzbp2e+nm/gm+MGMQw4=",
            "expected 3 lines",
        ),
        (
            "PeterNeumann\n20852163\n".to_owned(),
            "x08go30OUAC9HyLEiJXBXEdZB1nDVHiThLLOTsT85e3aPjvCpCTamEomKmjHLtzwikIaIWQQQ3bDu5wWLdif++3hbwo=",
            "expected 3 lines",
        ),
        (
            format!("PeterNeumann\n\n20852163\n{root_line}"),
            "x08go7MA+BJ9XBqNiVB8IyOxExeqDMpvk9w7n+9Hy+Nk70FPmo3zGHiqPzCTitvJX8OUQYr6SS7DzO3llBNiIhUGoQI=",
            "expected 3 lines",
        ),
        (
            format!("PeterNeumann\n020852163\n{root_line}"),
            "x08go9NbE2QBK+7U/cV8J8hYYDdti1nkmYSE4Xp23qPiWZUWk09HrdcNriN1hr0FXIatFRzt6iuzDK5iR9VL4dZhXAg=",
            "not a decimal number",
        ),
        (
            format!("PeterNeumann\n+20852163\n{root_line}"),
            "x08go/5rcIjoRGYcCXCwD3DlrrCOVXJpFKpGEelC7n7QWv7EPf0bpTpzEumutsF78xPl8KFAom7vtfnA3y8GWA+ZDQo=",
            "not a decimal number",
        ),
        (
            format!("PeterNeumann\n18446744073709551616\n{root_line}"),
            "x08go+h5qdegUbBzT0JZMshJ7raAYBpxT8MqKqAFjhsKm4bK2MerxZNywfETkYRPHS6oVFdU1ZMdxk4VthdWbhj9Yw4=",
            "not a decimal number",
        ),
        (
            format!("PeterNeumann\n20852163\n{}\n", base64_encode(&[0; 31])),
            "x08go4R0sV44ePrQE0FSucyugVyJbSHzNtQFm+N27D9PsJPOHOuBZ7vFOIL9SU/P4VvV7Gx6qAz0nl9re77WOBTs7wc=",
            "not 32 bytes",
        ),
        (
            "PeterNeumann\n20852163\nnot base64!\n".to_owned(),
            "x08gowi8xz37qVqsgfa61+CRcJv7+mauIqtFso67iQoZ2rgMofI/8/mlKtTzGj+ZJw/YbIQC003XYoyGmAtoJnU3DQQ=",
            "not base64",
        ),
        (
            format!("SomeoneElse\n20852163\n{root_line}"),
            "x08goyjoyOZ5a4nALCmQtWUYj6scvgxPENZe0zl2CZBd3rTgIkXlEWAZTI5uxAtzdM5aDOb8B/zPAoVG+9xIPJ04sgo=",
            "is not the log's name",
        ),
    ];
    for (body, signature, message) in refused {
        check_refused(&verifier, &go_note(&body, signature), message);
    }
}

/// Malformations of a good note: each is refused for its own reason.
#[test]
fn malformed_notes_are_refused() {
    let verifier = NoteVerifier::from_vkey(GO_VKEY).unwrap();
    let good = SIGNED_ELSEWHERE;
    let (body, signature_line) = good.split_once("\n\n").unwrap();
    let body = format!("{body}\n");
    let unknown_signature =
        "\u{2014} example.org/witness AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n";
    let padded_to = |n_bytes: usize| {
        let padding = n_bytes - good.len() - "\u{2014}  AAAA\n".len();
        format!("{good}\u{2014} {} AAAA\n", "x".repeat(padding))
    };
    let refusals = [
        (String::new(), "no blank line"),
        (body.clone(), "no blank line"),
        (format!("{body}\n"), "does not end in a newline"),
        (good.trim_end_matches('\n').to_owned(), "does not end in a newline"),
        (format!("{good}\n"), "does not end in a newline"),
        (format!("{body}\n\n{signature_line}"), "does not verify"),
        (format!("extra line\n{good}"), "does not verify"),
        (good.replacen("20852163\n", "", 1), "does not verify"),
        (good.replace('\n', "\r\n"), "control character"),
        (good.replacen("Neumann\n", "Neumann\t\n", 1), "control character"),
        (good.replacen("PeterNeumann ", "PeterNeumann\0 ", 1), "control character"),
        (good.replacen('2', "\u{7f}", 1), "control character"),
        (good.replacen('\u{2014}', "--", 1), "does not start with an em dash"),
        (good.replacen("PeterNeumann x", "PeterNeumannx", 1), "has no signature"),
        (format!("{body}\n{}", signature_line.replacen("=\n", "\n", 1)), "is not base64"),
        (format!("{body}\n{unknown_signature}"), "carries no signature by key PeterNeumann (c74f20a3)"),
        (format!("{good}{}", " ".repeat(NOTE_BYTES_MAX)), "exceeds the limit"),
        (padded_to(NOTE_BYTES_MAX + 1), "exceeds the limit of 4096"),
    ];
    for (note, message) in refusals {
        check_refused(&verifier, &note, message);
    }
    // C2SP signed-note: signatures by unknown keys are ignored, in any
    // order, up to the size limit.
    let accepted = [
        format!("{good}{unknown_signature}"),
        format!("{body}\n{unknown_signature}{signature_line}"),
        padded_to(NOTE_BYTES_MAX),
    ];
    for note in accepted {
        assert_eq!(verifier.open(&note).unwrap(), example_checkpoint(), "{note:?}");
    }
}

/// A log's signed checkpoints: one per append, each consistent with every
/// other by the log's own proofs, each a note in the exact format that
/// opens with the log's published verifier key.
#[test]
fn a_log_never_signs_inconsistent_checkpoints() {
    let scratch = Scratch::new();
    let log = log_with_batches(&scratch, &[1, 2, 7, 16, 1, 31, 9, 64, 3]);
    let checkpoints = log.checkpoints(0, u64::MAX, 10_000).unwrap();
    let sizes: Vec<u64> = checkpoints.iter().map(|signed| signed.checkpoint.tree_size).collect();
    assert_eq!(sizes, [0, 1, 3, 10, 26, 27, 58, 67, 131, 134]);
    assert_eq!(log.latest_checkpoint().unwrap(), *checkpoints.last().unwrap());
    assert_eq!(log.checkpoint(2).unwrap(), None);
    assert_eq!(log.checkpoint(135).unwrap(), None);
    let vkey = log.verifier().to_vkey();
    let verifier = NoteVerifier::from_vkey(&vkey).unwrap();
    for signed in &checkpoints {
        assert_eq!(log.checkpoint(signed.checkpoint.tree_size).unwrap().as_ref(), Some(signed));
        assert_eq!(verifier.open(&signed.note).unwrap(), signed.checkpoint);
        check_note_format(&signed.note, &signed.checkpoint, &vkey);
    }
    for (old_idx, old) in checkpoints.iter().enumerate() {
        for new in &checkpoints[old_idx..] {
            let (old, new) = (&old.checkpoint, &new.checkpoint);
            let proof = log.consistency_proof(old.tree_size, new.tree_size).unwrap();
            merkle::verify_consistency(old.tree_size, new.tree_size, &old.root, &new.root, &proof)
                .unwrap_or_else(|error| panic!("{error}"));
        }
    }
}

fn any_checkpoint() -> impl Strategy<Value = Checkpoint> {
    ("[a-z0-9][a-z0-9./_-]{0,40}", any::<u64>(), any::<[u8; 32]>()).prop_map(|(origin, tree_size, root)| Checkpoint {
        origin,
        tree_size,
        root: TreeHash(root),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Keys survive their text forms, and a note signed by a key read back
    /// is the same note, in the exact format, and opens to the checkpoint.
    #[test]
    fn keys_round_trip_and_notes_open(seed in any::<[u8; 32]>(), checkpoint in any_checkpoint()) {
        let signer = NoteSigner::from_seed(&checkpoint.origin, seed).unwrap();
        let vkey = signer.verifier().to_vkey();
        let reread_signer = NoteSigner::from_skey(&signer.to_skey()).unwrap();
        prop_assert_eq!(reread_signer.to_skey(), signer.to_skey());
        prop_assert_eq!(reread_signer.verifier().to_vkey(), vkey.clone());
        let verifier = NoteVerifier::from_vkey(&vkey).unwrap();
        prop_assert_eq!(verifier.to_vkey(), vkey.clone());
        prop_assert_eq!(verifier.key(), signer.verifier().key());
        let note = signer.sign(&checkpoint);
        prop_assert_eq!(reread_signer.sign(&checkpoint), note.clone());
        check_note_format(&note, &checkpoint, &vkey);
        prop_assert_eq!(verifier.open(&note).unwrap(), checkpoint);
    }

    /// A note stops opening once any bit of its signature (key id included)
    /// or of its body flips, once its tree size changes, or under another
    /// key of the same name or the same key under another name.
    #[test]
    fn tampered_notes_are_refused(
        seed in any::<[u8; 32]>(),
        checkpoint in any_checkpoint(),
        signature_bit in 0..(68 * 8usize),
        body_byte in any::<prop::sample::Index>(),
        body_bit in 0..8usize,
        other_tree_size in any::<u64>(),
    ) {
        let signer = NoteSigner::from_seed(&checkpoint.origin, seed).unwrap();
        let verifier = signer.verifier();
        let note = signer.sign(&checkpoint);
        let body = checkpoint.body();
        let (unsigned, signature_base64) = note.trim_end_matches('\n').rsplit_once(' ').unwrap();

        let mut signature = base64_decode(signature_base64);
        signature[signature_bit / 8] ^= 1 << (signature_bit % 8);
        let tampered = format!("{unsigned} {}\n", base64_encode(&signature));
        prop_assert!(verifier.open(&tampered).is_err());

        let mut note_bytes = note.clone().into_bytes();
        note_bytes[body_byte.index(body.len())] ^= 1 << body_bit;
        if let Ok(tampered) = String::from_utf8(note_bytes) {
            prop_assert!(verifier.open(&tampered).is_err(), "{:?}", tampered);
        }

        if other_tree_size != checkpoint.tree_size {
            let resized = note.replacen(
                &format!("\n{}\n", checkpoint.tree_size),
                &format!("\n{other_tree_size}\n"),
                1,
            );
            prop_assert!(verifier.open(&resized).is_err());
        }

        let mut other_seed = seed;
        other_seed[0] ^= 1;
        let other_key = NoteSigner::from_seed(&checkpoint.origin, other_seed).unwrap();
        prop_assert!(other_key.verifier().open(&note).is_err());
        let other_name = NoteVerifier::new(&format!("{}.other", checkpoint.origin), *verifier.key()).unwrap();
        prop_assert!(other_name.open(&note).is_err());
    }

    /// Opening arbitrary text, or a good note with one character inserted,
    /// removed or replaced, never panics, and refuses anything but the
    /// note as signed.
    #[test]
    fn opening_never_panics(
        text in any::<String>(),
        position in any::<prop::sample::Index>(),
        edit in 0..3u8,
        character in any::<char>(),
    ) {
        let verifier = NoteVerifier::from_vkey(GO_VKEY).unwrap();
        prop_assert!(verifier.open(&text).is_err());
        // Only more signature lines may follow a note.
        let followed = verifier.open(&format!("{SIGNED_ELSEWHERE}{text}"));
        let more_signatures = text.is_empty() || text.starts_with('\u{2014}');
        prop_assert!(followed.is_err() || more_signatures);
        let mut characters: Vec<char> = SIGNED_ELSEWHERE.chars().collect();
        let at = position.index(characters.len());
        match edit {
            0 => characters.insert(at, character),
            1 => { characters.remove(at); }
            _ => characters[at] = character,
        }
        let edited: String = characters.into_iter().collect();
        let opened = verifier.open(&edited);
        prop_assert_eq!(opened.is_ok(), edited == SIGNED_ELSEWHERE, "{:?}", edited);
    }
}
