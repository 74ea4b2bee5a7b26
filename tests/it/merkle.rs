//! The log's RFC 9162 Merkle tree: roots, inclusion and consistency proofs
//! of a real log checked against a recursive reference written from the
//! RFC's definitions, verifiers that reject every tampered proof and never
//! panic, and a forked history that consistency proofs expose.

use std::collections::HashMap;

use minutebook_log::merkle::{self, Frontier, Subtrees};
use minutebook_log::{AppendBatch, ErrorCategory, EventHash, ExpectedVersion, Log, Result, Seq, TreeHash};
use proptest::prelude::*;

use crate::support::{event, Rng, Scratch};

// -- The reference: RFC 9162 §2.1 as written, recursion and all. Only the
// two hash primitives come from the code under test, and
// `hashes_match_known_answers` pins those to values computed elsewhere.

/// SHA-256 of no bytes, MTH({}) (RFC 9162 §2.1.1).
const EMPTY_ROOT_HEX: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// RFC 9162 §2.1.1's k: the largest power of two smaller than `n` (n > 1).
fn split(n: usize) -> usize {
    assert!(n > 1);
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// RFC 9162 §2.1.1 MTH(D[n]).
fn reference_root(entries: &[EventHash]) -> TreeHash {
    match entries {
        [] => TreeHash::from_hex(EMPTY_ROOT_HEX).unwrap(),
        [entry] => merkle::leaf_hash(entry),
        _ => {
            let k = split(entries.len());
            merkle::node_hash(&reference_root(&entries[..k]), &reference_root(&entries[k..]))
        }
    }
}

/// RFC 9162 §2.1.3.1 PATH(m, D[n]).
fn reference_path(m: usize, entries: &[EventHash]) -> Vec<TreeHash> {
    if entries.len() == 1 {
        return Vec::new();
    }
    let k = split(entries.len());
    let (mut path, sibling) = if m < k {
        (reference_path(m, &entries[..k]), &entries[k..])
    } else {
        (reference_path(m - k, &entries[k..]), &entries[..k])
    };
    path.push(reference_root(sibling));
    path
}

/// RFC 9162 §2.1.4.1 PROOF(m, D[n]); empty for m = 0 and m = n, which the
/// RFC leaves undefined and the log answers with no hashes.
fn reference_consistency(m: usize, entries: &[EventHash]) -> Vec<TreeHash> {
    if m == 0 {
        return Vec::new();
    }
    reference_subproof(m, entries, true)
}

/// RFC 9162 §2.1.4.1 SUBPROOF(m, D[n], b).
fn reference_subproof(m: usize, entries: &[EventHash], b: bool) -> Vec<TreeHash> {
    let n = entries.len();
    if m == n {
        return if b { Vec::new() } else { vec![reference_root(entries)] };
    }
    let k = split(n);
    let (mut proof, sibling) = if m <= k {
        (reference_subproof(m, &entries[..k], b), &entries[k..])
    } else {
        (reference_subproof(m - k, &entries[k..], false), &entries[..k])
    };
    proof.push(reference_root(sibling));
    proof
}

// -- Trees held in memory, for the property tests.

/// A tree built with `Frontier`, keeping every leaf and every complete
/// subtree the frontier reported closing, so that the library's own proof
/// functions can run over it.
struct MemoryTree {
    nodes: HashMap<(u8, u64), TreeHash>,
    frontier: Frontier,
}

impl MemoryTree {
    fn new(entries: &[EventHash]) -> MemoryTree {
        let mut nodes = HashMap::new();
        let mut frontier = Frontier::empty();
        for (leaf_idx, entry) in entries.iter().enumerate() {
            let leaf = merkle::leaf_hash(entry);
            nodes.insert((0, leaf_idx as u64), leaf);
            frontier.push(leaf, |node| {
                nodes.insert((node.level, node.index), node.hash);
            });
        }
        MemoryTree { nodes, frontier }
    }

    /// The root of the tree of the first `tree_size` leaves.
    fn root(&self, tree_size: u64) -> TreeHash {
        if tree_size == 0 {
            return merkle::empty_root();
        }
        merkle::range_hash(self, 0, tree_size).unwrap()
    }
}

impl Subtrees for MemoryTree {
    fn subtree(&self, level: u8, index: u64) -> Result<TreeHash> {
        // The library's error has no public constructor; a missing node is a
        // bug in the code under test, so the test fails here.
        Ok(*self.nodes.get(&(level, index)).unwrap_or_else(|| panic!("no subtree at level {level}, index {index}")))
    }
}

/// `n_entries` random event hashes from `seed`.
fn random_entries(seed: u64, n_entries: usize) -> Vec<EventHash> {
    let mut rng = Rng::new(seed);
    (0..n_entries)
        .map(|_| {
            let mut bytes = [0u8; 32];
            for chunk in bytes.chunks_exact_mut(8) {
                chunk.copy_from_slice(&rng.next().to_le_bytes());
            }
            EventHash(bytes)
        })
        .collect()
}

fn flip_bit(hash: &TreeHash, bit: usize) -> TreeHash {
    let mut flipped = *hash;
    flipped.0[bit / 8] ^= 1 << (bit % 8);
    flipped
}

// -- Logs on disk.

/// A log written by one append per entry of `batch_sizes`, so that it holds
/// one signed checkpoint per batch besides that of the empty tree.
pub(crate) fn log_with_batches(scratch: &Scratch, batch_sizes: &[usize]) -> Log {
    let log = scratch.open();
    for (batch_idx, &n_events) in batch_sizes.iter().enumerate() {
        let mut batch = AppendBatch::new().expect("minutes/M-1", ExpectedVersion::Any);
        for event_idx in 0..n_events {
            batch = batch.event(event("minutes/M-1", format!("point {batch_idx}.{event_idx}").as_bytes()));
        }
        log.append(batch).expect("append");
    }
    assert_eq!(log.len(), batch_sizes.iter().sum::<usize>() as u64);
    log
}

/// Every event's hash, the log's leaf data, read back from the log.
fn event_hashes(log: &Log) -> Vec<EventHash> {
    let events = log.read(Seq(0), 10_000).expect("read");
    assert_eq!(events.len() as u64, log.len());
    events.iter().map(|event| event.hash).collect()
}

/// Checks the log's root of `tree_size`, the inclusion proof of each of
/// `leaf_indexes` and the consistency proof from each of `old_sizes`
/// against the reference, and that each proof verifies.
fn check_log(log: &Log, entries: &[EventHash], tree_size: usize, leaf_indexes: &[usize], old_sizes: &[usize]) {
    let tree = &entries[..tree_size];
    let root = reference_root(tree);
    assert_eq!(log.root(tree_size as u64).unwrap(), root, "root of tree size {tree_size}");
    for &leaf_idx in leaf_indexes {
        let proof = log.inclusion_proof(Seq(leaf_idx as u64), tree_size as u64).unwrap();
        assert_eq!(
            proof,
            reference_path(leaf_idx, tree),
            "inclusion proof of leaf {leaf_idx} in tree size {tree_size}"
        );
        let leaf = merkle::leaf_hash(&entries[leaf_idx]);
        merkle::verify_inclusion(leaf_idx as u64, tree_size as u64, &leaf, &proof, &root)
            .unwrap_or_else(|error| panic!("{error}"));
    }
    for &old_size in old_sizes {
        let proof = log.consistency_proof(old_size as u64, tree_size as u64).unwrap();
        let expected = reference_consistency(old_size, tree);
        assert_eq!(proof, expected, "consistency proof from tree size {old_size} to {tree_size}");
        let old_root = reference_root(&entries[..old_size]);
        merkle::verify_consistency(old_size as u64, tree_size as u64, &old_root, &root, &proof)
            .unwrap_or_else(|error| panic!("{error}"));
    }
}

/// Checks that every checkpoint the log signed has the log's root for its
/// size, and the reference's.
fn check_checkpoints(log: &Log, entries: &[EventHash], expected_sizes: &[u64]) {
    let checkpoints = log.checkpoints(0, u64::MAX, 10_000).unwrap();
    let sizes: Vec<u64> = checkpoints.iter().map(|signed| signed.checkpoint.tree_size).collect();
    assert_eq!(sizes, expected_sizes);
    for signed in &checkpoints {
        let tree_size = signed.checkpoint.tree_size;
        assert_eq!(signed.checkpoint.root, log.root(tree_size).unwrap(), "checkpoint of tree size {tree_size}");
        assert_eq!(signed.checkpoint.root, reference_root(&entries[..tree_size as usize]));
    }
}

#[test]
fn hashes_match_known_answers() {
    // Computed with Python's hashlib: SHA-256(""), SHA-256(0x00 ‖ 0^32),
    // SHA-256(0x01 ‖ 1^32 ‖ 2^32), and the root of the three leaves 0^32,
    // 1^32, 2^32 (each n^32 being 32 bytes of value n).
    let entry = |byte: u8| EventHash([byte; 32]);
    let hex = |hash: TreeHash| hash.to_hex();
    assert_eq!(hex(merkle::empty_root()), EMPTY_ROOT_HEX);
    assert_eq!(hex(merkle::leaf_hash(&entry(0))), "7f9c9e31ac8256ca2f258583df262dbc7d6f68f2a03043d5c99a4ae5a7396ce9");
    assert_eq!(
        hex(merkle::node_hash(&TreeHash([1; 32]), &TreeHash([2; 32]))),
        "b331da6ec49d4547d9942a6727e5123f69bed5a0b97ac171cfbfd6201431fcfa"
    );
    let three_leaves = "ba8d94b7fbcecae7b81c4c80574fe24734a6917bf9c1ecd66ff3e0c34ead4620";
    assert_eq!(hex(reference_root(&[entry(0), entry(1), entry(2)])), three_leaves);
    assert_eq!(hex(MemoryTree::new(&[entry(0), entry(1), entry(2)]).frontier.root()), three_leaves);
}

/// Every root, every inclusion proof and every consistency proof of every
/// tree of 1 to 64 leaves, which covers subtrees hashed from leaves (below
/// level `STORED_NODE_LEVEL_MIN`) and stored ones (at and above it).
#[test]
fn proofs_of_every_tree_up_to_64_leaves_match_the_reference() {
    let scratch = Scratch::new();
    let batch_sizes = [1, 1, 2, 3, 5, 8, 13, 21, 10];
    let log = log_with_batches(&scratch, &batch_sizes);
    let entries = event_hashes(&log);
    assert_eq!(entries.len(), 64);
    check_checkpoints(&log, &entries, &[0, 1, 2, 4, 7, 12, 20, 33, 54, 64]);
    assert_eq!(log.root(0).unwrap(), reference_root(&[]));
    for tree_size in 1..=64 {
        let leaf_indexes: Vec<usize> = (0..tree_size).collect();
        let old_sizes: Vec<usize> = (0..=tree_size).collect();
        check_log(&log, &entries, tree_size, &leaf_indexes, &old_sizes);
    }
}

/// A larger tree, with stored nodes up to level 8, spot-checked.
#[test]
fn proofs_of_a_300_leaf_tree_match_the_reference() {
    let scratch = Scratch::new();
    let log = log_with_batches(&scratch, &[100, 156, 44]);
    let entries = event_hashes(&log);
    check_checkpoints(&log, &entries, &[0, 100, 256, 300]);
    let mut rng = Rng::new(300);
    for tree_size in [1, 16, 17, 100, 255, 256, 257, 299, 300] {
        let mut leaf_indexes = vec![0, tree_size - 1, tree_size / 2];
        leaf_indexes.extend((0..4).map(|_| rng.below(tree_size as u64) as usize));
        let mut old_sizes = vec![0, 1, tree_size / 2, tree_size - 1, tree_size];
        old_sizes.extend((0..4).map(|_| rng.below(tree_size as u64 + 1) as usize));
        check_log(&log, &entries, tree_size, &leaf_indexes, &old_sizes);
    }
}

#[test]
fn proofs_beyond_the_log_are_refused() {
    let scratch = Scratch::new();
    let log = log_with_batches(&scratch, &[5]);
    let refusals = [
        log.root(6).unwrap_err(),
        log.inclusion_proof(Seq(5), 5).unwrap_err(),
        log.inclusion_proof(Seq(0), 6).unwrap_err(),
        log.inclusion_proof(Seq(0), 0).unwrap_err(),
        log.consistency_proof(4, 6).unwrap_err(),
        log.consistency_proof(5, 4).unwrap_err(),
    ];
    for error in refusals {
        assert_eq!(error.category(), ErrorCategory::Invalid, "{error}");
    }
}

/// RFC 9162 §2.1.4.2's edge cases: from the empty tree, anything follows;
/// a tree is consistent only with itself at its own size.
#[test]
fn consistency_of_empty_and_equal_trees() {
    let tree = MemoryTree::new(&random_entries(7, 7));
    let (root, other) = (tree.root(7), tree.root(6));
    assert!(merkle::verify_consistency(0, 7, &other, &root, &[]).is_ok());
    assert!(merkle::verify_consistency(0, 0, &merkle::empty_root(), &merkle::empty_root(), &[]).is_ok());
    assert!(merkle::verify_consistency(0, 7, &other, &root, &[root]).is_err());
    assert!(merkle::verify_consistency(7, 7, &root, &root, &[]).is_ok());
    assert!(merkle::verify_consistency(7, 7, &root, &other, &[]).is_err());
    assert!(merkle::verify_consistency(7, 7, &root, &root, &[root]).is_err());
    assert!(merkle::verify_consistency(7, 6, &root, &other, &[]).is_err());
    assert!(merkle::verify_consistency(6, 7, &other, &root, &[]).is_err());
}

/// A second history that shares only the first `shared_prefix` events with
/// the log (its later leaves are another log's events) cannot prove itself
/// an extension of any checkpoint the log signed past that prefix, while
/// the log's own proofs pass.
#[test]
fn a_forked_history_fails_consistency_with_the_logs_checkpoints() {
    let (scratch, other_scratch) = (Scratch::new(), Scratch::new());
    let log = log_with_batches(&scratch, &[5, 11, 16, 8]);
    let other_log = log_with_batches(&other_scratch, &[40]);
    let (entries, other_entries) = (event_hashes(&log), event_hashes(&other_log));
    let latest = log.latest_checkpoint().unwrap().checkpoint;
    assert_eq!(latest.tree_size, 40);
    let checkpoints = log.checkpoints(1, u64::MAX, 100).unwrap();
    assert_eq!(checkpoints.len(), 4);
    for shared_prefix in [0, 1, 4, 5, 6, 15, 16, 17, 31, 32, 33, 39, 40] {
        let forked: Vec<EventHash> =
            entries[..shared_prefix].iter().chain(&other_entries[shared_prefix..]).copied().collect();
        let forked_tree = MemoryTree::new(&forked);
        for signed in &checkpoints {
            let (old_size, old_root) = (signed.checkpoint.tree_size, &signed.checkpoint.root);
            let shares_checkpoint = shared_prefix as u64 >= old_size;
            assert_eq!(forked_tree.root(old_size) == *old_root, shares_checkpoint);
            for forked_size in [old_size, (old_size + 1).min(40), 40] {
                let proof = merkle::consistency_proof(&forked_tree, old_size, forked_size).unwrap();
                let forked_root = forked_tree.root(forked_size);
                let verdict = merkle::verify_consistency(old_size, forked_size, old_root, &forked_root, &proof);
                assert_eq!(
                    verdict.is_ok(),
                    shares_checkpoint,
                    "fork after {shared_prefix} events, checkpoint {old_size}, forked tree size {forked_size}"
                );
            }
            // Nor does the log's own proof vouch for the fork's old root.
            let proof = log.consistency_proof(old_size, 40).unwrap();
            let forked_old_root = forked_tree.root(old_size);
            let verdict = merkle::verify_consistency(old_size, 40, &forked_old_root, &latest.root, &proof);
            assert_eq!(verdict.is_ok(), shares_checkpoint);
            merkle::verify_consistency(old_size, 40, old_root, &latest.root, &proof).unwrap();
        }
    }
}

/// Every proof of every tree of up to 16 leaves is refused for any other
/// leaf index and tree size whose proof has another length, even against
/// the roots it was made for. (Where the lengths agree, RFC 9162's
/// verifiers may accept: they trust the pairing of size and root that a
/// signed checkpoint vouches for.)
#[test]
fn proofs_are_refused_for_shapes_of_another_length() {
    let entries = random_entries(16, 16);
    let tree = MemoryTree::new(&entries);
    // Proof lengths by the reference, for every shape.
    let mut path_lens = HashMap::new();
    let mut consistency_lens = HashMap::new();
    for tree_size in 1..=16u64 {
        let tree_entries = &entries[..tree_size as usize];
        for leaf_idx in 0..tree_size {
            path_lens.insert((leaf_idx, tree_size), reference_path(leaf_idx as usize, tree_entries).len());
        }
        for old_size in 1..=tree_size {
            consistency_lens
                .insert((old_size, tree_size), reference_consistency(old_size as usize, tree_entries).len());
        }
    }
    let path_len = |leaf_idx: u64, tree_size: u64| path_lens[&(leaf_idx, tree_size)];
    let consistency_len = |old_size: u64, new_size: u64| consistency_lens[&(old_size, new_size)];
    for tree_size in 1..=16u64 {
        let root = tree.root(tree_size);
        for leaf_idx in 0..tree_size {
            let leaf = tree.nodes[&(0, leaf_idx)];
            let proof = merkle::inclusion_proof(&tree, leaf_idx, tree_size).unwrap();
            for other_size in 1..=16 {
                for other_idx in (0..other_size).filter(|&other_idx| path_len(other_idx, other_size) != proof.len()) {
                    let verdict = merkle::verify_inclusion(other_idx, other_size, &leaf, &proof, &root);
                    assert!(verdict.is_err(), "leaf {leaf_idx} of {tree_size} as leaf {other_idx} of {other_size}");
                }
            }
        }
        for old_size in 1..tree_size {
            let old_root = tree.root(old_size);
            let proof = merkle::consistency_proof(&tree, old_size, tree_size).unwrap();
            for other_new_size in 1..=16 {
                for other_old_size in (1..=other_new_size)
                    .filter(|&other_old_size| consistency_len(other_old_size, other_new_size) != proof.len())
                {
                    let verdict = merkle::verify_consistency(other_old_size, other_new_size, &old_root, &root, &proof);
                    assert!(verdict.is_err(), "{old_size} to {tree_size} as {other_old_size} to {other_new_size}");
                }
            }
        }
    }
}

/// Sizes a verifier may be handed: edges of the u64 range and small values.
fn any_size() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0),
        Just(1),
        Just(u64::MAX),
        Just(u64::MAX - 1),
        Just(1 << 63),
        Just((1 << 63) - 1),
        0..130u64,
        any::<u64>(),
    ]
}

