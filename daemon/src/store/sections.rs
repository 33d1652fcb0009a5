//! How each section of a lead record ([`super::codec::LeadRecord`]) is written and read.
//!
//! The row and the score are read and written far more than anything else in the store: every
//! queue window reads rows, every derived lead writes both, and a full rescore reads and writes
//! them for every lead. Since schema 10 they are a compact binary encoding (a version byte, then
//! every field in a fixed order), which reads several times faster than JSON's named fields. A
//! section written as JSON (a store before schema 10, or one a migration has not reached yet)
//! still reads: JSON always starts with `{`, and no binary version byte is `{`.
//!
//! The contact stays JSON: GHL's contact has open-ended fields, and it is read only when a lead is
//! derived or shown.
//!
//! One list of fields per type ([`fixed_fields!`]) gives both the writing and the reading, in
//! the same order. The writing takes the value apart without `..`, so a field added to the row
//! or the score fails to compile here until it is listed; a new field goes at the end, under a
//! new version byte that the decoder also reads.

use jiff::Timestamp;
use leadline_shared::domain::{
    CallStats, Contact, Contribution, LeadSummary, Qualification, QualificationItem, Score, Temperature,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{StoreError, Tree};
use crate::binary::{DecodeError, Reader, put_f64, put_opt_f64, put_opt_str, put_str, put_time, put_varint};

/// The binary row encoding written today.
const ROW_V1: u8 = 1;
/// The binary score encoding written today.
const SCORE_V1: u8 = 1;

/// A value kept in a section of a lead record.
pub trait SectionValue: Sized {
    /// The section's bytes; never empty (length 0 means an absent section).
    fn to_section(&self) -> Result<Vec<u8>, StoreError>;
    /// Reads a section's bytes.
    fn from_section(body: &[u8]) -> Result<Self, StoreError>;
}

fn corrupt(what: &str, reason: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt { tree: Tree::Leads.name(), reason: format!("{what}: {reason}") }
}

fn json<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| StoreError::Backend(format!("cannot encode a record: {e}")))
}

fn from_json<T: DeserializeOwned>(what: &str, body: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(body).map_err(|e| corrupt(what, e))
}

/// Whether a section was written as JSON (before schema 10).
fn is_json(body: &[u8]) -> bool {
    body.first() == Some(&b'{')
}

impl SectionValue for Contact {
    fn to_section(&self) -> Result<Vec<u8>, StoreError> {
        json(self)
    }

    fn from_section(body: &[u8]) -> Result<Self, StoreError> {
        from_json("a contact", body)
    }
}

/// A value's binary form, in a fixed encoding ([`crate::binary`]'s primitives).
trait Field: Sized {
    fn put(&self, out: &mut Vec<u8>);
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError>;
}

/// [`Field`] for a struct: its fields one after the other, in the order listed. The writing
/// destructures the struct without `..`, so a field left out of the list does not compile.
macro_rules! fixed_fields {
    ($ty:ident { $($field:ident),+ $(,)? }) => {
        impl Field for $ty {
            fn put(&self, out: &mut Vec<u8>) {
                let $ty { $($field),+ } = self;
                $( Field::put($field, out); )+
            }

            fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                $( let $field = Field::read(r)?; )+
                Ok($ty { $($field),+ })
            }
        }
    };
}

/// [`Field`] for types written by one primitive of [`crate::binary`] and read by one method of
/// its [`Reader`].
macro_rules! primitive_fields {
    ($($ty:ty => |$out:ident, $v:ident| $put:expr, $read:ident;)+) => {
        $(
            impl Field for $ty {
                #[inline]
                fn put(&self, $out: &mut Vec<u8>) {
                    let $v = self;
                    $put;
                }
                fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                    r.$read()
                }
            }
        )+
    };
}

primitive_fields! {
    String => |out, v| put_str(out, v), str;
    Option<String> => |out, v| put_opt_str(out, v.as_deref()), opt_str;
    u8 => |out, v| out.push(*v), u8;
    u32 => |out, v| put_varint(out, u64::from(*v)), u32;
    u64 => |out, v| put_varint(out, *v), varint;
    bool => |out, v| out.push(u8::from(*v)), bool;
    f64 => |out, v| put_f64(out, *v), f64;
    Option<f64> => |out, v| put_opt_f64(out, *v), opt_f64;
    // An instant to the nanosecond, as the JSON it replaces kept it.
    Option<Timestamp> => |out, v| put_time(out, *v), time;
}

impl Field for Temperature {
    fn put(&self, out: &mut Vec<u8>) {
        out.push(match self {
            Temperature::Cold => 0,
            Temperature::Warm => 1,
            Temperature::Hot => 2,
        });
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8()? {
            0 => Ok(Temperature::Cold),
            1 => Ok(Temperature::Warm),
            2 => Ok(Temperature::Hot),
            _ => Err(DecodeError("an unknown temperature")),
        }
    }
}

