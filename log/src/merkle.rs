//! The RFC 9162 (Certificate Transparency v2) Merkle tree over event hashes:
//! hashes, the incremental frontier, proofs and their verifiers.
//!
//! Leaf data is the 32-byte event hash, and the leaf index is the event's
//! sequence number. leaf hash = SHA-256(0x00 ‖ event hash); node hash =
//! SHA-256(0x01 ‖ left ‖ right) (RFC 9162 §2.1.1). Everything here is
//! iterative: no recursion in log/.

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::types::{EventHash, TreeHash};

/// Most hashes in any proof of a tree of at most 2^64 leaves.
pub const PROOF_HASHES_MAX: usize = 64;

/// RFC 9162 §2.1.1: the hash of a leaf whose data is an event hash.
pub fn leaf_hash(event_hash: &EventHash) -> TreeHash {
    let mut hasher = Sha256::new();
    hasher.update([0x00]);
    hasher.update(event_hash.0);
    TreeHash(hasher.finalize().into())
}

/// RFC 9162 §2.1.1: the hash of an interior node.
pub fn node_hash(left: &TreeHash, right: &TreeHash) -> TreeHash {
    let mut hasher = Sha256::new();
    hasher.update([0x01]);
    hasher.update(left.0);
    hasher.update(right.0);
    TreeHash(hasher.finalize().into())
}

/// RFC 9162 §2.1.1: the hash of the empty tree, SHA-256 of no bytes.
pub fn empty_root() -> TreeHash {
    TreeHash(Sha256::digest([]).into())
}

/// A complete subtree newly formed by an append: `level` 1 covers two
/// leaves; the subtree covers leaves `index << level .. (index + 1) << level`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewNode {
    pub level: u8,
    pub index: u64,
    pub hash: TreeHash,
}

/// The roots of the complete subtrees a tree of `size` leaves decomposes
/// into, largest (leftmost) first: one per set bit of `size`. It is all an
/// append needs, so appending never rehashes the tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    hashes: Vec<TreeHash>,
}

impl Frontier {
    pub fn empty() -> Frontier {
        Frontier { size: 0, hashes: Vec::new() }
    }

