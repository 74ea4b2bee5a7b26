//! Keyed hashing of client-chosen event ids, for the writer's filter of
//! stored ids and verification's check that each id is used once. The key
//! is random, so ids cannot be chosen to collide.

/// Multiply-shift hashing of event ids with a random key: ids are 16
/// bytes a client chose, and SipHash over each of them was a twentieth of
/// verification's time. Without the key, ids cannot be chosen to collide.
#[derive(Clone)]
pub(crate) struct IdHashing {
    add: u128,
    multiply: u128,
}

impl IdHashing {
    pub(crate) fn new() -> IdHashing {
        let mut key = [0u8; 32];
        getrandom::getrandom(&mut key).expect("the operating system's random source failed");
        let add = u128::from_le_bytes(key[..16].try_into().expect("16 bytes"));
        let multiply = u128::from_le_bytes(key[16..].try_into().expect("16 bytes")) | 1;
        IdHashing { add, multiply }
    }
}

impl std::hash::BuildHasher for IdHashing {
    type Hasher = IdHasher;
    fn build_hasher(&self) -> IdHasher {
        IdHasher { keys: self.clone(), state: 0 }
    }
}

pub(crate) struct IdHasher {
    keys: IdHashing,
    state: u128,
}

impl std::hash::Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(16) {
            let mut word = [0u8; 16];
            word[..chunk.len()].copy_from_slice(chunk);
            self.state =
                (self.state ^ u128::from_le_bytes(word)).wrapping_add(self.keys.add).wrapping_mul(self.keys.multiply);
        }
    }
    fn finish(&self) -> u64 {
        (self.state.wrapping_add(self.keys.add).wrapping_mul(self.keys.multiply) >> 64) as u64
    }
}

/// The identity hasher for values that are already keyed hashes.
#[derive(Default)]
pub(crate) struct Fingerprint(u64);

impl std::hash::Hasher for Fingerprint {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*byte);
        }
    }
    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}
