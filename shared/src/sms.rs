//! How a text message is counted and billed: GSM-7 or UCS-2, and how many segments.
//!
//! One definition for the daemon (the template rules, `engine::templates`) and the dashboard
//! (Compose's live count), so the count the agent sees while typing is the count the rules
//! apply.
//!
//! - GSM-7 (the GSM 03.38 alphabet: plain Latin text, with é, ü, ñ, £, €...): 160 septets in
//!   one segment, 153 in each when the text is split; the extension characters
//!   `€ [ ] { } ^ ~ | \` and form feed take two (an escape, then the character).
//! - UCS-2, as soon as one character is outside GSM-7 (emoji, á, ï, CJK...): 70 UTF-16 units in
//!   one segment, 67 in each when split; a character outside the Basic Multilingual Plane (most
//!   emoji) takes two.
//!
//! A split text's segments never cut a character in two: an escape and its character, or the
//! two halves of a surrogate pair, go in the same segment, as carriers' encoders do. So a
//! segment boundary may leave one unit unused.

use std::fmt;

/// GSM 03.38 basic character set: each costs one septet.
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
                         ¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// GSM 03.38 extension table: each costs two septets (an escape, then the character).
const GSM_EXTENSION: &str = "\u{0C}^{}\\[~]|€";

/// How a text travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// The GSM 03.38 alphabet: 160 septets in one segment, 153 a segment when split.
    Gsm7,
    /// UTF-16, for any text with a character outside GSM-7: 70 units in one segment, 67 a
    /// segment when split.
    Ucs2,
}

impl Encoding {
    /// Units that fit in a text of one segment.
    pub fn single(self) -> usize {
        match self {
            Encoding::Gsm7 => 160,
            Encoding::Ucs2 => 70,
        }
    }

    /// Units that fit in each segment of a split text (the rest carries the header that
    /// joins the parts).
    pub fn per_part(self) -> usize {
        match self {
            Encoding::Gsm7 => 153,
            Encoding::Ucs2 => 67,
        }
    }

    /// `GSM-7` or `UCS-2`.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Gsm7 => "GSM-7",
            Encoding::Ucs2 => "UCS-2",
        }
    }

    /// The units one character costs in this encoding.
    fn units(self, c: char) -> usize {
        match self {
            Encoding::Gsm7 if GSM_EXTENSION.contains(c) => 2,
            Encoding::Gsm7 => 1,
            Encoding::Ucs2 => c.len_utf16(),
        }
    }
}

fn is_gsm(c: char) -> bool {
    GSM_BASIC.contains(c) || GSM_EXTENSION.contains(c)
}

/// The encoding a carrier will use for `text`.
pub fn encoding(text: &str) -> Encoding {
    if text.chars().all(is_gsm) { Encoding::Gsm7 } else { Encoding::Ucs2 }
}

/// The first character of `text` outside GSM-7, which makes the whole text UCS-2.
pub fn first_non_gsm(text: &str) -> Option<char> {
    text.chars().find(|&c| !is_gsm(c))
}

/// A text message as a carrier counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmsCount {
    pub encoding: Encoding,
    /// Septets (GSM-7) or UTF-16 units (UCS-2).
    pub units: usize,
    /// Segments billed, at least one.
    pub segments: u32,
    /// Units the billed segments hold: 160 or 70 for one segment, else 153 or 67 each.
    pub capacity: usize,
    /// The character that made the text UCS-2, if one did.
    pub first_non_gsm: Option<char>,
}

impl SmsCount {
    /// Units left before the text costs another segment.
    pub fn room(&self) -> usize {
        self.capacity.saturating_sub(self.units)
    }
}

impl fmt::Display for SmsCount {
    /// `142/160 · 1 segment`, `200/306 · 2 segments`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = if self.segments == 1 { "" } else { "s" };
        write!(f, "{}/{} · {} segment{plural}", self.units, self.capacity, self.segments)
    }
}

