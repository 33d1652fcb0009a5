//! The text-message rules of business-rules.md §1e, as pure string functions: how a text is
//! counted (GSM-7 or UCS-2, segments), the carrier spam guard, and the truncation that keeps
//! the closing sentence.

// The counting is shared with the dashboard's Compose, so the count the agent sees while
// typing is the one these rules apply.
pub use leadline_shared::sms::{Encoding, encoding, first_non_gsm, segments};

/// Length as the lead sees it: characters (Unicode scalar values). This is what
/// `sms_max_chars` limits.
pub fn char_len(text: &str) -> usize {
    text.chars().count()
}

/// Typographic characters that have a plain GSM-7 twin. Phones and word processors put curly
/// quotes in ("don’t"), and one of them would turn a one-segment text into a three-segment
/// UCS-2 one; carriers' "smart encoding" does the same swap.
const PLAIN_TWINS: &[(char, &str)] = &[
    ('\u{2018}', "'"),
    ('\u{2019}', "'"),
    ('\u{201A}', "'"),
    ('\u{2032}', "'"),
    ('\u{201C}', "\""),
    ('\u{201D}', "\""),
    ('\u{201E}', "\""),
    ('\u{2033}', "\""),
    ('\u{2013}', "-"),
    ('\u{2014}', "-"),
    ('\u{2012}', "-"),
    ('\u{2010}', "-"),
    ('\u{2011}', "-"),
    ('\u{2026}', "..."),
];

/// A text as it will be sent: typographic characters swapped for their GSM-7 twins, and every
/// run of white space (template line breaks included) made one space. Returns the text and
/// whether anything was swapped.
pub fn plain(text: &str) -> (String, bool) {
    let mut out = String::with_capacity(text.len());
    let mut swapped = false;
    let mut pending_space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        match PLAIN_TWINS.iter().find(|(from, _)| *from == c) {
            Some((_, to)) => {
                out.push_str(to);
                swapped = true;
            }
            None => out.push(c),
        }
    }
    (out, swapped)
}

/// All-caps words and phrases that carriers' spam filters look for (§1e: FREE, WIN, URGENT,
/// ACT NOW, GUARANTEED, ...). They are lowercased when written in capitals.
const TRIGGERS: &[&str] = &[
    "ACT NOW",
    "APPLY NOW",
    "BUY NOW",
    "CALL NOW",
    "CASH",
    "CLICK HERE",
    "CONGRATULATIONS",
    "DEAL",
    "EXCLUSIVE",
    "FREE",
    "GUARANTEE",
    "GUARANTEED",
    "LIMITED TIME",
    "NO OBLIGATION",
    "OFFER",
    "PRIZE",
    "RISK FREE",
    "URGENT",
    "WIN",
    "WINNER",
    "WINNING",
    "WON",
];

/// Capitalised words that keep their capitals when a shouting text is toned down: the
/// opt-in/opt-out keywords a lead must be able to read as such, and common real-estate
/// abbreviations.
const KEEP_CAPS: &[&str] = &["STOP", "START", "HELP", "MLS", "HOA", "FHA", "VA", "USDA", "ADU"];

/// Share of capitals (of all letters) above which a text counts as shouting (§1e: 30 %).
const SHOUT_RATIO_PERCENT: usize = 30;
/// Short texts ("OK") are not judged on their capitals.
const SHOUT_MIN_LETTERS: usize = 12;

/// What the spam guard changed, for the preview's notes.
#[derive(Debug, Default, PartialEq)]
pub struct Guarded {
    pub text: String,
    /// The trigger words lowercased.
    pub lowercased: Vec<String>,
    /// The share of capitals, in percent, when the text was toned down to sentence case.
    pub sentence_cased: Option<usize>,
}

/// The carrier spam guard (§1e). All-caps trigger words are lowercased; then, if more than
/// 30 % of the letters are capitals, every all-caps word is lowercased and each sentence starts
/// with a capital. Mixed-case words ("McKenzie") and the words of `keep` (the business and
/// agent names, as configured) are left alone, so proper nouns survive.
pub fn spam_guard(text: &str, keep: &[&str]) -> Guarded {
    let mut out = text.to_owned();
    let mut lowercased = Vec::new();
    for phrase in TRIGGERS {
        let mut from = 0;
        while let Some(found) = out.get(from..).and_then(|rest| rest.find(phrase)) {
            let start = from + found;
            let end = start + phrase.len();
            if at_word_bounds(&out, start, end) {
                // The phrase is ASCII, so its lowercase has the same length.
                out.replace_range(start..end, &phrase.to_ascii_lowercase());
                if !lowercased.iter().any(|w| w == phrase) {
                    lowercased.push((*phrase).to_owned());
                }
            }
            from = end;
        }
    }

    let letters = out.chars().filter(|c| c.is_alphabetic()).count();
    let capitals = out.chars().filter(|c| c.is_uppercase()).count();
    let mut sentence_cased = None;
    if letters >= SHOUT_MIN_LETTERS && capitals * 100 > letters * SHOUT_RATIO_PERCENT {
        sentence_cased = Some(capitals * 100 / letters);
        out = sentence_case(&out, keep);
    }
    Guarded { text: out, lowercased, sentence_cased }
}

