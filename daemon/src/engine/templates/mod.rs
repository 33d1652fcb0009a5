//! Message templates (issue #9): the texts and emails the follow-up sequences send, and the
//! rules every message keeps (business-rules.md §1e, crm-landscape.md §4).
//!
//! Pure: no store, no clock, no network.

pub mod sms;
