//! Writes every fuzz target's seed corpus into fuzz/corpus/TARGET/ from a
//! real minute book: the demo council that `minutebook demo` records, with
//! its journal, keys, checkpoints, events, signed statements and export
//! bundles. Run it from fuzz/ with `cargo run --release --example
//! seed_corpora`, then minimise each corpus with `cargo fuzz cmin`
//! (docs/TESTING.md).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use minutebook::bundle::{export, Meta, Scope};
use minutebook_catalogue::{DomainEvent, CATALOGUE};
use minutebook_fuzz::{MemTree, Output};
use minutebook_log::fuzzing::{journal_key, seal_frames, FRAME_KEY};
use minutebook_log::{merkle, Event, Log, NoteSigner, Payload, Seq, LOG_KEY_FILE, LOG_PUBLIC_KEY_FILE};
use minutebook_projections::record::{catch_up, Record};

fn main() {
    let scratch = std::env::temp_dir().join(format!("minutebook-seed-corpora-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let data = scratch.join("data");
    minutebook::demo::create(&data).expect("the demo records");
    let corpus = Corpus(Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus"));
    let log = Log::open(&data).expect("the demo opens");
    let events = all_events(&log);
    let key_text = std::fs::read_to_string(data.join(LOG_KEY_FILE)).expect("log.key");
    let vkey = std::fs::read_to_string(data.join(LOG_PUBLIC_KEY_FILE)).expect("log.pub");
    let journal = std::fs::read(data.join("journal")).expect("the journal");
    let frame_ends = frame_ends(&journal);

    let signer = NoteSigner::from_skey(&key_text).expect("the demo's key");
    for n_frames in [1, 8, 40, frame_ends.len()] {
        let mut prefix = journal[..frame_ends[n_frames - 1]].to_vec();
        seal_frames(&journal_key(&signer), &mut prefix);
        corpus.write(
            "verify_journal",
            &format!("demo-{n_frames}-frames"),
            Output::default().chunk(key_text.as_bytes()).raw(&prefix),
        );
    }
    for n_frames in [1, 3, 12] {
        let mut prefix = journal[..frame_ends[n_frames - 1]].to_vec();
        seal_frames(&FRAME_KEY, &mut prefix);
        corpus.write("journal_frame", &format!("demo-{n_frames}-frames"), &Output { bytes: prefix });
    }

    let mut types_seen = BTreeSet::new();
    for event in &events {
        if types_seen.insert(event.envelope.event_type()) {
            let name = format!("demo-{}", event.envelope.event_type());
            corpus.write("envelope", &name, &Output { bytes: event.envelope_bytes.clone() });
            corpus.write("catalogue", &name, &catalogue_input(std::slice::from_ref(event)));
        }
    }
    corpus.write("catalogue", "demo-all", &catalogue_input(&events));
    corpus.write("portable", "demo-first-12", &portable_input(&events[..12]));
    corpus.write("portable", "demo-all", &portable_input(&events));
    for event in &events {
        if let (Payload::Present { bytes, .. }, "minutes.signed") = (&event.payload, event.envelope.event_type()) {
            let Ok(DomainEvent::MinutesSigned(signed)) = DomainEvent::decode("minutes.signed", 1, bytes) else {
                panic!("the demo's signatures decode")
            };
            let name = format!("demo-event-{}", event.envelope.seq().0);
            corpus.write("statement", &name, Output::default().raw(signed.statement.as_bytes()));
        }
    }

    let vkey_line = vkey.trim_end().as_bytes();
    let reader = log.reader();
    for size in [0, 1, 40, reader.len()] {
        let note = reader.checkpoint(size).expect("reads").expect("a checkpoint of every size").note;
        corpus.write(
            "checkpoint",
            &format!("demo-size-{size}"),
            Output::default().chunk(vkey_line).raw(note.as_bytes()),
        );
    }
    corpus.write("checkpoint", "demo-log-key", Output::default().chunk(vkey_line).raw(key_text.as_bytes()));

    corpus.write("merkle", "tree-7", &merkle_input(7, 3, 4));
    corpus.write("merkle", "tree-1000", &merkle_input(1000, 517, 300));

    let mut record = Record::new();
    catch_up(&reader, &mut record).expect("the demo folds");
    let meetings: Vec<_> = record.meetings.keys().cloned().collect();
    for (meeting, public) in [(&meetings[0], false), (&meetings[1], true)] {
        let meta = Meta { scope: Scope::Meeting(meeting.clone()), public };
        let bundle = export(&log, &record, &meta, &[]).expect("the demo exports");
        let mut tar = Vec::new();
        bundle.write_tar(&meta.scope.slug(), &mut tar).expect("a tar in memory");
        let audience = if public { "public" } else { "entitled" };
        corpus.write("bundle", &format!("demo-{}-{audience}", meta.scope.slug()), &Output { bytes: tar });
    }
    drop(log);
    let _ = std::fs::remove_dir_all(&scratch);
}

struct Corpus(PathBuf);

impl Corpus {
    fn write(&self, target: &str, name: &str, input: &Output) {
        let directory = self.0.join(target);
        std::fs::create_dir_all(&directory).expect("a corpus directory");
        std::fs::write(directory.join(name), &input.bytes).expect("writing a seed");
        println!("{target}/{name}: {} bytes", input.bytes.len());
    }
}

fn all_events(log: &Log) -> Vec<Event> {
    let mut events = Vec::new();
    loop {
        let more = log.read(Seq(events.len() as u64), 1_000).expect("reads");
        if more.is_empty() {
            return events;
        }
        events.extend(more);
    }
}

/// Where each frame of the journal ends (journal.rs gives the layout).
fn frame_ends(journal: &[u8]) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut offset = 0;
    while journal.get(offset..offset + 8) == Some(b"mbframe1") {
        let u32_at = |at: usize| u32::from_le_bytes(journal[offset + at..offset + at + 4].try_into().unwrap()) as usize;
        offset += 60 + u32_at(20) + u32_at(24);
        ends.push(offset);
    }
    ends
}

/// The catalogue target's layout (fuzz_targets/catalogue.rs).
fn catalogue_input(events: &[Event]) -> Output {
    let mut output = Output::default();
    let mut last_us = events.first().map_or(0, |event| event.envelope.recorded_at_us());
    for event in events {
        let envelope = &event.envelope;
        let type_idx = CATALOGUE.iter().position(|(name, _)| *name == envelope.event_type()).expect("a catalogue type");
        let after_minutes = ((envelope.recorded_at_us() - last_us) / 60_000_000).clamp(0, 65_535) as u16;
        last_us = envelope.recorded_at_us();
        output.u8(type_idx as u8).u16(envelope.schema_version()).chunk(envelope.stream().as_bytes()).u16(after_minutes);
        match &event.payload {
            Payload::Present { bytes, .. } => output.u8(0).chunk(bytes),
            Payload::Redacted { notice } => output.u8(1).chunk(notice.as_bytes()),
        };
    }
    output
}

/// The portable target's layout (fuzz_targets/portable.rs).
fn portable_input(events: &[Event]) -> Output {
    let mut output = Output::default();
    output.u8(0).u8(0);
    for event in events {
        output.chunk(&event.envelope_bytes);
        match &event.payload {
            Payload::Present { salt, bytes } => output.u8(0).raw(&salt.0).chunk(bytes),
            Payload::Redacted { notice } => output.u8(1).chunk(notice.as_bytes()),
        };
    }
    output
}

/// The merkle target's layout (fuzz_targets/merkle.rs), with a real proof
/// of `leaf_index` and from `old_size` in a tree of `size` made-up leaves.
fn merkle_input(size: u16, leaf_index: u16, old_size: u16) -> Output {
    let tree = MemTree { leaves: (0..u64::from(size)).map(minutebook_fuzz::made_up_leaf).collect() };
    let mut output = Output::default();
    output.u16(size - 1).u16(leaf_index).u16(old_size).u8(0).u8(0);
    output.u64(leaf_index.into()).u64(size.into()).u64(old_size.into()).u64(size.into());
    let proof = merkle::inclusion_proof(&tree, leaf_index.into(), size.into()).expect("a leaf");
    output
        .raw(&tree.leaves[usize::from(leaf_index)].0)
        .raw(&tree.root(old_size.into()).0)
        .raw(&tree.root(size.into()).0);
    for hash in proof {
        output.raw(&hash.0);
    }
    output
}
