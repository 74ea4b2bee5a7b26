//! What a bundle's evidence gives: the record folded from its events, and
//! every derived file (the JSON view of each event, the chairs' keys,
//! statements and signatures, the rendered minutes, the description and
//! the read-me). The exporter writes these files; the verifier derives
//! them again from the evidence it checked and compares them byte for byte.

use std::collections::{BTreeMap, BTreeSet};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use minutebook_catalogue::{BodyId, MeetingId};
use minutebook_log::portable::{Carried, CheckedEvent, Content};
use minutebook_log::{Checkpoint, Event, TreeHash};
use minutebook_projections::record::{residue_among, Record};
use minutebook_projections::render;
use minutebook_projections::view::{self, Audience};
use serde_json::json;

use super::files::{CHECKPOINT, CONSISTENCY_DIR, DESCRIPTION, LOG_KEY, README};

/// The format named in every bundle's description.
pub const FORMAT: &str = "minutebook export bundle";
pub const FORMAT_VERSION: u64 = 1;

/// What a withheld payload's `withheld` file says.
pub const WITHHELD_TEXT: &str = "withheld from the public: exempt content, or a draft not yet published\n";
/// The notice a withheld payload folds as: its content is not at hand.
pub const WITHHELD_NOTICE: &str = "withheld from this bundle";

/// Which part of the log a bundle carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    Meeting(MeetingId),
    Body(BodyId),
    All,
}

