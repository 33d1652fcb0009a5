//! The primitives of the daemon's compact binary encodings (a lead's scoring inputs, its row
//! and its score in the store): varints, optional strings, instants and `f64`s, written to a
//! `Vec<u8>` and read back by a [`Reader`] that reports truncated or malformed bytes as a
//! [`DecodeError`], never a panic.
//!
//! Each encoding that uses them starts with its own version byte and lists its fields in a fixed
//! order; nothing here is self-describing.

use jiff::Timestamp;

/// Why bytes could not be read: what was wrong, in a few words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(pub &'static str);

/// Appends `v` in 7-bit groups, low first (one byte below 128).
pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A string, or none: its length + 1 (0 for none), then its bytes.
pub fn put_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => {
            put_varint(out, s.len() as u64 + 1);
            out.extend_from_slice(s.as_bytes());
        }
        None => out.push(0),
    }
}

/// A string that is always there: [`put_opt_str`] of it.
pub fn put_str(out: &mut Vec<u8>, s: &str) {
    put_opt_str(out, Some(s));
}

/// An instant to the millisecond (what GHL's times hold), or none.
pub fn put_time_ms(out: &mut Vec<u8>, t: Option<Timestamp>) {
    match t {
        Some(t) => {
            out.push(1);
            out.extend_from_slice(&t.as_millisecond().to_le_bytes());
        }
        None => out.push(0),
    }
}

/// An instant to the nanosecond, or none: whole seconds, then the nanoseconds within them.
pub fn put_time(out: &mut Vec<u8>, t: Option<Timestamp>) {
    match t {
        Some(t) => {
            out.push(1);
            out.extend_from_slice(&t.as_second().to_le_bytes());
            out.extend_from_slice(&t.subsec_nanosecond().to_le_bytes());
        }
        None => out.push(0),
    }
}

/// An `f64`, every bit kept (`NaN`s included).
pub fn put_f64(out: &mut Vec<u8>, v: f64) {
    out.extend_from_slice(&v.to_bits().to_le_bytes());
}

/// An optional `f64`.
pub fn put_opt_f64(out: &mut Vec<u8>, v: Option<f64>) {
    match v {
        Some(v) => {
            out.push(1);
            put_f64(out, v);
        }
        None => out.push(0),
    }
}