fn any_hash() -> impl Strategy<Value = TreeHash> {
    any::<[u8; 32]>().prop_map(TreeHash)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// The frontier's root and the library's proofs over a tree in memory
    /// equal the reference's, for trees past a thousand leaves.
    #[test]
    fn memory_trees_match_the_reference(
        seed in any::<u64>(),
        tree_size in 1..1100usize,
        leaf_pick in any::<prop::sample::Index>(),
        old in any::<prop::sample::Index>(),
    ) {
        let entries = random_entries(seed, tree_size);
        let tree = MemoryTree::new(&entries);
        let (leaf_idx, old_size) = (leaf_pick.index(tree_size), old.index(tree_size + 1));
        prop_assert_eq!(tree.frontier.size(), tree_size as u64);
        prop_assert_eq!(tree.frontier.root(), reference_root(&entries));
        prop_assert_eq!(tree.root(tree_size as u64), reference_root(&entries));
        let path = merkle::inclusion_proof(&tree, leaf_idx as u64, tree_size as u64).unwrap();
        prop_assert_eq!(path, reference_path(leaf_idx, &entries));
        let proof = merkle::consistency_proof(&tree, old_size as u64, tree_size as u64).unwrap();
        prop_assert_eq!(proof, reference_consistency(old_size, &entries));
    }

    /// An inclusion proof verifies, and stops verifying once any bit of the
    /// leaf, of any proof hash or of the root flips, once the leaf index
    /// changes, once the proof loses or gains a hash, once a node above the
    /// leaf poses as the leaf, or once it is checked against another
    /// checkpoint of the same tree.
    #[test]
    fn inclusion_proofs_reject_any_change(
        seed in any::<u64>(),
        tree_size in 1..600u64,
        leaf_pick in any::<prop::sample::Index>(),
        other_leaf_idx in any_size(),
        other_size in 1..600u64,
        extra in any_hash(),
        bit in 0..256usize,
    ) {
        let tree = MemoryTree::new(&random_entries(seed, 600));
        let leaf_idx = leaf_pick.index(tree_size as usize) as u64;
        let leaf = tree.nodes[&(0, leaf_idx)];
        let root = tree.root(tree_size);
        let proof = merkle::inclusion_proof(&tree, leaf_idx, tree_size).unwrap();
        let verify = |leaf_idx, tree_size, leaf: &TreeHash, proof: &[TreeHash], root: &TreeHash| {
            merkle::verify_inclusion(leaf_idx, tree_size, leaf, proof, root).is_ok()
        };
        prop_assert!(verify(leaf_idx, tree_size, &leaf, &proof, &root));
        prop_assert!(!verify(leaf_idx, tree_size, &flip_bit(&leaf, bit), &proof, &root));
        prop_assert!(!verify(leaf_idx, tree_size, &leaf, &proof, &flip_bit(&root, bit)));
        for hash_idx in 0..proof.len() {
            let mut tampered = proof.clone();
            tampered[hash_idx] = flip_bit(&tampered[hash_idx], bit);
            prop_assert!(!verify(leaf_idx, tree_size, &leaf, &tampered, &root), "hash {}", hash_idx);
            let mut shorter = proof.clone();
            shorter.remove(hash_idx);
            prop_assert!(!verify(leaf_idx, tree_size, &leaf, &shorter, &root), "without hash {}", hash_idx);
        }
        for position in 0..=proof.len() {
            let mut longer = proof.clone();
            longer.insert(position, extra);
            prop_assert!(!verify(leaf_idx, tree_size, &leaf, &longer, &root), "extra hash at {}", position);
        }
        // Each node above the leaf, presented as the leaf with the rest of
        // the path. RFC 9162's nodes cover aligned ranges cut at the tree
        // size, so the leaf's ancestors are its aligned ranges, deduplicated.
        let mut ancestors: Vec<(u64, u64)> = (0..64)
            .map(|level| {
                let start = leaf_idx >> level << level;
                (start, (start + (1u64 << level)).min(tree_size))
            })
            .collect();
        ancestors.dedup();
        prop_assert_eq!(ancestors.len(), proof.len() + 1);
        for (n_hashes_used, &(start, end)) in ancestors.iter().enumerate().skip(1) {
            let node = merkle::range_hash(&tree, start, end).unwrap();
            let rest = &proof[n_hashes_used..];
            prop_assert!(!verify(leaf_idx, tree_size, &node, rest, &root), "node {}..{} as the leaf", start, end);
        }
        if other_leaf_idx != leaf_idx {
            prop_assert!(!verify(other_leaf_idx, tree_size, &leaf, &proof, &root));
        }
        if other_size != tree_size {
            prop_assert!(!verify(leaf_idx, other_size, &leaf, &proof, &tree.root(other_size)));
        }
    }

    /// A consistency proof verifies, and stops verifying once any bit of
    /// either root or of any proof hash flips, once the proof loses or gains
    /// a hash (also when cut short and checked against a smaller tree's
    /// root), or once either size changes (checked against the root of the
    /// same tree at that size).
    #[test]
    fn consistency_proofs_reject_any_change(
        seed in any::<u64>(),
        new_size in 2..600u64,
        old in any::<prop::sample::Index>(),
        other_old_size in 1..600u64,
        other_new_size in 1..600u64,
        extra in any_hash(),
        bit in 0..256usize,
    ) {
        let tree = MemoryTree::new(&random_entries(seed, 600));
        let old_size = 1 + old.index(new_size as usize - 1) as u64;
        let (old_root, new_root) = (tree.root(old_size), tree.root(new_size));
        let proof = merkle::consistency_proof(&tree, old_size, new_size).unwrap();
        let verify = |old_size, new_size, old_root: &TreeHash, new_root: &TreeHash, proof: &[TreeHash]| {
            merkle::verify_consistency(old_size, new_size, old_root, new_root, proof).is_ok()
        };
        prop_assert!(verify(old_size, new_size, &old_root, &new_root, &proof));
        prop_assert!(!verify(old_size, new_size, &flip_bit(&old_root, bit), &new_root, &proof));
        prop_assert!(!verify(old_size, new_size, &old_root, &flip_bit(&new_root, bit), &proof));
        for hash_idx in 0..proof.len() {
            let mut tampered = proof.clone();
            tampered[hash_idx] = flip_bit(&tampered[hash_idx], bit);
            prop_assert!(!verify(old_size, new_size, &old_root, &new_root, &tampered), "hash {}", hash_idx);
            let mut shorter = proof.clone();
            shorter.remove(hash_idx);
            prop_assert!(!verify(old_size, new_size, &old_root, &new_root, &shorter), "without hash {}", hash_idx);
        }
        for position in 0..=proof.len() {
            let mut longer = proof.clone();
            longer.insert(position, extra);
            prop_assert!(!verify(old_size, new_size, &old_root, &new_root, &longer), "extra hash at {}", position);
        }
        // A proof cut short, checked against the root of each prefix tree
        // it might then prove: those ending where an aligned subtree holding
        // the old tree's last leaf ends.
        let prefix_sizes: Vec<u64> =
            (0..64).map(|level| ((((old_size - 1) >> level) + 1) << level).min(new_size)).collect();
        for n_hashes_kept in 0..proof.len() {
            for &prefix_size in &prefix_sizes {
                let prefix_root = tree.root(prefix_size);
                let kept = &proof[..n_hashes_kept];
                prop_assert!(
                    !verify(old_size, new_size, &old_root, &prefix_root, kept),
                    "{} hashes against the root of {}", n_hashes_kept, prefix_size
                );
            }
        }
        if other_old_size != old_size {
            let other_root = tree.root(other_old_size);
            prop_assert!(!verify(other_old_size, new_size, &other_root, &new_root, &proof));
        }
        if other_new_size != new_size {
            let other_root = tree.root(other_new_size);
            prop_assert!(!verify(old_size, other_new_size, &old_root, &other_root, &proof));
        }
    }

    /// Verifiers handed arbitrary sizes, indexes and proofs of up to 70
    /// hashes answer without panicking, and refuse: random hashes form no
    /// proof, and only a proof from the empty tree needs none.
    #[test]
    fn verifiers_never_panic(
        first in any_size(),
        second in any_size(),
        leaf in any_hash(),
        root in any_hash(),
        proof in prop::collection::vec(any_hash(), 0..70),
    ) {
        prop_assert!(merkle::verify_inclusion(first, second, &leaf, &proof, &root).is_err());
        let consistent = merkle::verify_consistency(first, second, &leaf, &root, &proof).is_ok();
        prop_assert_eq!(consistent, first == 0 && second > 0 && proof.is_empty());
    }
}
