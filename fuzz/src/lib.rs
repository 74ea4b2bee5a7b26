//! What the fuzz targets share with the program that writes their seed
//! corpora (examples/seed_corpora.rs): the layouts of the targets whose
//! input is more than one decoder's bytes, read by `Input` and written by
//! `Output`, and a Merkle tree held in memory.
//!
//! Every length in an input is a little-endian u16 before its bytes, so a
//! fuzzer's mutation of one field rarely shifts the others.
//!
//! Every target allocates through `LimitedAllocator`, which aborts on an
//! allocation larger than any input warrants: libFuzzer's own malloc limit
//! needs a sanitizer, and the targets run without one on stable Rust.

use std::alloc::{GlobalAlloc, Layout, System};

use minutebook_log::merkle::{self, Frontier, Subtrees};
use minutebook_log::TreeHash;

/// Largest single allocation a target may make. Inputs are at most a few
/// hundred KiB, and a decoder should allocate in proportion to what it
/// reads, not to a length it was told.
pub const ALLOCATION_BYTES_MAX: usize = 32 * 1024 * 1024;

/// The system allocator, aborting (which libFuzzer reports as a crash, with
/// the input) on an allocation over `ALLOCATION_BYTES_MAX`.
pub struct LimitedAllocator;

// SAFETY: every call is passed on unchanged to the system allocator, or
// aborts the process before allocating.
unsafe impl GlobalAlloc for LimitedAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        check_size(layout.size());
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        check_size(layout.size());
        System.alloc_zeroed(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        check_size(new_size);
        System.realloc(ptr, layout, new_size)
    }
}

fn check_size(n_bytes: usize) {
    if n_bytes > ALLOCATION_BYTES_MAX {
        // Written without allocating: this runs inside the allocator.
        let _ = std::io::Write::write_fmt(
            &mut std::io::stderr(),
            format_args!("allocation of {n_bytes} bytes exceeds the fuzz limit of {ALLOCATION_BYTES_MAX}\n"),
        );
        std::process::abort();
    }
}

/// Reads an input field by field; every read fails once the bytes run out.
pub struct Input<'a> {
    bytes: &'a [u8],
}

impl<'a> Input<'a> {
    pub fn new(bytes: &'a [u8]) -> Input<'a> {
        Input { bytes }
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    pub fn bytes(&mut self, n_bytes: usize) -> Option<&'a [u8]> {
        if n_bytes > self.bytes.len() {
            return None;
        }
        let (taken, rest) = self.bytes.split_at(n_bytes);
        self.bytes = rest;
        Some(taken)
    }

    pub fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.bytes(N).map(|bytes| bytes.try_into().expect("N bytes"))
    }

    pub fn u8(&mut self) -> Option<u8> {
        self.array::<1>().map(|[byte]| byte)
    }

    pub fn u16(&mut self) -> Option<u16> {
        self.array().map(u16::from_le_bytes)
    }

    pub fn u64(&mut self) -> Option<u64> {
        self.array().map(u64::from_le_bytes)
    }

    /// A length-prefixed field.
    pub fn chunk(&mut self) -> Option<&'a [u8]> {
        let n_bytes = self.u16()?;
        self.bytes(usize::from(n_bytes))
    }

    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.bytes)
    }
}

/// Writes an input in the layout `Input` reads.
#[derive(Default)]
pub struct Output {
    pub bytes: Vec<u8>,
}

impl Output {
    pub fn u8(&mut self, value: u8) -> &mut Output {
        self.bytes.push(value);
        self
    }

    pub fn u16(&mut self, value: u16) -> &mut Output {
        self.bytes.extend_from_slice(&value.to_le_bytes());
        self
    }

    pub fn u64(&mut self, value: u64) -> &mut Output {
        self.bytes.extend_from_slice(&value.to_le_bytes());
        self
    }

    pub fn raw(&mut self, bytes: &[u8]) -> &mut Output {
        self.bytes.extend_from_slice(bytes);
        self
    }

    /// A length-prefixed field; panics past the u16 length.
    pub fn chunk(&mut self, bytes: &[u8]) -> &mut Output {
        self.u16(u16::try_from(bytes.len()).expect("a seed field of at most 65535 bytes")).raw(bytes)
    }
}

/// A Merkle tree held in memory: its leaf hashes.
pub struct MemTree {
    pub leaves: Vec<TreeHash>,
}

impl MemTree {
    pub fn root(&self, size: usize) -> TreeHash {
        let mut frontier = Frontier::empty();
        for leaf in &self.leaves[..size] {
            frontier.push(*leaf, |_| {});
        }
        frontier.root()
    }
}

impl Subtrees for MemTree {
    fn subtree(&self, level: u8, index: u64) -> minutebook_log::Result<TreeHash> {
        let start = (index << level) as usize;
        let mut frontier = Frontier::empty();
        for leaf in &self.leaves[start..start + (1usize << level)] {
            frontier.push(*leaf, |_| {});
        }
        Ok(frontier.root())
    }
}

/// A leaf made up from a number, for trees whose leaves do not matter.
pub fn made_up_leaf(index: u64) -> TreeHash {
    merkle::leaf_hash(&minutebook_log::Envelope::hash(&index.to_le_bytes()))
}
