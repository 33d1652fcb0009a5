//! Reading opt-outs and opt-ins in a contact's replies, in English and Spanish.
//!
//! The word lists are data (`config/compliance/opt-words.toml`, with their sources); this file
//! only normalises text and matches phrases. A reply is cut into clauses at sentence
//! punctuation and reduced to plain lowercase words without accents or apostrophes, so
//! "¡NO MÁS mensajes!" and "no mas mensajes" read the same.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::{TableError, line_of};

const OPT_WORDS_FILE: &str = "config/compliance/opt-words.toml";
const OPT_WORDS_TOML: &str = include_str!("../../../../config/compliance/opt-words.toml");

/// The language of the phrase that matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    English,
    Spanish,
}

/// An opt-out read in a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptOut {
    /// The words that matched, normalised ("stop texting", "no mas mensajes").
    pub phrase: String,
    pub language: Language,
}

/// One word of a phrase: exact, or a prefix (`text*`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Word {
    text: String,
    prefix: bool,
}

impl Word {
    fn matches(&self, token: &str) -> bool {
        if self.prefix { token.starts_with(&self.text) } else { token == self.text }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Phrase {
    words: Vec<Word>,
    language: Language,
}

/// Where a phrase must stand to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// The whole message, with courtesy words.
    Alone,
    /// A clause of its own, with courtesy words.
    Clause,
    /// Anywhere, unless negated right before.
    Anywhere,
}

/// The parsed word lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptWords {
    opt_out: Vec<(Mode, Phrase)>,
    opt_in: Vec<Phrase>,
    courtesy: Vec<Vec<Word>>,
    negation: Vec<Vec<Word>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWords {
    opt_out: RawOptOut,
    opt_in: RawLangs,
    courtesy: RawList,
    negation: RawList,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOptOut {
    en: RawModes,
    es: RawModes,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModes {
    #[serde(default)]
    alone: Vec<Spanned<String>>,
    #[serde(default)]
    clause: Vec<Spanned<String>>,
    #[serde(default)]
    anywhere: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLangs {
    en: Vec<Spanned<String>>,
    es: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawList {
    words: Vec<Spanned<String>>,
}

impl OptWords {
    /// The lists compiled into the binary, parsed on first use.
    pub fn embedded() -> Result<&'static OptWords, TableError> {
        static WORDS: OnceLock<Result<OptWords, TableError>> = OnceLock::new();
        WORDS.get_or_init(|| OptWords::parse(OPT_WORDS_TOML)).as_ref().map_err(Clone::clone)
    }

    /// Parses word lists in the format of `opt-words.toml`.
    pub fn parse(text: &str) -> Result<OptWords, TableError> {
        let invalid = |offset: usize, message: String| TableError::Invalid {
            file: OPT_WORDS_FILE,
            line: line_of(text, offset),
            message,
        };
        let raw: RawWords = toml::from_str(text).map_err(|e| {
            invalid(e.span().map_or(0, |s| s.start), e.message().trim_end_matches('.').replace('\n', " "))
        })?;
        let phrase = |s: &Spanned<String>| -> Result<Vec<Word>, TableError> {
            let raw = s.get_ref();
            let (body, prefix) = match raw.strip_suffix('*') {
                Some(body) => (body, true),
                None => (raw.as_str(), false),
            };
            let clauses = normalise(body);
            match clauses.as_slice() {
                [words] if !words.is_empty() && !body.contains('*') => {
                    let n = words.len();
                    Ok(words
                        .iter()
                        .enumerate()
                        .map(|(i, w)| Word { text: w.clone(), prefix: prefix && i + 1 == n })
                        .collect())
                }
                _ => Err(invalid(
                    s.span().start,
                    format!(
                        "{raw:?} is not a phrase: use words, with at most one * at the very end, and no sentence punctuation"
                    ),
                )),
            }
        };
        let mut opt_out = Vec::new();
        for (language, modes) in [(Language::English, &raw.opt_out.en), (Language::Spanish, &raw.opt_out.es)]
        {
            for (mode, list) in [
                (Mode::Alone, &modes.alone),
                (Mode::Clause, &modes.clause),
                (Mode::Anywhere, &modes.anywhere),
            ] {
                for s in list {
                    opt_out.push((mode, Phrase { words: phrase(s)?, language }));
                }
            }
        }
        let mut opt_in = Vec::new();
        for (language, list) in [(Language::English, &raw.opt_in.en), (Language::Spanish, &raw.opt_in.es)] {
            for s in list {
                opt_in.push(Phrase { words: phrase(s)?, language });
            }
        }
        let courtesy = raw.courtesy.words.iter().map(phrase).collect::<Result<Vec<_>, _>>()?;
        let negation = raw.negation.words.iter().map(phrase).collect::<Result<Vec<_>, _>>()?;
        // Longest first, so "stop all" is tried before "stop".
        opt_out.sort_by_key(|(_, p)| std::cmp::Reverse(p.words.len()));
        opt_in.sort_by_key(|p| std::cmp::Reverse(p.words.len()));
        Ok(OptWords { opt_out, opt_in, courtesy, negation })
    }

    /// The opt-out in `text`, if any: see [`opt_out`].
    pub fn opt_out(&self, text: &str) -> Option<OptOut> {
        let clauses = normalise(text);
        let found = |phrase: &Phrase, at: &[String]| OptOut {
            phrase: at[..phrase.words.len()].join(" "),
            language: phrase.language,
        };
        let whole: Vec<String> = clauses.concat();
        // Alone: the whole message is opt-out phrases and courtesy words.
        let alone_or_clause: Vec<&Phrase> = self
            .opt_out
            .iter()
            .filter(|(m, _)| matches!(m, Mode::Alone | Mode::Clause))
            .map(|(_, p)| p)
            .collect();
        if let Some((phrase, at)) = self.only_phrases(&whole, &alone_or_clause) {
            return Some(found(phrase, &whole[at..]));
        }
        // Clause: some clause is clause phrases and courtesy words.
        let clause: Vec<&Phrase> =
            self.opt_out.iter().filter(|(m, _)| *m == Mode::Clause).map(|(_, p)| p).collect();
        for words in &clauses {
            if let Some((phrase, at)) = self.only_phrases(words, &clause) {
                return Some(found(phrase, &words[at..]));
            }
        }
        // Anywhere in a clause, unless a negation stands right before it.
        for words in &clauses {
            for i in 0..words.len() {
                for (mode, phrase) in &self.opt_out {
                    if *mode == Mode::Anywhere
                        && starts_with(&words[i..], &phrase.words)
                        && !self.negated(&words[..i])
                    {
                        return Some(found(phrase, &words[i..]));
                    }
                }
            }
        }
        None
    }

    /// Whether `text` is an opt-in: see [`opt_in`].
    pub fn opt_in(&self, text: &str) -> bool {
        if self.opt_out(text).is_some() {
            return false;
        }
        let whole: Vec<String> = normalise(text).concat();
        let phrases: Vec<&Phrase> = self.opt_in.iter().collect();
        self.only_phrases(&whole, &phrases).is_some()
    }

    /// If `words` is made of `phrases` and courtesy words only, with at least one phrase: the
    /// first phrase and where it starts. Phrases are tried before courtesy words at each
    /// place, longest first.
    fn only_phrases<'p>(&self, words: &[String], phrases: &[&'p Phrase]) -> Option<(&'p Phrase, usize)> {
        let mut first = None;
        let mut i = 0;
        'words: while i < words.len() {
            for p in phrases {
                if starts_with(&words[i..], &p.words) {
                    first = first.or(Some((*p, i)));
                    i += p.words.len();
                    continue 'words;
                }
            }
            let courtesy =
                self.courtesy.iter().filter(|c| starts_with(&words[i..], c)).map(Vec::len).max()?;
            i += courtesy;
        }
        first
    }

    /// Whether the words before a phrase end with a negation.
    fn negated(&self, before: &[String]) -> bool {
        self.negation
            .iter()
            .any(|n| before.len() >= n.len() && starts_with(&before[before.len() - n.len()..], n))
    }
}

fn starts_with(words: &[String], phrase: &[Word]) -> bool {
    words.len() >= phrase.len() && phrase.iter().zip(words).all(|(p, w)| p.matches(w))
}

/// Folds a lowercase letter to its unaccented form (Spanish and the common Latin accents).
fn fold(c: char) -> char {
    match c {
        'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' => 'a',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'í' | 'ì' | 'î' | 'ï' => 'i',
        'ó' | 'ò' | 'ô' | 'ö' | 'õ' => 'o',
        'ú' | 'ù' | 'û' | 'ü' => 'u',
        'ñ' => 'n',
        'ç' => 'c',
        'ý' | 'ÿ' => 'y',
        other => other,
    }
}

/// Splits text into clauses of plain words: lowercase, unaccented, apostrophes dropped
/// ("don't" is "dont"), a hyphen inside a word a space ("opt-out" is "opt out"), sentence
/// punctuation and a free-standing dash ending a clause, other symbols and emoji a space.
fn normalise(text: &str) -> Vec<Vec<String>> {
    let chars: Vec<char> = text.chars().collect();
    let mut clauses = vec![Vec::new()];
    let mut word = String::new();
    let end_word = |word: &mut String, clauses: &mut Vec<Vec<String>>| {
        if !word.is_empty()
            && let Some(last) = clauses.last_mut()
        {
            last.push(std::mem::take(word));
        }
    };
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '\'' | '’' | '‘' | 'ʼ' | '`' | '´' => {}
            '.' | ',' | '!' | '?' | ';' | ':' | '¡' | '¿' | '\n' | '\r' | '…' | '(' | ')' | '"' | '“'
            | '”' => {
                end_word(&mut word, &mut clauses);
                clauses.push(Vec::new());
            }
            '-' | '–' | '—' => {
                let joins = i > 0
                    && chars[i - 1].is_alphanumeric()
                    && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
                end_word(&mut word, &mut clauses);
                if !joins {
                    clauses.push(Vec::new());
                }
            }
            c if c.is_alphanumeric() => word.extend(c.to_lowercase().map(fold)),
            _ => end_word(&mut word, &mut clauses),
        }
    }
    end_word(&mut word, &mut clauses);
    clauses.retain(|c| !c.is_empty());
    clauses
}