/// A count, then the items.
impl<T: Field> Field for Vec<T> {
    fn put(&self, out: &mut Vec<u8>) {
        put_varint(out, self.len() as u64);
        self.iter().for_each(|item| item.put(out));
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let count = usize::try_from(r.varint()?).map_err(|_| DecodeError("a list too long"))?;
        // Each item takes at least a byte: a count past the bytes left is corrupt, not an
        // allocation.
        let mut items = Vec::with_capacity(count.min(r.remaining()));
        for _ in 0..count {
            items.push(T::read(r)?);
        }
        Ok(items)
    }
}

/// The answers in the questions' order, each present or not.
impl Field for Qualification {
    fn put(&self, out: &mut Vec<u8>) {
        QualificationItem::ALL.into_iter().for_each(|item| put_opt_str(out, self.get(item)));
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut qualification = Qualification::default();
        for item in QualificationItem::ALL {
            if let Some(answer) = r.opt_str()? {
                qualification.answer(item, answer);
            }
        }
        Ok(qualification)
    }
}

fixed_fields!(CallStats { calls, connected, talk_seconds });
fixed_fields!(Contribution { feature, contribution });
fixed_fields!(LeadSummary {
    id,
    name,
    score,
    scored_by,
    temperature,
    answered,
    source,
    lead_type,
    pipeline,
    stage,
    phone,
    email,
    timezone,
    tags,
    date_added,
    last_activity,
    awaiting_reply_since,
    first_outbound_at,
    next_followup_at,
    sms_blocked,
    message_count,
    assigned_to,
    appointment,
    won_value,
    calls,
    open_value,
    priority,
    inbound_count,
    stage_since,
    churn_risk,
    value_at_risk,
});
fixed_fields!(Score { contact_id, value, temperature, qualification, explanation, model, computed_at });

/// A version byte, then the value's fields.
fn to_binary<T: Field>(version: u8, value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.push(version);
    value.put(&mut out);
    out
}

/// Reads [`to_binary`]'s bytes (or, before schema 10, JSON); `what` names the value in errors.
fn from_binary<T: Field + DeserializeOwned>(what: &str, version: u8, body: &[u8]) -> Result<T, StoreError> {
    if is_json(body) {
        return from_json(what, body);
    }
    let mut r = Reader::new(body);
    let read = match r.u8() {
        Ok(v) if v == version => T::read(&mut r).and_then(|value| r.finish().map(|()| value)),
        Ok(_) => Err(DecodeError("an encoding this Leadline does not know")),
        Err(e) => Err(e),
    };
    read.map_err(|e| corrupt(what, e))
}

impl SectionValue for LeadSummary {
    fn to_section(&self) -> Result<Vec<u8>, StoreError> {
        Ok(to_binary(ROW_V1, self))
    }

    fn from_section(body: &[u8]) -> Result<Self, StoreError> {
        from_binary("a lead row", ROW_V1, body)
    }
}

impl SectionValue for Score {
    fn to_section(&self) -> Result<Vec<u8>, StoreError> {
        Ok(to_binary(SCORE_V1, self))
    }

    fn from_section(body: &[u8]) -> Result<Self, StoreError> {
        from_binary("a score", SCORE_V1, body)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![Just(String::new()), "[a-zA-Z0-9 @.+é{}\"-]{1,24}"]
    }

    fn opt_text() -> impl Strategy<Value = Option<String>> {
        proptest::option::of(text())
    }

    fn time() -> impl Strategy<Value = Option<Timestamp>> {
        proptest::option::of(
            (-2_000_000_000i64..4_000_000_000, 0i32..1_000_000_000)
                .prop_map(|(s, n)| Timestamp::new(s, if s < 0 { -n } else { n }).unwrap_or_default()),
        )
    }

    fn temperature() -> impl Strategy<Value = Temperature> {
        prop_oneof![Just(Temperature::Cold), Just(Temperature::Warm), Just(Temperature::Hot)]
    }

    fn money() -> impl Strategy<Value = f64> {
        prop_oneof![Just(0.0), Just(-0.0), -1e12f64..1e12]
    }