fn at_word_bounds(text: &str, start: usize, end: usize) -> bool {
    let before = text.get(..start).and_then(|s| s.chars().next_back());
    let after = text.get(end..).and_then(|s| s.chars().next());
    !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
}

/// Lowercases every all-caps word of two letters or more (except `keep` words and
/// [`KEEP_CAPS`]), then capitalises the first letter of each sentence and the pronoun "I".
fn sentence_case(text: &str, keep: &[&str]) -> String {
    let kept = |word: &str| {
        KEEP_CAPS.contains(&word) || keep.iter().any(|k| k.split_whitespace().any(|kw| kw == word))
    };
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let mut sentence_start = true;
    let flush = |word: &mut String, out: &mut String, sentence_start: &mut bool| {
        if word.is_empty() {
            return;
        }
        // "A" too ("WANT A TOUR?"), but not "I".
        let shouting = (word.chars().filter(|c| c.is_alphabetic()).count() >= 2 || word == "A")
            && !word.chars().any(char::is_lowercase)
            && !kept(word);
        let mut w = if shouting { word.to_lowercase() } else { std::mem::take(word) };
        if w == "i" {
            w = "I".to_owned();
        }
        if *sentence_start {
            let mut cs = w.chars();
            if let Some(first) = cs.next() {
                w = first.to_uppercase().chain(cs).collect();
            }
            *sentence_start = false;
        }
        out.push_str(&w);
        word.clear();
    };
    let mut prev: Option<char> = None;
    for c in text.chars() {
        if c.is_alphanumeric() || (c == '\'' && !word.is_empty()) {
            word.push(c);
        } else {
            flush(&mut word, &mut out, &mut sentence_start);
            if c.is_whitespace() && prev.is_some_and(|p| matches!(p, '.' | '!' | '?')) {
                sentence_start = true;
            }
            out.push(c);
        }
        prev = Some(c);
    }
    flush(&mut word, &mut out, &mut sentence_start);
    out
}

/// Whether a text already tells the lead how to opt out: the keyword STOP, in capitals, as a
/// word ("Reply STOP to opt out", "Text STOP to end").
pub fn has_optout_language(text: &str) -> bool {
    text.match_indices("STOP").any(|(i, m)| at_word_bounds(text, i, i + m.len()))
}

/// Link shorteners that carriers filter (§1e flags them).
const SHORTENERS: &[&str] = &[
    "bit.ly/",
    "tinyurl.com/",
    "goo.gl/",
    "ow.ly/",
    "t.co/",
    "is.gd/",
    "buff.ly/",
    "rebrand.ly/",
    "cutt.ly/",
];

/// The first link shortener in `text`, if any.
pub fn shortener(text: &str) -> Option<&'static str> {
    let lower = text.to_lowercase();
    SHORTENERS.iter().copied().find(|s| lower.contains(s))
}

/// Where the closing sentence (the question or call to action) starts, as a byte index. A
/// sentence ends at `.`, `!` or `?` (closing quotes or brackets may follow) before white space;
/// a text with one sentence is all closing sentence.
pub fn closing_start(text: &str) -> usize {
    let mut start = 0;
    let mut after_mark = false;
    let mut in_gap = false;
    for (i, c) in text.trim_end().char_indices() {
        if in_gap {
            if c.is_whitespace() {
                continue;
            }
            start = i;
            in_gap = false;
        }
        if matches!(c, '.' | '!' | '?') {
            after_mark = true;
        } else if after_mark && matches!(c, '"' | '\'' | ')' | ']') {
            // `."` or `?)` still ends the sentence.
        } else if after_mark && c.is_whitespace() {
            in_gap = true;
            after_mark = false;
        } else {
            after_mark = false;
        }
    }
    start
}