    /// A frontier from stored parts; `None` unless there is one hash per set
    /// bit of `size`.
    pub fn from_parts(size: u64, hashes: Vec<TreeHash>) -> Option<Frontier> {
        (hashes.len() == size.count_ones() as usize).then_some(Frontier { size, hashes })
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn hashes(&self) -> &[TreeHash] {
        &self.hashes
    }

    /// Appends a leaf, calling `on_node` for each complete subtree it closes.
    pub fn push(&mut self, leaf: TreeHash, mut on_node: impl FnMut(NewNode)) {
        let leaf_index = self.size;
        let mut hash = leaf;
        let mut level: u8 = 0;
        while (leaf_index >> level) & 1 == 1 {
            let left = self.hashes.pop().expect("a set bit has its subtree");
            hash = node_hash(&left, &hash);
            level += 1;
            on_node(NewNode { level, index: leaf_index >> level, hash });
        }
        self.hashes.push(hash);
        self.size += 1;
        assert_eq!(self.hashes.len(), self.size.count_ones() as usize);
    }

    /// RFC 9162 §2.1.1 MTH of the whole tree.
    pub fn root(&self) -> TreeHash {
        let mut hashes = self.hashes.iter().rev();
        let Some(last) = hashes.next() else {
            return empty_root();
        };
        hashes.fold(*last, |right, left| node_hash(left, &right))
    }
}

/// Gives the hash of any complete, aligned subtree of the tree being proven.
pub trait Subtrees {
    /// The root of the complete subtree at `level` covering leaves
    /// `index << level .. (index + 1) << level`.
    fn subtree(&self, level: u8, index: u64) -> Result<TreeHash>;
}

/// MTH of leaves `start..end`, where `start` is a multiple of a power of two
/// at least `end - start`, as every range in RFC 9162's recursions is: the
/// range splits into complete subtrees, largest first, folded right to left.
pub fn range_hash(subtrees: &dyn Subtrees, start: u64, end: u64) -> Result<TreeHash> {
    assert!(start < end);
    let mut parts = Vec::with_capacity(64);
    let mut position = start;
    while position < end {
        let mut level = 0u8;
        while level < 63 && position.is_multiple_of(1u64 << (level + 1)) && position + (1u64 << (level + 1)) <= end {
            level += 1;
        }
        parts.push(subtrees.subtree(level, position >> level)?);
        position += 1u64 << level;
    }
    let last = parts.pop().expect("a non-empty range has a part");
    Ok(parts.iter().rev().fold(last, |right, left| node_hash(left, &right)))
}

/// Largest power of two smaller than `n` (RFC 9162 §2.1.1's k); `n` > 1.
fn split_point(n: u64) -> u64 {
    assert!(n > 1);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// RFC 9162 §2.1.3.1 PATH(m, D[n]), leaf side first.
pub fn inclusion_proof(subtrees: &dyn Subtrees, leaf_index: u64, tree_size: u64) -> Result<Vec<TreeHash>> {
    if leaf_index >= tree_size {
        return Err(Error::invalid(format!("leaf {leaf_index} is not in a tree of {tree_size} leaves")));
    }
    let (mut start, mut end) = (0u64, tree_size);
    let mut path = Vec::new();
    while end - start > 1 {
        let k = split_point(end - start);
        if leaf_index < start + k {
            path.push(range_hash(subtrees, start + k, end)?);
            end = start + k;
        } else {
            path.push(range_hash(subtrees, start, start + k)?);
            start += k;
        }
    }
    path.reverse();
    Ok(path)
}

/// RFC 9162 §2.1.4.1 PROOF(m, D[n]), deepest node first.
pub fn consistency_proof(subtrees: &dyn Subtrees, old_size: u64, new_size: u64) -> Result<Vec<TreeHash>> {
    if old_size > new_size {
        return Err(Error::invalid(format!("tree size {old_size} is larger than tree size {new_size}")));
    }
    if old_size == 0 || old_size == new_size {
        return Ok(Vec::new());
    }
    let (mut start, mut end, mut m) = (0u64, new_size, old_size);
    let mut whole_subtree_is_old = true;
    let mut proof = Vec::new();
    loop {
        let n = end - start;
        if m == n {
            if !whole_subtree_is_old {
                proof.push(range_hash(subtrees, start, end)?);
            }
            break;
        }
        let k = split_point(n);
        if m <= k {
            proof.push(range_hash(subtrees, start + k, end)?);
            end = start + k;
        } else {
            proof.push(range_hash(subtrees, start, start + k)?);
            start += k;
            m -= k;
            whole_subtree_is_old = false;
        }
    }
    proof.reverse();
    Ok(proof)
}

/// RFC 9162 §2.1.3.2: checks that `leaf` is leaf `leaf_index` of the tree of
/// `tree_size` leaves whose root is `root`.
pub fn verify_inclusion(
    leaf_index: u64,
    tree_size: u64,
    leaf: &TreeHash,
    proof: &[TreeHash],
    root: &TreeHash,
) -> Result<()> {
    if leaf_index >= tree_size {
        return Err(Error::verification(format!(
            "inclusion proof: leaf {leaf_index} is not in a tree of {tree_size} leaves"
        )));
    }
    let (mut fn_, mut sn) = (leaf_index, tree_size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return Err(Error::verification(format!(
                "inclusion proof of leaf {leaf_index} in tree size {tree_size} has too many hashes ({})",
                proof.len()
            )));
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(Error::verification(format!(
            "inclusion proof of leaf {leaf_index} in tree size {tree_size} has too few hashes ({})",
            proof.len()
        )));
    }
    if r != *root {
        return Err(Error::verification(format!(
            "inclusion proof of leaf {leaf_index} leads to root {r}, not the expected {root}"
        )));
    }
    Ok(())
}

/// RFC 9162 §2.1.4.2: checks that the tree of `old_size` leaves with root
/// `old_root` is a prefix of the tree of `new_size` leaves with `new_root`.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &TreeHash,
    new_root: &TreeHash,
    proof: &[TreeHash],
) -> Result<()> {
    let fail = |why: String| {
        Err(Error::verification(format!("consistency proof from tree size {old_size} to {new_size}: {why}")))
    };
    if old_size > new_size {
        return fail("the old tree is larger than the new one".into());
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return fail(format!("expected no hashes for equal sizes, found {}", proof.len()));
        }
        if old_root != new_root {
            return fail(format!("equal sizes have different roots {old_root} and {new_root}"));
        }
        return Ok(());
    }
    if old_size == 0 {
        if !proof.is_empty() {
            return fail(format!("expected no hashes from the empty tree, found {}", proof.len()));
        }
        return Ok(());
    }
    if proof.is_empty() {
        return fail("the proof is empty".into());
    }
    let mut path: Vec<TreeHash> = Vec::with_capacity(proof.len() + 1);
    if old_size.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let (mut fn_, mut sn) = (old_size - 1, new_size - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if sn == 0 {
            return fail(format!("too many hashes ({})", proof.len()));
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return fail(format!("too few hashes ({})", proof.len()));
    }
    if fr != *old_root {
        return fail(format!("it leads to old root {fr}, not {old_root}"));
    }
    if sr != *new_root {
        return fail(format!("it leads to new root {sr}, not {new_root}"));
    }
    Ok(())
}