impl Scope {
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Scope::Meeting(id) => json!({ "meeting": id }),
            Scope::Body(id) => json!({ "body": id }),
            Scope::All => json!("all"),
        }
    }

    pub fn from_json(value: &serde_json::Value) -> Option<Scope> {
        match value {
            serde_json::Value::String(all) if all == "all" => Some(Scope::All),
            serde_json::Value::Object(map) if map.len() == 1 => {
                let (key, id) = map.iter().next()?;
                let id = id.as_str()?;
                match key.as_str() {
                    "meeting" => MeetingId::new(id).ok().map(Scope::Meeting),
                    "body" => BodyId::new(id).ok().map(Scope::Body),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// A short name for file names: "meeting-rcsp-2026-03-05".
    pub fn slug(&self) -> String {
        match self {
            Scope::Meeting(id) => format!("meeting-{id}"),
            Scope::Body(id) => format!("body-{id}"),
            Scope::All => "all".to_owned(),
        }
    }

    /// Whether the meeting is one this scope renders and checks.
    pub fn holds(&self, record: &Record, meeting: &MeetingId) -> bool {
        match self {
            Scope::Meeting(id) => meeting == id,
            Scope::Body(id) => record.meetings.get(meeting).is_some_and(|m| m.body == *id),
            Scope::All => true,
        }
    }

    fn describe(&self) -> String {
        match self {
            Scope::Meeting(id) => format!("meeting {id}"),
            Scope::Body(id) => format!("every meeting of body {id}"),
            Scope::All => "the whole log".to_owned(),
        }
    }
}

/// What a bundle says of itself that its evidence cannot: its scope and
/// its audience.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Meta {
    pub scope: Scope,
    pub public: bool,
}

impl Meta {
    pub fn audience(&self) -> Audience {
        if self.public {
            Audience::Public
        } else {
            Audience::Entitled
        }
    }
}

/// A bundle's evidence, once checked.
pub struct Evidence {
    pub log_key: String,
    pub checkpoint_note: String,
    pub checkpoint: Checkpoint,
    /// In order of position.
    pub events: Vec<(Carried, CheckedEvent)>,
    /// By older tree size: the root at that size, and the proof that the
    /// checkpoint's tree extends it.
    pub consistency: BTreeMap<u64, (TreeHash, Vec<TreeHash>)>,
}

impl Evidence {
    /// The events as the log would read them back (withheld payloads as
    /// redacted, with `WITHHELD_NOTICE`).
    pub fn log_events(&self) -> Vec<Event> {
        self.events.iter().map(|(carried, checked)| carried.to_event(checked, WITHHELD_NOTICE)).collect()
    }
}

/// Folds `events` (part of a log, in order) into a record, calling
/// `before` with each event and the record as it stood just before it.
/// A redacted event folds as the residue its `payload.redacted` event,
/// later in the same events, leaves in its place.
pub fn fold(events: &[Event], mut before: impl FnMut(&Record, &Event)) -> Record {
    let mut record = Record::new();
    for (index, event) in events.iter().enumerate() {
        record.skip_to(event.envelope.seq());
        before(&record, event);
        let residue = match &event.payload {
            minutebook_log::Payload::Redacted { .. } => residue_among(&events[index + 1..], event),
            minutebook_log::Payload::Present { .. } => None,
        };
        record.apply(event, residue.as_ref().map(|(residue, basis)| (residue, basis.as_str())));
    }
    record
}

/// The meetings a bundle renders minutes of: those of its scope that its
/// events schedule.
pub fn meetings_of(record: &Record, scope: &Scope) -> Vec<MeetingId> {
    record.meetings.keys().filter(|meeting| scope.holds(record, meeting)).cloned().collect()
}

pub fn event_dir(seq: u64) -> String {
    format!("events/{seq:020}")
}

/// Every derived file of a bundle, by path.
pub fn derived_files(meta: &Meta, evidence: &Evidence, events: &[Event], record: &Record) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let pretty = |value: &serde_json::Value| {
        let mut text = serde_json::to_string_pretty(value).expect("JSON always encodes");
        text.push('\n');
        text.into_bytes()
    };
    let mut streams: BTreeMap<&str, u64> = BTreeMap::new();
    let (mut redacted, mut withheld) = (0u64, 0u64);
    for ((carried, _), event) in evidence.events.iter().zip(events) {
        let is_withheld = carried.content == Content::Withheld;
        withheld += u64::from(is_withheld);
        redacted += u64::from(matches!(carried.content, Content::Redacted { .. }));
        streams.insert(event.envelope.stream(), event.envelope.stream_version().0);
        files.insert(
            format!("{}/event.json", event_dir(event.envelope.seq().0)),
            pretty(&crate::policy::views::event_view(event, is_withheld)),
        );
    }
    let meetings = meetings_of(record, &meta.scope);
    // When each withheld correction was recorded, by its meeting's stream:
    // found once, not once a meeting.
    let mut withheld_corrections: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for ((carried, _), event) in evidence.events.iter().zip(events) {
        if carried.content == Content::Withheld && event.envelope.event_type() == "minutes.corrected" {
            withheld_corrections.entry(event.envelope.stream()).or_default().push(event.envelope.recorded_at_us());
        }
    }
    let mut signers = BTreeSet::new();
    for id in &meetings {
        let meeting = &record.meetings[id];
        if let Some(mut minutes) = view::minutes(record, id, meta.audience()) {
            // A correction whose payload is withheld shows as the public
            // minutes show one of exempt content.
            let timezone = record.bodies.get(&meeting.body).map_or("UTC", |body| body.timezone.as_str());
            for at_us in withheld_corrections.get(meeting.stream().as_str()).into_iter().flatten() {
                minutes.add_withheld_correction(*at_us, timezone);
            }
            files.insert(format!("minutes/{id}.md"), render::markdown(&minutes).into_bytes());
            files.insert(format!("minutes/{id}.html"), render::html(&minutes).into_bytes());
        }
        for signature in &meeting.signatures {
            let signed = &signature.signed;
            let at = format!("signatures/{id}/{:020}", signature.seq.0);
            files.insert(format!("{at}.statement"), signed.statement.clone().into_bytes());
            files.insert(format!("{at}.signature"), format!("{}\n", BASE64.encode(signed.signature.0)).into_bytes());
            signers.insert(signed.signer.clone());
        }
    }
    for signer in &signers {
        let Some(person) = record.people.get(signer) else { continue };
        let keys: Vec<_> = person
            .keys
            .iter()
            .map(|key| {
                json!({
                    "public_key": BASE64.encode(key.public_key),
                    "registered_by_event": key.registered_at.0,
                    "revoked_by_event": key.revoked_at.map(|seq| seq.0),
                })
            })
            .collect();
        files.insert(
            format!("keys/{signer}.json"),
            pretty(&json!({ "person": signer, "name": person.display_name(), "keys": keys })),
        );
    }
    let description = json!({
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "scope": meta.scope.to_json(),
        "audience": if meta.public { "public" } else { "entitled" },
        "origin": evidence.checkpoint.origin,
        "tree_size": evidence.checkpoint.tree_size,
        "root": evidence.checkpoint.root.to_hex(),
        "events": events.len(),
        "redacted": redacted,
        "withheld": withheld,
        "streams": streams,
        "meetings": meetings,
        "consistency_from": evidence.consistency.keys().collect::<Vec<_>>(),
    });
    files.insert(DESCRIPTION.to_owned(), pretty(&description));
    files.insert(README.to_owned(), readme(meta, evidence, events.len()).into_bytes());
    files
}

fn readme(meta: &Meta, evidence: &Evidence, n_events: usize) -> String {
    let audience = if meta.public {
        "This is a public bundle: the payloads of exempt items and of drafts not yet published are \
         withheld, but their envelopes, and so their hashes, are here."
    } else {
        "This is a full bundle, for those entitled to exempt content."
    };
    format!(
        "minutebook export bundle\n\
         \n\
         Scope: {scope}, {n_events} events of the log {origin}, checked against its checkpoint\n\
         of tree size {size} ({checkpoint}) signed with the key in {key}.\n\
         {audience}\n\
         \n\
         To check it:      minutebook verify THIS-BUNDLE [--checkpoint AN-OLDER-CHECKPOINT]\n\
         To check it without minutebook: the layout and every byte format are in\n\
         docs/VERIFYING.md of minutebook's source. Take the log's key from somewhere\n\
         other than this bundle (a published notice, an earlier export) and compare.\n\
         Consistency proofs from older tree sizes are in {consistency}/.\n",
        scope = meta.scope.describe(),
        origin = evidence.checkpoint.origin,
        size = evidence.checkpoint.tree_size,
        checkpoint = CHECKPOINT,
        key = LOG_KEY,
        consistency = CONSISTENCY_DIR,
    )
}