/// What the footer does in [`fit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Footer {
    /// Never added (the text already carries opt-out language, or the template says so).
    Never,
    /// Added when the whole text fits with it; left out rather than cut the text.
    IfFits,
    /// Always added; the text is cut to make room (the first text to a lead).
    Always,
}

/// A text cut to its limit.
#[derive(Debug, PartialEq)]
pub struct Fitted {
    pub text: String,
    pub truncated: bool,
    pub footer: bool,
    /// Characters of the body left out by the cut.
    pub removed: usize,
}

/// The separator between a body and the opt-out footer: a space after a finished sentence,
/// else a full stop first so the footer reads as its own sentence.
fn footer_join(body: &str) -> &'static str {
    match body.trim_end().chars().next_back() {
        Some('.' | '!' | '?' | '"' | ')') | None => " ",
        _ => ". ",
    }
}

/// The marker between the kept start of a text and its closing sentence (§1e).
pub const ELLIPSIS: &str = "...";

/// Fits `prefix + body (+ footer)` into `limit` characters. When the whole does not fit, the
/// closing sentence of `body` is kept whole and the space before it is filled from the start
/// of the body, cut at a word, with "..." between (§1e). `Err(needed)` when even the prefix,
/// the closing sentence and a required footer take more than `limit`.
pub fn fit(prefix: &str, body: &str, footer: &str, mode: Footer, limit: usize) -> Result<Fitted, usize> {
    let body = body.trim();
    let whole = format!("{prefix}{body}");
    if mode != Footer::Never {
        let with = format!("{whole}{}{footer}", footer_join(body));
        if char_len(&with) <= limit {
            return Ok(Fitted { text: with, truncated: false, footer: true, removed: 0 });
        }
    }
    if mode != Footer::Always && char_len(&whole) <= limit {
        return Ok(Fitted { text: whole, truncated: false, footer: false, removed: 0 });
    }

    let split = closing_start(body);
    let (head, closing) = body.split_at(split);
    let head = head.trim_end();
    let tail = match mode {
        Footer::Always => format!("{}{footer}", footer_join(closing)),
        Footer::Never | Footer::IfFits => String::new(),
    };
    let fixed = char_len(prefix) + char_len(closing) + char_len(&tail);
    if fixed > limit {
        return Err(fixed);
    }
    // Room for the start of the body, its "..." and the space before the closing sentence.
    let room = (limit - fixed).saturating_sub(ELLIPSIS.len() + 1);
    let kept = cut_at_word(head, room);
    let text = if kept.is_empty() {
        format!("{prefix}{closing}{tail}")
    } else {
        format!("{prefix}{kept}{ELLIPSIS} {closing}{tail}")
    };
    let removed = char_len(head) - char_len(kept);
    Ok(Fitted { text, truncated: true, footer: mode == Footer::Always, removed })
}

/// The longest start of `text` of at most `room` characters that ends at a word, without
/// trailing punctuation (the "..." follows it). When a clause or sentence ends in the second
/// half of that start, the cut goes back to it: "Hey Jordan..." reads better than
/// "Hey Jordan, this...".
fn cut_at_word(text: &str, room: usize) -> &str {
    let (taken, next) = match text.char_indices().nth(room) {
        Some((end, c)) => (&text[..end], Some(c)),
        None => (text, None),
    };
    let cut = if next.is_none_or(char::is_whitespace) {
        taken
    } else {
        match taken.rfind(char::is_whitespace) {
            Some(space) => &taken[..space],
            None => "",
        }
    };
    let cut = trim_punctuation(cut);
    let clause = cut
        .char_indices()
        .filter(|&(i, c)| {
            matches!(c, ',' | ';' | ':' | '.' | '!' | '?')
                && cut[i + c.len_utf8()..].starts_with(char::is_whitespace)
        })
        .map(|(i, _)| i)
        .next_back();
    match clause {
        Some(i) if i * 2 >= cut.len() => trim_punctuation(&cut[..i]),
        _ => cut,
    }
}