/// The opt-out in a reply, if any: a STOP keyword (English or Spanish) as the whole message
/// or a clause of its own, or a phrase a reasonable person means as one ("stop texting me",
/// "wrong number", "no me escriban más"), ignoring case, accents and punctuation. Ordinary
/// sentences ("I can't stop thinking about that house", "we'll end up buying in May") and a
/// negated request ("don't stop sending listings") are not opt-outs. When in doubt about an
/// explicit "stop", it is one: a missed opt-out costs $500-$1,500 a message, a wrong one a lead.
///
/// Uses the embedded word lists; if they failed to parse (a build mistake the tests catch),
/// every non-empty message is read as an opt-out, the safe side.
pub fn opt_out(text: &str) -> Option<OptOut> {
    match OptWords::embedded() {
        Ok(words) => words.opt_out(text),
        Err(_) => (!normalise(text).is_empty())
            .then(|| OptOut { phrase: "(word lists unavailable)".into(), language: Language::English }),
    }
}

/// Whether a reply re-subscribes: START, UNSTOP, SUBSCRIBE, YES (or the Spanish ones) as the
/// whole message, give or take courtesy words, and no opt-out in it. False if the embedded
/// word lists failed to parse.
pub fn opt_in(text: &str) -> bool {
    OptWords::embedded().is_ok_and(|w| w.opt_in(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalising() {
        assert_eq!(normalise("¡NO MÁS mensajes!"), [["no", "mas", "mensajes"]]);
        assert_eq!(normalise("Don’t text me. Opt-Out"), [vec!["dont", "text", "me"], vec!["opt", "out"]]);
        assert_eq!(normalise("STOP - wrong number 🛑"), [vec!["stop"], vec!["wrong", "number"]]);
        assert_eq!(normalise("  ...  "), Vec::<Vec<String>>::new());
    }

    #[test]
    fn english_opt_outs() {
        for (text, phrase) in [
            ("STOP", "stop"),
            ("stop", "stop"),
            ("Stop.", "stop"),
            ("Stop!!! 😡", "stop"),
            ("STOP STOP STOP", "stop"),
            ("please stop", "stop"),
            ("Stop please, thank you", "stop"),
            ("ok stop now", "stop now"),
            ("STOPALL", "stopall"),
            ("stop all", "stop all"),
            ("UNSUBSCRIBE", "unsubscribe"),
            ("Unsubscribe me", "unsubscribe"),
            ("cancel", "cancel"),
            ("END", "end"),
            ("Quit", "quit"),
            ("remove", "remove"),
            ("HALT", "halt"),
            ("OPT-OUT", "opt out"),
            ("opt out", "opt out"),
            ("OPTOUT", "optout"),
            ("Revoke", "revoke"),
            ("off", "off"),
            ("Not interested", "not interested"),
            ("I'm not interested, thanks", "not interested"),
            ("Not interested, stop", "not interested"),
            ("Thanks for the info. STOP", "stop"),
            ("stop texting me", "stop texting"),
            ("Can you please stop texting me?", "stop texting"),
            ("Stop sending me these", "stop sending"),
            ("pls stop messaging this number", "stop messaging"),
            ("don't text me", "dont text me"),
            ("Do not contact me again", "do not contact me"),
            ("Remove me from your list", "remove me"),
            ("take me off your list", "take me off"),
            ("You have the wrong number", "wrong number"),
            ("Who is this? Wrong number", "wrong number"),
            ("lose my number", "lose my number"),
            ("Leave me alone", "leave me alone"),
            ("no more texts please", "no more texts"),
            ("You never stop texting me", "stop texting"),
            ("I revoke my consent", "i revoke"),
            ("I withdraw my consent", "withdraw my consent"),
        ] {
            let got = opt_out(text);
            assert_eq!(got.as_ref().map(|o| o.phrase.as_str()), Some(phrase), "{text:?}");
            if let Some(o) = got {
                assert_eq!(o.language, Language::English, "{text:?}");
            }
        }
    }

    #[test]
    fn spanish_opt_outs() {
        for (text, phrase) in [
            ("PARAR", "parar"),
            ("Alto", "alto"),
            ("CANCELAR", "cancelar"),
            ("Basta", "basta"),
            ("¡Basta ya!", "basta ya"),
            ("BAJA", "baja"),
            ("No más mensajes", "no mas mensajes"),
            ("no mas", "no mas"),
            ("No más, gracias", "no mas"),
            ("No me escriban más", "no me escriban"),
            ("por favor no me envíen mensajes", "no me envien"),
            ("Deja de escribirme", "deja de escribirme"),
            ("Número equivocado", "numero equivocado"),
            ("numero equivocado", "numero equivocado"),
            ("No me interesa", "no me interesa"),
            ("Quítame de la lista por favor", "quitame de"),
            ("Déjenme en paz", "dejenme en paz"),
            ("Quiero darme de baja", "darme de baja"),
        ] {
            let got = opt_out(text).unwrap_or_else(|| panic!("{text:?} is an opt-out"));
            assert_eq!((got.phrase.as_str(), got.language), (phrase, Language::Spanish), "{text:?}");
        }
    }

    #[test]
    fn ordinary_sentences_are_not_opt_outs() {
        for text in [
            "I can't stop thinking about that house",
            "the bus stop is close",
            "we'll end up buying in May",
            "Can you stop by the house tomorrow?",
            "Let's stop at the open house on the way",
            "Cancel my showing tomorrow, something came up",
            "Please remove the condo from my favorites",
            "We're at the end of our lease in June",
            "I'm not interested in that one, what else do you have?",
            "No",
            "No thanks, Tuesday doesn't work",
            "Yes please",
            "What's the HOA? No more than 300 I hope",
            "La casa está muy alta",
            "Para mí el precio es alto",
            "no me importa el barrio",
            "Why don't you text me the address?",
            "Don't call me, just text",
            "",
            "👍",
        ] {
            assert_eq!(opt_out(text), None, "{text:?}");
        }
    }

    /// "Don't stop sending listings" asks for more: not an opt-out. A negated stop is only read
    /// that way for the plain negations of the table; a complaint is still an opt-out.
    #[test]
    fn a_negated_stop_asks_for_more() {
        assert_eq!(opt_out("don't stop sending listings"), None);
        assert_eq!(opt_out("Please do not stop texting me updates!"), None);
        assert_eq!(opt_out("I can't stop texting my wife about this place"), None);
        assert!(opt_out("you won't stop texting me").is_some());
        assert!(opt_out("Don't. Stop texting me").is_some());
    }

    #[test]
    fn opt_ins() {
        for text in [
            "START",
            "start",
            "Unstop",
            "SUBSCRIBE",
            "Yes",
            "yes please",
            "Start, thanks",
            "COMENZAR",
            "alta",
        ] {
            assert!(opt_in(text), "{text:?}");
        }
        for text in
            ["stop", "start looking in May", "Yes, stop texting me", "sí", "si", "Can we start Tuesday?", ""]
        {
            assert!(!opt_in(text), "{text:?}");
        }
    }

    #[test]
    fn broken_lists_name_the_line() {
        let ok = OPT_WORDS_TOML;
        assert!(OptWords::parse(ok).is_ok());
        let broken = ok.replacen("\"stopall\"", "\"stop. all\"", 1);
        let err = OptWords::parse(&broken).expect_err("a phrase with a full stop").to_string();
        let line =
            ok.lines().position(|l| l.contains("\"stopall\"")).map(|i| i + 1).expect("stopall is listed");
        assert!(err.contains(&format!("line {line}:")) && err.contains("not a phrase"), "{err}");
        let err =
            OptWords::parse(&ok.replacen("\"stopall\"", "\"st*op\"", 1)).expect_err("a * inside").to_string();
        assert!(err.contains("not a phrase"), "{err}");
        let err =
            OptWords::parse("[opt_out.en]\nclause = [\"stop\"]\n").expect_err("sections missing").to_string();
        assert!(err.contains("opt-words.toml line"), "{err}");
    }
}
