//! The RFC 9162 proof verifiers, two ways. Raw: any sizes, indices and
//! hashes must give an answer, never a panic or an overflow. Against the
//! prover: in a tree of up to 1024 made-up leaves, a proof the prover
//! gives verifies, and the same proof with one bit flipped does not.
//!
//! Input: u16 leaves, u16 leaf index, u16 old size, u8 hash to flip, u8
//! bit to flip; then u64 leaf index, u64 tree size, u64 old size, u64 new
//! size, and 32-byte hashes (leaf, old root, new root, then the proof).
#![no_main]

use libfuzzer_sys::fuzz_target;
use minutebook_fuzz::{made_up_leaf, Input, MemTree};
use minutebook_log::merkle;
use minutebook_log::TreeHash;

#[global_allocator]
static ALLOCATOR: minutebook_fuzz::LimitedAllocator = minutebook_fuzz::LimitedAllocator;

fuzz_target!(|bytes: &[u8]| {
    let mut input = Input::new(bytes);
    let (Some(n_leaves), Some(leaf_index), Some(old_size), Some(flip_hash), Some(flip_bit)) =
        (input.u16(), input.u16(), input.u16(), input.u8(), input.u8())
    else {
        return;
    };
    against_prover(n_leaves, leaf_index, old_size, usize::from(flip_hash), flip_bit);
    raw(&mut input);
});

fn flipped(proof: &[TreeHash], flip_hash: usize, flip_bit: u8) -> Vec<TreeHash> {
    let mut proof = proof.to_vec();
    let at = flip_hash % proof.len();
    proof[at].0[usize::from(flip_bit / 8) % 32] ^= 1 << (flip_bit % 8);
    proof
}

fn against_prover(n_leaves: u16, leaf_index: u16, old_size: u16, flip_hash: usize, flip_bit: u8) {
    let size = u64::from(n_leaves % 1024) + 1;
    let tree = MemTree { leaves: (0..size).map(made_up_leaf).collect() };
    let root = tree.root(size as usize);
    let leaf_index = u64::from(leaf_index) % size;
    let leaf = tree.leaves[leaf_index as usize];
    let proof = merkle::inclusion_proof(&tree, leaf_index, size).expect("the prover proves a leaf of its tree");
    merkle::verify_inclusion(leaf_index, size, &leaf, &proof, &root).expect("the prover's inclusion proof verifies");
    if !proof.is_empty() {
        let bad = flipped(&proof, flip_hash, flip_bit);
        assert!(merkle::verify_inclusion(leaf_index, size, &leaf, &bad, &root).is_err(), "a flipped bit verified");
    }
    let old_size = u64::from(old_size) % (size + 1);
    let old_root = tree.root(old_size as usize);
    let proof = merkle::consistency_proof(&tree, old_size, size).expect("the prover proves a prefix of its tree");
    merkle::verify_consistency(old_size, size, &old_root, &root, &proof)
        .expect("the prover's consistency proof verifies");
    if !proof.is_empty() {
        let bad = flipped(&proof, flip_hash, flip_bit);
        assert!(merkle::verify_consistency(old_size, size, &old_root, &root, &bad).is_err(), "a flipped bit verified");
    }
}

fn raw(input: &mut Input<'_>) {
    let (Some(leaf_index), Some(tree_size), Some(old_size), Some(new_size)) =
        (input.u64(), input.u64(), input.u64(), input.u64())
    else {
        return;
    };
    let mut hashes = Vec::new();
    while let Some(hash) = input.array::<32>() {
        hashes.push(TreeHash(hash));
    }
    let [leaf, old_root, new_root, proof @ ..] = hashes.as_slice() else { return };
    let _ = merkle::verify_inclusion(leaf_index, tree_size, leaf, proof, new_root);
    let _ = merkle::verify_consistency(old_size, new_size, old_root, new_root, proof);
}
