//! A lead's scoring inputs: everything scoring reads of it, kept compact in a section of the
//! lead's record ([`crate::store::Section::Inputs`]) so that a full rescore (a model promoted)
//! reads some 150 bytes a lead instead of its contact, messages and deals.
//!
//! Ingest writes them whenever it derives a lead (it has read everything then), in the same
//! record write as the row. The feature row keeps its times as instants ([`TimedFeatures`]),
//! so it is read as of any later time.
//!
//! Encoding: a version byte, then fixed fields in order (no JSON: decoding is a few hundred
//! nanoseconds). Integer features are varints, fractions `f64`s, instants milliseconds.

use leadline_shared::domain::{Qualification, QualificationItem};

use crate::binary::{DecodeError, Reader, put_f64, put_opt_str, put_time_ms, put_varint};
use crate::engine::features::{FeatureRow, TimedFeatures};

/// The encoding written today.
pub const INPUTS_V1: u8 = 1;

/// What scoring reads of one lead.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoringInputs {
    /// The qualifying answers (rules-v1 scores them; the score carries them).
    pub qualification: Qualification,
    /// The model's feature row, with its instants.
    pub features: TimedFeatures,
}

/// Why a record could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unreadable scoring inputs ({0}); the lead is derived from its records instead")]
pub struct InputsError(#[from] DecodeError);

impl ScoringInputs {
    /// The stored bytes.
    pub fn encode(&self) -> Vec<u8> {
        let r = &self.features.row;
        let mut out = Vec::with_capacity(160);
        out.push(INPUTS_V1);
        for item in QualificationItem::ALL {
            put_opt_str(&mut out, self.qualification.get(item));
        }
        for count in
            [r.inbound, r.outbound, r.inbound_questions, r.calls, r.connected_calls, r.opted_out, r.tags]
        {
            put_count(&mut out, count);
        }
        for v in [r.reply_rate, r.reply_minutes, r.sms_share, r.email_share, r.deal_value, r.stage_position] {
            put_f64(&mut out, v);
        }
        for s in [&r.source, &r.lead_type, &r.pipeline] {
            put_opt_str(&mut out, s.as_deref());
        }
        let f = &self.features;
        for t in [f.last_inbound, f.last_any, f.arrival, f.next_message] {
            put_time_ms(&mut out, t);
        }
        out
    }

    /// Reads stored bytes.
    pub fn decode(bytes: &[u8]) -> Result<ScoringInputs, InputsError> {
        let mut r = Reader::new(bytes);
        match r.u8()? {
            INPUTS_V1 => {}
            _ => return Err(InputsError(DecodeError("an encoding this Leadline does not know"))),
        }
        let mut qualification = Qualification::default();
        let mut questions = [0.0; 7];
        for (slot, item) in questions.iter_mut().zip(QualificationItem::ALL) {
            if let Some(answer) = r.opt_str()? {
                qualification.answer(item, answer);
                *slot = 1.0;
            }
        }
        let mut counts = [0.0; 7];
        for c in &mut counts {
            *c = r.varint()? as f64;
        }
        let mut fractions = [0.0; 6];
        for f in &mut fractions {
            *f = r.f64()?;
        }
        let (source, lead_type, pipeline) = (r.opt_str()?, r.opt_str()?, r.opt_str()?);
        let (last_inbound, last_any, arrival, next_message) =
            (r.time_ms()?, r.time_ms()?, r.time_ms()?, r.time_ms()?);
        r.finish()?;
        let [inbound, outbound, inbound_questions, calls, connected_calls, opted_out, tags] = counts;
        let [reply_rate, reply_minutes, sms_share, email_share, deal_value, stage_position] = fractions;
        let row = FeatureRow {
            answered: questions.iter().sum(),
            questions,
            inbound,
            outbound,
            inbound_questions,
            reply_rate,
            reply_minutes,
            // Measured from the instants when read ([`TimedFeatures::at`]).
            days_since_reply: f64::NAN,
            days_since_contact: f64::NAN,
            sms_share,
            email_share,
            calls,
            connected_calls,
            opted_out,
            days_since_arrival: f64::NAN,
            tags,
            source,
            lead_type,
            pipeline,
            deal_value,
            stage_position,
        };
        Ok(ScoringInputs {
            qualification,
            features: TimedFeatures { row, last_inbound, last_any, arrival, next_message },
        })
    }
}

/// A count feature (a whole number ≥ 0, as every count feature is).
fn put_count(out: &mut Vec<u8>, v: f64) {
    put_varint(out, if v.is_finite() && v > 0.0 { v as u64 } else { 0 });
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use super::*;

    fn sample() -> ScoringInputs {
        let mut qualification = Qualification::default();
        qualification.answer(QualificationItem::ALL[0], "$500k");
        qualification.answer(QualificationItem::ALL[3], "4 bed");
        let at = |s| Timestamp::from_second(s).ok();
        let row = FeatureRow {
            answered: 2.0,
            questions: [1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0],
            inbound: 3.0,
            outbound: 200.0,
            inbound_questions: 1.0,
            reply_rate: 1.0 / 3.0,
            reply_minutes: f64::NAN,
            days_since_reply: f64::NAN,
            days_since_contact: f64::NAN,
            sms_share: 0.75,
            email_share: 0.25,
            calls: 0.0,
            connected_calls: 0.0,
            opted_out: 1.0,
            days_since_arrival: f64::NAN,
            tags: 4.0,
            source: Some("Zillow".into()),
            lead_type: None,
            pipeline: Some("Buyers".into()),
            deal_value: 425_000.5,
            stage_position: f64::NAN,
        };
        ScoringInputs {
            qualification,
            features: TimedFeatures {
                row,
                last_inbound: at(1_700_000_000),
                last_any: None,
                arrival: at(1_600_000_123),
                next_message: at(1_700_600_000),
            },
        }
    }

    /// Equal as rows go, `NaN`s included.
    fn same(a: &FeatureRow, b: &FeatureRow) -> bool {
        use crate::engine::features::HEADER;
        a.cells() == b.cells() && HEADER.len() == a.cells().len()
    }

    #[test]
    fn round_trips_compactly() {
        let inputs = sample();
        let bytes = inputs.encode();
        assert!(bytes.len() < 160, "{} bytes", bytes.len());
        let back = ScoringInputs::decode(&bytes).expect("decodes");
        assert_eq!(back.qualification, inputs.qualification);
        let now = Timestamp::from_second(1_700_500_000).expect("ts");
        assert!(same(&back.features.at(now), &inputs.features.at(now)));
        assert_eq!(back.features.at(now).days_since_reply, 5.0);
        assert_eq!(back.features.next_message, inputs.features.next_message);
        assert!(back.features.holds_at(now));
        assert!(!back.features.holds_at(Timestamp::from_second(1_700_600_000).expect("ts")));
        assert!(back.features.at(now).days_since_contact.is_nan());
        assert_eq!(back.encode(), bytes, "the same bytes again");
    }

    #[test]
    fn garbage_is_an_error_never_a_panic() {
        let bytes = sample().encode();
        for cut in 0..bytes.len() {
            assert!(ScoringInputs::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut newer = bytes.clone();
        newer[0] = 9;
        assert!(ScoringInputs::decode(&newer).is_err());
        let mut longer = bytes;
        longer.push(0);
        assert!(ScoringInputs::decode(&longer).is_err());
    }
}