/// Reads what the `put_*` functions wrote, in the same order.
pub struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader(bytes)
    }

    /// The bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.0.len()
    }

    /// Fails unless every byte was read.
    pub fn finish(self) -> Result<(), DecodeError> {
        if self.0.is_empty() { Ok(()) } else { Err(DecodeError("trailing bytes")) }
    }

    pub fn take<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let (head, rest) = self.0.split_first_chunk::<N>().ok_or(DecodeError("truncated"))?;
        self.0 = rest;
        Ok(*head)
    }

    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take::<1>()?[0])
    }

    /// A byte that must be 0 or 1.
    pub fn bool(&mut self) -> Result<bool, DecodeError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(DecodeError("a flag neither 0 nor 1")),
        }
    }

    pub fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= u64::from(b & 0x7F) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(DecodeError("a number too long"))
    }

    /// A varint that must fit in a `u32`.
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        u32::try_from(self.varint()?).map_err(|_| DecodeError("a number out of range"))
    }

    pub fn opt_str(&mut self) -> Result<Option<String>, DecodeError> {
        let len = self.varint()?;
        if len == 0 {
            return Ok(None);
        }
        let len = usize::try_from(len - 1).map_err(|_| DecodeError("a string too long"))?;
        let (body, rest) = self.0.split_at_checked(len).ok_or(DecodeError("truncated"))?;
        self.0 = rest;
        String::from_utf8(body.to_vec()).map(Some).map_err(|_| DecodeError("a string not UTF-8"))
    }

    /// A string written by [`put_str`].
    pub fn str(&mut self) -> Result<String, DecodeError> {
        self.opt_str()?.ok_or(DecodeError("a string missing"))
    }

    pub fn time_ms(&mut self) -> Result<Option<Timestamp>, DecodeError> {
        match self.u8()? {
            0 => Ok(None),
            _ => {
                let ms = i64::from_le_bytes(self.take::<8>()?);
                Timestamp::from_millisecond(ms).map(Some).map_err(|_| DecodeError("a time out of range"))
            }
        }
    }

    pub fn time(&mut self) -> Result<Option<Timestamp>, DecodeError> {
        match self.u8()? {
            0 => Ok(None),
            1 => {
                let seconds = i64::from_le_bytes(self.take::<8>()?);
                let nanos = i32::from_le_bytes(self.take::<4>()?);
                Timestamp::new(seconds, nanos).map(Some).map_err(|_| DecodeError("a time out of range"))
            }
            _ => Err(DecodeError("a time's tag neither 0 nor 1")),
        }
    }

    pub fn f64(&mut self) -> Result<f64, DecodeError> {
        Ok(f64::from_bits(u64::from_le_bytes(self.take::<8>()?)))
    }

    pub fn opt_f64(&mut self) -> Result<Option<f64>, DecodeError> {
        match self.u8()? {
            0 => Ok(None),
            1 => self.f64().map(Some),
            _ => Err(DecodeError("a value's tag neither 0 nor 1")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_primitive_reads_back() {
        let t = Timestamp::new(1_700_000_000, 123_456_789).expect("ts");
        let before_1970 = Timestamp::new(-5, -1).expect("ts");
        let mut out = Vec::new();
        put_varint(&mut out, u64::MAX);
        put_varint(&mut out, 127);
        put_opt_str(&mut out, None);
        put_str(&mut out, "");
        put_str(&mut out, "héllo");
        put_time(&mut out, Some(t));
        put_time(&mut out, Some(before_1970));
        put_time(&mut out, None);
        put_time_ms(&mut out, Some(t));
        put_opt_f64(&mut out, Some(-0.0));
        put_opt_f64(&mut out, None);
        put_f64(&mut out, f64::NAN);
        out.push(1);
        let mut r = Reader::new(&out);
        assert_eq!(r.varint(), Ok(u64::MAX));
        assert_eq!(r.varint(), Ok(127));
        assert_eq!(r.opt_str(), Ok(None));
        assert_eq!(r.str().as_deref(), Ok(""));
        assert_eq!(r.str().as_deref(), Ok("héllo"));
        assert_eq!(r.time(), Ok(Some(t)), "to the nanosecond");
        assert_eq!(r.time(), Ok(Some(before_1970)));
        assert_eq!(r.time(), Ok(None));
        assert_eq!(r.time_ms(), Ok(Some(Timestamp::from_millisecond(1_700_000_000_123).expect("ts"))));
        assert_eq!(r.opt_f64().map(|v| v.map(f64::to_bits)), Ok(Some((-0.0f64).to_bits())));
        assert_eq!(r.opt_f64(), Ok(None));
        assert!(r.f64().expect("nan").is_nan());
        assert_eq!(r.remaining(), 1);
        assert_eq!(r.bool(), Ok(true));
        assert_eq!(r.finish(), Ok(()));
    }

    #[test]
    fn malformed_bytes_are_errors() {
        assert!(Reader::new(&[0x80; 11]).varint().is_err(), "a varint past 64 bits");
        assert!(Reader::new(&[2]).bool().is_err());
        assert!(Reader::new(&[3, 0xFF, 0xFE]).opt_str().is_err(), "not UTF-8");
        assert!(Reader::new(&[9, b'a']).opt_str().is_err(), "truncated");
        assert!(Reader::new(&[0]).str().is_err(), "a string required");
        assert!(Reader::new(&[2]).time().is_err());
        let mut nanos_out_of_range = vec![1];
        nanos_out_of_range.extend_from_slice(&0i64.to_le_bytes());
        nanos_out_of_range.extend_from_slice(&2_000_000_000i32.to_le_bytes());
        assert!(Reader::new(&nanos_out_of_range).time().is_err());
        let mut big = Vec::new();
        put_varint(&mut big, u64::from(u32::MAX) + 1);
        assert!(Reader::new(&big).u32().is_err());
        assert!(Reader::new(&[0]).finish().is_err());
    }
}