/// Counts `text`: its encoding, units and segments.
pub fn count(text: &str) -> SmsCount {
    let first_non_gsm = first_non_gsm(text);
    let encoding = if first_non_gsm.is_some() { Encoding::Ucs2 } else { Encoding::Gsm7 };
    let units: usize = text.chars().map(|c| encoding.units(c)).sum();
    let (segments, capacity) = if units <= encoding.single() {
        (1, encoding.single())
    } else {
        // Filled part by part; a character that does not fit whole starts the next part.
        let per_part = encoding.per_part();
        let (mut parts, mut used) = (1usize, 0usize);
        for c in text.chars() {
            let n = encoding.units(c);
            if used + n > per_part {
                parts += 1;
                used = 0;
            }
            used += n;
        }
        (parts, parts * per_part)
    };
    SmsCount {
        encoding,
        units,
        segments: u32::try_from(segments).unwrap_or(u32::MAX),
        capacity,
        first_non_gsm,
    }
}

/// How many segments `text` costs (at least one).
pub fn segments(text: &str) -> u32 {
    count(text).segments
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn gsm7_and_ucs2_segments() {
        assert_eq!(encoding("Hi Jordan, when's a good time?"), Encoding::Gsm7);
        assert_eq!(segments(&"a".repeat(160)), 1);
        assert_eq!(segments(&"a".repeat(161)), 2);
        assert_eq!(segments(&"a".repeat(306)), 2);
        assert_eq!(segments(&"a".repeat(307)), 3);
        // An extension character takes two septets.
        assert_eq!(segments(&format!("{}€", "a".repeat(158))), 1);
        assert_eq!(segments(&format!("{}€", "a".repeat(159))), 2);
        // One emoji makes the whole text UCS-2: 70 a segment, 67 when split.
        let ucs = format!("{}😀", "a".repeat(68));
        assert_eq!(encoding(&ucs), Encoding::Ucs2);
        assert_eq!(first_non_gsm(&ucs), Some('😀'));
        assert_eq!(segments(&ucs), 1); // 68 + 2 UTF-16 units
        assert_eq!(segments(&format!("{}😀", "a".repeat(69))), 2);
        assert_eq!(segments(&"ü".repeat(160)), 1); // ü is GSM-7
        assert_eq!(segments(&"ż".repeat(70)), 1);
        assert_eq!(segments(&"ż".repeat(71)), 2);
        assert_eq!(segments(&"ż".repeat(135)), 3);
        assert_eq!(segments(""), 1);
    }

    #[test]
    fn a_character_is_never_cut_between_segments() {
        // 152 septets, then € (an escape and its character) would straddle the first part's
        // end at 153: it goes whole into the second part.
        let text = format!("{}€{}", "a".repeat(152), "a".repeat(152));
        let c = count(&text);
        assert_eq!((c.units, c.segments), (306, 3), "306 septets, but 153 + 153 cannot hold them");
        // The same in UCS-2 with a surrogate pair at the 67-unit boundary.
        let text = format!("ż{}😀{}", "a".repeat(65), "a".repeat(66));
        let c = count(&text);
        assert_eq!((c.units, c.segments), (134, 3));
    }

    #[test]
    fn the_count_reads_as_the_dashboard_shows_it() {
        let c = count(&"a".repeat(142));
        assert_eq!(c.to_string(), "142/160 · 1 segment");
        assert_eq!(c.room(), 18);
        let c = count(&"a".repeat(200));
        assert_eq!(c.to_string(), "200/306 · 2 segments");
        let c = count("Olá");
        assert_eq!((c.encoding, c.first_non_gsm), (Encoding::Ucs2, Some('á')));
        assert_eq!(c.to_string(), "3/70 · 1 segment");
        assert_eq!(count("").to_string(), "0/160 · 1 segment");
    }

    /// GSM 03.38 as its table lists it, by septet code (0x1B is the escape), written out
    /// apart from the strings above so a slip in either shows.
    const TABLE: [char; 128] = [
        '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å', //
        'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', '\u{1B}', 'Æ', 'æ', 'ß', 'É', //
        ' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/', //
        '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?', //
        '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', //
        'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§', //
        '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', //
        'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à', //
    ];
    /// The extension table: (code after the escape, character).
    const EXTENSION: [(u16, char); 10] = [
        (0x0A, '\u{0C}'),
        (0x14, '^'),
        (0x28, '{'),
        (0x29, '}'),
        (0x2F, '\\'),
        (0x3C, '['),
        (0x3D, '~'),
        (0x3E, ']'),
        (0x40, '|'),
        (0x65, '€'),
    ];
    const ESCAPE: u16 = 0x1B;

    /// The reference: the text encoded into the units a carrier sends (septet codes with
    /// escapes, or UTF-16), then cut into parts that never end on an escape or a high
    /// surrogate.
    fn reference(text: &str) -> (usize, u32) {
        let septets: Option<Vec<u16>> = text
            .chars()
            .map(|c| {
                if c == '\u{1B}' {
                    return None;
                }
                if let Some(code) = TABLE.iter().position(|&t| t == c) {
                    return Some(vec![code as u16]);
                }
                EXTENSION.iter().find(|(_, e)| *e == c).map(|(code, _)| vec![ESCAPE, *code])
            })
            .collect::<Option<Vec<_>>>()
            .map(|v| v.concat());
        // (units, one segment, each part, a unit no part may end on)
        type Encoded = (Vec<u16>, usize, usize, fn(u16) -> bool);
        let (units, single, per_part, ends_badly): Encoded = match septets {
            Some(s) => (s, 160, 153, |u| u == ESCAPE),
            None => (text.encode_utf16().collect(), 70, 67, |u| (0xD800..0xDC00).contains(&u)),
        };
        if units.len() <= single {
            return (units.len(), 1);
        }
        let (mut rest, mut parts) = (&units[..], 0);
        while !rest.is_empty() {
            let mut take = per_part.min(rest.len());
            if take < rest.len() && ends_badly(rest[take - 1]) {
                take -= 1;
            }
            rest = &rest[take..];
            parts += 1;
        }
        (units.len(), parts)
    }

    fn any_char() -> impl Strategy<Value = char> {
        prop_oneof![
            6 => proptest::char::range('a', 'z'),
            2 => proptest::sample::select(vec![' ', '.', ',', '?', '\n', '1', 'A', 'Z']),
            1 => proptest::sample::select(EXTENSION.iter().map(|(_, c)| *c).collect::<Vec<_>>()),
            1 => proptest::sample::select(vec!['é', 'ü', 'ñ', 'Ç', 'Δ', '£', '¿', 'à']),
            1 => proptest::sample::select(vec!['á', 'ï', 'ż', '’', '“', '—', '中', '😀', '🏡', '\u{1B}']),
            1 => any::<char>(),
        ]
    }

    fn mostly_gsm() -> impl Strategy<Value = char> {
        prop_oneof![
            8 => proptest::char::range('a', 'z'),
            1 => proptest::sample::select(EXTENSION.iter().map(|(_, c)| *c).collect::<Vec<_>>()),
            1 => proptest::sample::select(TABLE.iter().copied().filter(|c| *c != '\u{1B}').collect::<Vec<_>>()),
        ]
    }

    proptest! {
        #[test]
        fn the_count_matches_the_reference_on_any_text(chars in prop::collection::vec(any_char(), 0..420)) {
            let text: String = chars.into_iter().collect();
            let c = count(&text);
            prop_assert_eq!((c.units, c.segments), reference(&text), "{:?}", text);
            prop_assert!(c.units <= c.capacity);
            prop_assert_eq!(c.encoding == Encoding::Gsm7, c.first_non_gsm.is_none());
        }

        #[test]
        fn the_count_matches_the_reference_on_gsm_text(chars in prop::collection::vec(mostly_gsm(), 100..480)) {
            let text: String = chars.into_iter().collect();
            let c = count(&text);
            prop_assert_eq!(c.encoding, Encoding::Gsm7);
            prop_assert_eq!((c.units, c.segments), reference(&text), "{:?}", text);
        }
    }

    #[test]
    fn the_table_and_the_alphabet_agree() {
        for c in TABLE.iter().filter(|c| **c != '\u{1B}') {
            assert!(GSM_BASIC.contains(*c), "{c:?}");
        }
        assert_eq!(GSM_BASIC.chars().count(), 127);
        for (_, c) in EXTENSION {
            assert!(GSM_EXTENSION.contains(c), "{c:?}");
        }
        assert_eq!(GSM_EXTENSION.chars().count(), EXTENSION.len());
    }
}
