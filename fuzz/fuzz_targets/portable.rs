//! Events carried away from their data directory (log/src/portable.rs):
//! each checked on its own against a checkpoint, then together.
//!
//! Input: u8 extra leaves (the tree holds the events' leaves and up to 3
//! more), u8 event whose proof to damage (0 for none); then per event a
//! length-prefixed envelope, a u8 kind and its content: 0, a 16-byte salt
//! and a length-prefixed payload; 1, a length-prefixed redaction notice;
//! 2, withheld. The tree, its root and every inclusion proof are computed
//! here, so that the fuzzer's events get past the proofs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use minutebook_fuzz::{made_up_leaf, Input, MemTree};
use minutebook_log::portable::{check_carried, check_sequence, Carried, Content};
use minutebook_log::{merkle, Checkpoint, Envelope, Salt, Seq};

#[global_allocator]
static ALLOCATOR: minutebook_fuzz::LimitedAllocator = minutebook_fuzz::LimitedAllocator;

fuzz_target!(|bytes: &[u8]| {
    let mut input = Input::new(bytes);
    let (Some(extra_leaves), Some(damaged)) = (input.u8(), input.u8()) else { return };
    let mut carried = Vec::new();
    while let Some(event) = read_event(&mut input) {
        carried.push(event);
    }
    let n_events = carried.len() as u64;
    let tree_size = n_events + u64::from(extra_leaves % 4);
    let mut leaves: Vec<_> =
        carried.iter().map(|event| merkle::leaf_hash(&Envelope::hash(&event.envelope_bytes))).collect();
    leaves.extend((n_events..tree_size).map(made_up_leaf));
    let tree = MemTree { leaves };
    let checkpoint =
        Checkpoint { origin: "fuzz.example/log".to_owned(), tree_size, root: tree.root(tree_size as usize) };
    let mut checked = Vec::new();
    for (seq, event) in carried.iter_mut().enumerate() {
        let seq = seq as u64;
        event.inclusion = merkle::inclusion_proof(&tree, seq, tree_size).expect("a leaf of the tree");
        if usize::from(damaged) == seq as usize + 1 {
            match event.inclusion.first_mut() {
                Some(hash) => hash.0[0] ^= 1,
                None => event.inclusion.push(made_up_leaf(seq)),
            }
        }
        if let Ok(event) = check_carried(Seq(seq), event, &checkpoint) {
            checked.push(event);
        }
    }
    let _ = check_sequence(&checked);
});

fn read_event(input: &mut Input<'_>) -> Option<Carried> {
    let envelope_bytes = input.chunk()?.to_vec();
    let content = match input.u8()? % 3 {
        0 => Content::Present { salt: Salt(input.array()?), bytes: input.chunk()?.to_vec() },
        1 => Content::Redacted { notice: String::from_utf8_lossy(input.chunk()?).into_owned() },
        _ => Content::Withheld,
    };
    Some(Carried { envelope_bytes, content, inclusion: Vec::new() })
}