    prop_compose! {
        fn row()(
            (id, name, scored_by) in (text(), text(), text()),
            (score, answered, priority, churn_risk) in (any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>()),
            temperature in temperature(),
            strings in proptest::collection::vec(opt_text(), 8),
            tags in proptest::collection::vec(text(), 0..5),
            times in proptest::collection::vec(time(), 6),
            (sms_blocked, appointment) in (any::<bool>(), any::<bool>()),
            (message_count, inbound_count, calls, connected, talk_seconds) in
                (any::<u32>(), any::<u32>(), any::<u32>(), any::<u32>(), any::<u64>()),
            (won_value, open_value, value_at_risk) in
                (proptest::option::of(money()), proptest::option::of(money()), money()),
        ) -> LeadSummary {
            LeadSummary {
                id,
                name,
                score,
                scored_by,
                temperature,
                answered,
                source: strings[0].clone(),
                lead_type: strings[1].clone(),
                pipeline: strings[2].clone(),
                stage: strings[3].clone(),
                phone: strings[4].clone(),
                email: strings[5].clone(),
                timezone: strings[6].clone(),
                tags,
                date_added: times[0],
                last_activity: times[1],
                awaiting_reply_since: times[2],
                first_outbound_at: times[3],
                next_followup_at: times[4],
                sms_blocked,
                message_count,
                assigned_to: strings[7].clone(),
                appointment,
                won_value,
                calls: CallStats { calls, connected, talk_seconds },
                open_value,
                priority,
                inbound_count,
                stage_since: times[5],
                churn_risk,
                value_at_risk,
            }
        }
    }

    prop_compose! {
        fn score()(
            contact_id in text(),
            value in any::<u8>(),
            temperature in temperature(),
            answers in proptest::collection::vec(opt_text(), 7),
            explanation in proptest::collection::vec((text(), money()), 0..6),
            model in text(),
            computed_at in time(),
        ) -> Score {
            let mut qualification = Qualification::default();
            for (item, answer) in QualificationItem::ALL.into_iter().zip(answers) {
                if let Some(answer) = answer {
                    qualification.answer(item, answer);
                }
            }
            let explanation =
                explanation.into_iter().map(|(feature, contribution)| Contribution { feature, contribution }).collect();
            Score { contact_id, value, temperature, qualification, explanation, model, computed_at }
        }
    }

    /// `value` reads back from its section, and from the JSON a Leadline before schema 10 wrote.
    fn round_trips<T>(value: &T) -> Result<(), TestCaseError>
    where
        T: SectionValue + Serialize + PartialEq + std::fmt::Debug,
    {
        let bytes = value.to_section().expect("encodes");
        prop_assert_ne!(bytes[0], b'{');
        prop_assert_eq!(&T::from_section(&bytes).expect("decodes"), value);
        let old = serde_json::to_vec(value).expect("json");
        prop_assert_eq!(&T::from_section(&old).expect("json decodes"), value);
        Ok(())
    }

    proptest! {
        #[test]
        fn rows_and_scores_round_trip_and_read_their_json(row in row(), score in score()) {
            round_trips(&row)?;
            round_trips(&score)?;
        }

        /// Every cut and every flipped byte is an error or another value, never a panic.
        #[test]
        fn damaged_sections_never_panic(row in row(), score in score(), at in any::<usize>(), byte in any::<u8>()) {
            for bytes in [row.to_section().expect("row"), score.to_section().expect("score")] {
                let cut = at % bytes.len();
                prop_assert!(LeadSummary::from_section(&bytes[..cut]).is_err());
                prop_assert!(Score::from_section(&bytes[..cut]).is_err());
                let mut flipped = bytes.clone();
                flipped[cut] = byte;
                let _ = LeadSummary::from_section(&flipped);
                let _ = Score::from_section(&flipped);
            }
        }
    }

    #[test]
    fn unknown_encodings_are_reported() {
        let row = LeadSummary { id: "c1".into(), ..Default::default() };
        let mut bytes = row.to_section().expect("encodes");
        bytes[0] = 7;
        let err = LeadSummary::from_section(&bytes).expect_err("unknown version").to_string();
        assert!(err.contains("a lead row") && err.contains("does not know"), "{err}");
        let mut longer = row.to_section().expect("encodes");
        longer.push(0);
        assert!(LeadSummary::from_section(&longer).is_err(), "trailing bytes");
        assert!(Score::from_section(b"{\"value\": \"high\"}").is_err(), "bad JSON");
        assert!(LeadSummary::from_section(&[]).is_err());
    }

    #[test]
    fn a_typical_row_takes_under_half_the_bytes_of_its_json() {
        let at = Timestamp::from_millisecond(1_764_662_400_123).ok();
        let row = LeadSummary {
            id: "MBFhyDd92aUUT1ejn4vf".into(),
            name: "Jason Wang".into(),
            score: 73,
            scored_by: "gbdt-v1".into(),
            source: Some("Sign Call".into()),
            lead_type: Some("seller".into()),
            phone: Some("+16309489587".into()),
            email: Some("jason.wang@icloud.com".into()),
            timezone: Some("America/Chicago".into()),
            tags: vec!["Seller-Lead".into(), "Needs Qualifying".into()],
            date_added: at,
            last_activity: at,
            assigned_to: Some("HNLonNeaTYKTSl8ICZhn".into()),
            priority: 82,
            churn_risk: 55,
            value_at_risk: 160_600.0,
            ..Default::default()
        };
        let (binary, json) =
            (row.to_section().expect("binary").len(), serde_json::to_vec(&row).expect("json").len());
        assert!(binary * 2 < json, "{binary} bytes against {json} in JSON");
    }
}
