//! The JSON view of an event, as the API, the live feed and export
//! bundles all show it; what it withholds is the caller's to decide
//! (`visibility`).

use minutebook_catalogue::DomainEvent;
use minutebook_log::{Event, Payload};
use serde_json::json;

/// An event as JSON: its envelope's fields, its hashes, and its payload
/// decoded, unless `withheld` from the reader or redacted.
pub fn event_view(event: &Event, withheld: bool) -> serde_json::Value {
    let envelope = &event.envelope;
    let (payload, salt, redacted) = match &event.payload {
        _ if withheld => (json!("withheld"), None, None),
        Payload::Redacted { notice } => (serde_json::Value::Null, None, Some(notice.clone())),
        Payload::Present { salt, bytes } => {
            let decoded = DomainEvent::decode(envelope.event_type(), envelope.schema_version(), bytes)
                .map(|e| serde_json::to_value(&e).expect("a payload always encodes"))
                .unwrap_or_else(|e| json!({ "undecodable": e.0 }));
            (json!({ "hex": minutebook_log::hex(bytes), "decoded": decoded }), Some(salt.to_hex()), None)
        }
    };
    json!({
        "seq": envelope.seq().0,
        "stream": envelope.stream(),
        "stream_version": envelope.stream_version().0,
        "event_id": envelope.event_id().to_string(),
        "event_type": envelope.event_type(),
        "schema_version": envelope.schema_version(),
        "actor": envelope.actor(),
        "role": envelope.role(),
        "recorded_at_us": envelope.recorded_at_us(),
        "prev_hash": envelope.prev_hash().to_hex(),
        "payload_hash": envelope.payload_hash().to_hex(),
        "event_hash": event.hash.to_hex(),
        "envelope_hex": minutebook_log::hex(&event.envelope_bytes),
        "salt": salt,
        "payload": payload,
        "redacted": redacted,
    })
}