fn trim_punctuation(text: &str) -> &str {
    text.trim_end_matches(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':' | '.' | '!' | '?' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_swaps_typography_and_collapses_space() {
        assert_eq!(
            plain("Don\u{2019}t  wait\u{2026}\n  \u{201C}ok\u{201D}"),
            ("Don't wait... \"ok\"".to_owned(), true)
        );
        assert_eq!(plain("  Hi\nthere "), ("Hi there".to_owned(), false));
    }

    #[test]
    fn spam_guard_lowercases_triggers_in_capitals_only() {
        let g = spam_guard("Get a FREE home valuation, ACT NOW! Free coffee. FREEDOM.", &[]);
        assert_eq!(g.text, "Get a free home valuation, act now! Free coffee. FREEDOM.");
        assert_eq!(g.lowercased, vec!["ACT NOW".to_owned(), "FREE".to_owned()]);
        assert_eq!(g.sentence_cased, None);
    }

    #[test]
    fn spam_guard_tones_down_shouting_but_keeps_names_and_keywords() {
        let g = spam_guard(
            "HI THERE, I HAVE NEW HOMES FOR YOU AT ABC Realty. CALL ME? Reply STOP to opt out",
            &["ABC Realty"],
        );
        assert_eq!(
            g.text,
            "Hi there, I have new homes for you at ABC Realty. Call me? Reply STOP to opt out"
        );
        assert!(g.sentence_cased.is_some_and(|p| p > 30));
        // 30 % or less is left as written.
        let calm = spam_guard("Hi Jordan, this is Sarah with Summit Realty. Is NOW a good time?", &[]);
        assert_eq!(calm.text, "Hi Jordan, this is Sarah with Summit Realty. Is NOW a good time?");
        // Mixed-case names survive the toning down.
        let g = spam_guard("HELLO McKENZIE, ARE YOU STILL LOOKING?", &[]);
        assert_eq!(g.text, "Hello McKENZIE, are you still looking?");
    }

    #[test]
    fn closing_sentence() {
        let t = "Hi Jordan! Just checking in. Are you still looking?";
        assert_eq!(&t[closing_start(t)..], "Are you still looking?");
        let t = "He said \"great.\" Want to see it?";
        assert_eq!(&t[closing_start(t)..], "Want to see it?");
        let t = "Call 555.123.4567 today";
        assert_eq!(closing_start(t), 0);
        let t = "One. Two!  ";
        assert_eq!(&t[closing_start(t)..], "Two!  ");
    }

    #[test]
    fn fit_keeps_closing_sentence_and_fills_from_the_start() {
        let body = "Hi Jordan, I found three homes near the lake that match your budget and the schools you asked about. Want to see them Saturday?";
        let f = fit("", body, "Reply STOP to opt out", Footer::IfFits, 80).expect("fits");
        assert!(f.truncated && !f.footer);
        assert_eq!(f.text, "Hi Jordan, I found three homes near the lake that... Want to see them Saturday?");
        assert!(char_len(&f.text) <= 80);

        let f = fit("", body, "Reply STOP to opt out", Footer::Always, 80).expect("fits");
        assert_eq!(f.text, "Hi Jordan, I found three... Want to see them Saturday? Reply STOP to opt out");
        assert!(char_len(&f.text) <= 80);

        // The footer when it fits; without it rather than cut.
        let f = fit("", "Still looking?", "Reply STOP to opt out", Footer::IfFits, 40).expect("fits");
        assert_eq!(f.text, "Still looking? Reply STOP to opt out");
        let f =
            fit("", "Hi Jordan. Still looking?", "Reply STOP to opt out", Footer::IfFits, 40).expect("fits");
        assert_eq!(f.text, "Hi Jordan. Still looking?");
        assert!(!f.truncated && !f.footer);
        let f = fit("", "Still looking", "Reply STOP to opt out", Footer::Never, 40).expect("fits");
        assert_eq!(f.text, "Still looking");

        // A closing sentence that cannot fit is an error, never a broken question.
        assert_eq!(fit("", "Hi. Are you still looking?", "", Footer::Never, 10), Err(22));
    }

    #[test]
    fn fit_is_exact_at_the_limit() {
        let body = "Hi Jordan, just checking in. Still looking?";
        let n = char_len(body);
        assert_eq!(fit("", body, "X", Footer::IfFits, n).map(|f| f.text), Ok(body.to_owned()));
        let f = fit("", body, "X", Footer::IfFits, n - 1).expect("fits");
        assert!(f.truncated);
        assert_eq!(f.text, "Hi Jordan, just checking... Still looking?");
        // A clause that ends in the second half of the kept start is where the cut goes.
        let f =
            fit("", "Hey Jordan, this is my last check-in for now. Still interested?", "", Footer::Never, 40)
                .expect("fits");
        assert_eq!(f.text, "Hey Jordan... Still interested?");
        // A cut inside a word goes back to the word's start.
        let f = fit("", "Wonderful afternoon. Call?", "", Footer::Never, 15).expect("fits");
        assert_eq!(f.text, "Call?");
    }
}
