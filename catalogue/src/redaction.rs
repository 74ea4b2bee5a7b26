//! What a redaction leaves behind: the redacted event's payload with its
//! personal details replaced by a marker, keeping the structure (which
//! item, which person id) that projections need to show the gap in place.
//!
//! Only events that can carry personal detail in free text are redactable.
//! Events the record's own verification rests on (confirmations,
//! signatures, keys, minute numbers) never are: redacting them would make
//! the signed minutes uncheckable.

use super::events::DomainEvent;
use super::values::Capacity;

impl DomainEvent {
    /// The residue of redacting this event's free text with `marker`, or
    /// None when the event type is not redactable.
    pub fn redacted(&self, marker: &str) -> Option<DomainEvent> {
        let mark = || marker.to_owned();
        let mut residue = self.clone();
        match &mut residue {
            DomainEvent::PersonRegistered(event) => {
                event.name = mark();
                event.title = None;
                event.organisation = None;
            }
            DomainEvent::OfficerRegistered(event) => event.job_title = mark(),
            DomainEvent::AttendanceRecorded(event) => match &mut event.capacity {
                Capacity::Guest { description } => *description = mark(),
                Capacity::Officer { job_title } => *job_title = mark(),
                Capacity::Member { .. } | Capacity::Substitute { .. } => return None,
            },
            DomainEvent::InterestDeclared(event) => {
                event.nature = mark();
                event.dispensation = event.dispensation.as_ref().map(|_| mark());
            }
            DomainEvent::WhipDeclared(event) => event.nature = mark(),
            DomainEvent::PresenterRecorded(event) => event.description = mark(),
            DomainEvent::PointRecorded(event) => event.text = mark(),
            DomainEvent::DecisionRecorded(event) => event.text = mark(),
            DomainEvent::ActionAgreed(event) => {
                event.owner = mark();
                event.text = mark();
            }
            DomainEvent::ActionProgressed(event) => event.note = mark(),
            DomainEvent::ActionClosed(event) => event.note = mark(),
            DomainEvent::PaperAttached(event) => event.title = mark(),
            DomainEvent::ExemptSummaryRecorded(event) => event.summary = mark(),
            DomainEvent::DraftRevised(event) => match &mut event.change {
                super::events::Revision::ReplaceText { text, .. } | super::events::Revision::AddPoint { text, .. } => {
                    *text = mark()
                }
                super::events::Revision::Strike { .. } => return None,
            },
            DomainEvent::MinutesCorrected(event) => {
                event.superseded = mark();
                event.text = mark();
            }
            _ => return None,
        }
        Some(residue)
    }
}

impl super::events::PayloadRedacted {
    /// The residue as the event it stands for.
    pub fn decode_residue(&self) -> Result<DomainEvent, super::events::CatalogueError> {
        DomainEvent::decode(&self.target_type, self.residue_schema_version, &self.residue)
    }
}
