//! Loading, errors, rendering and the SMS/email rules, end to end through the public API.

use proptest::prelude::*;

use super::sms::{char_len, closing_start};
use super::*;

fn rules() -> MessageRules {
    MessageRules {
        business_name: "Summit Realty Group".into(),
        postal_address: "500 Congress Ave, Suite 200\nAustin, TX 78701".into(),
        ..MessageRules::default()
    }
}

fn shipped() -> TemplateSet {
    match load(DEFAULTS, None, &rules()) {
        Ok(set) => set,
        Err(e) => panic!("shipped templates load: {e}"),
    }
}

/// A set from one file's text.
fn one_file(text: &str) -> Result<TemplateSet, TemplateError> {
    load(&[("t.toml", text)], None, &rules())
}

fn sms(body: &str) -> String {
    format!("[[template]]\nid = \"t\"\nversion = 1\nchannel = \"sms\"\nbody = \"{body}\"\n")
}

fn set_of(text: &str) -> TemplateSet {
    match one_file(text) {
        Ok(set) => set,
        Err(e) => panic!("loads: {e}"),
    }
}

const SHIPPED_IDS: &[&str] = &[
    "cadence_checkin",
    "hot_lead_sms",
    "instant_response",
    "nurture_day1_email",
    "nurture_day3_sms",
    "nurture_day7_email",
    "optout_confirmation",
    "reengage_24h",
    "reengage_24h_buyer",
    "reengage_24h_seller",
    "reengage_48h",
    "reengage_48h_buyer",
    "reengage_48h_seller",
    "reengage_72h",
    "reengage_72h_buyer",
    "reengage_72h_seller",
    "welcome_email",
    "winback_email",
    "winback_sms",
];

#[test]
fn shipped_templates_load() {
    let set = shipped();
    let ids: Vec<String> = set.list().into_iter().map(|t| t.id).collect();
    assert_eq!(ids, SHIPPED_IDS);
    for info in set.list() {
        assert_eq!(info.version, 1);
        assert!(matches!(info.origin, Origin::Builtin { .. }));
        assert!(info.description.is_some(), "{} has a description", info.id);
    }
    assert_eq!(set.get("winback_email").map(|t| t.channel), Some(Channel::Email));
    assert_eq!(set.get("optout_confirmation").map(|t| t.optout_footer), Some(false));
}

#[test]
fn every_shipped_template_renders_within_the_rules_for_a_typical_lead() {
    let set = shipped();
    let rules = rules();
    let ctx = MergeContext::sample();
    for info in set.list() {
        for first_touch in [false, true] {
            let r = set.render(&info.id, &ctx, &rules, first_touch);
            if info.id == "optout_confirmation" && first_touch {
                assert!(matches!(r, Err(RenderError::NotForFirstText { .. })), "{r:?}");
                continue;
            }
            let r = match r {
                Ok(r) => r,
                Err(e) => panic!("{} (first touch {first_touch}): {e}", info.id),
            };
            let what = format!("{} (first touch {first_touch}): {:?}", info.id, r.body);
            assert_eq!((r.id.as_str(), r.version, r.channel), (info.id.as_str(), 1, info.channel));
            assert!(!r.body.contains("{{") && !r.body.contains("}}"), "{what}");
            match info.channel {
                Channel::Sms => {
                    assert!(r.chars <= 160 && r.segments == 1, "{what}");
                    assert!(!r.body.contains('\n'), "{what}");
                    if info.id == "optout_confirmation" {
                        assert!(!r.body.contains("STOP"), "{what}");
                    } else {
                        assert!(r.body.ends_with(" Reply STOP to opt out"), "{what}");
                    }
                    if !first_touch {
                        // Written to fit whole, with the opt-out text, for a typical lead.
                        assert!(!r.truncated, "{what}");
                    } else {
                        let lower = r.body.to_lowercase();
                        assert!(lower.contains("summit realty group") && lower.contains("sarah"), "{what}");
                    }
                }
                Channel::Email => {
                    assert!(r.subject.as_ref().is_some_and(|s| !s.is_empty() && !s.contains("{{")), "{what}");
                    assert!(
                        r.body.ends_with(
                            "Summit Realty Group\n500 Congress Ave, Suite 200\nAustin, TX 78701\n\nTo stop getting these emails, reply UNSUBSCRIBE."
                        ),
                        "{what}"
                    );
                    assert!(r.body.contains("Hi Jordan,"), "{what}");
                    assert_eq!(r.segments, 0);
                }
            }
        }
    }
}

#[test]
fn shipped_templates_need_only_the_documented_config() {
    // With no first name and nothing configured but the business and postal address, every
    // shipped follow-up renders (fallbacks); a first text then needs an agent name.
    let set = shipped();
    let ctx = MergeContext { agent_name: Some("Sarah Mitchell".into()), ..MergeContext::default() };
    for info in set.list() {
        if info.id == "welcome_email" {
            // Promises a phone number.
            let e = set.render(&info.id, &ctx, &rules(), false).expect_err("needs a phone");
            assert_eq!(
                e,
                RenderError::MissingField { template: info.id.clone(), field: "agent_phone".into() }
            );
            assert!(e.to_string().contains("[messages] agent_phone"), "{e}");
            continue;
        }
        let r = set.render(&info.id, &ctx, &rules(), false);
        assert!(r.is_ok(), "{}: {r:?}", info.id);
    }
    let r = set.render("reengage_24h", &MergeContext::default(), &rules(), true);
    assert!(matches!(r, Err(RenderError::MissingConfig { key: "agent_name", .. })), "{r:?}");
    let no_business = MessageRules { business_name: String::new(), ..rules() };
    let r = set.render("optout_confirmation", &ctx, &no_business, false).expect("fallback");
    assert_eq!(r.body, "You're unsubscribed from our texts. Reply START to resubscribe.");
}

/// Each broken file: its text, where the error must point, and words of its message.
#[test]
fn every_load_error_names_file_line_column_and_fix() {
    let head = "[[template]]\nid = \"a\"\nversion = 1\nchannel = \"sms\"\n";
    let long = "x".repeat(200);
    let cases: Vec<(String, usize, usize, &str)> = vec![
        ("[[template]]\nid = \"a\nversion = 1\n".into(), 2, 8, "not valid TOML: invalid basic string, expected `\"`"),
        ("title = \"mine\"\n".into(), 1, 1, "unknown key `title` at the top of the file"),
        ("[template]\nid = \"a\"\n".into(), 1, 2, "start each template with its own [[template]]"),
        (format!("{head}bdy = \"x\"\n"), 5, 1, "unknown key `bdy`"),
        (format!("{head}body = \"Hi {{{{firstname}}}}!\"\n"), 5, 12, "unknown merge field {{firstname}} (did you mean {{first_name}}?)"),
        (format!("{head}body = \"Hi {{{{contact.budget}}}}!\"\n"), 5, 12, "(did you mean {{custom.budget}}?)"),
        (format!("{head}body = \"Hi {{{{first name}}}}!\"\n"), 5, 12, "`{{first name}}` is not a merge field"),
        (format!("{head}body = \"\"\"\nHi there\n{{{{first_name, still looking?\n\"\"\"\n"), 7, 1, "`{{` is not closed"),
        (format!("{head}body = \"Hi first_name}}}}\"\n"), 5, 22, "`}}` closes nothing"),
        (format!("{head}body = \"Hi {{first_name}}\"\n"), 5, 12, "a single `{`: merge fields take two braces"),
        (format!("{head}body = \"Hi {{{{first_name|a|b}}}}\"\n"), 5, 12, "one fallback"),
        (format!("{head}body = \"{long}?\"\n"), 5, 8, "can never fit [messages] sms_max_chars = 160: its closing sentence and the opt-out text take 223"),
        (format!("{head}body = \"  \"\n"), 5, 8, "`body` is empty"),
        (format!("{head}body = \"x\"\nsubject = \"Hi\"\n"), 6, 11, "an SMS has no subject"),
        (format!("{head}body = 5\n"), 5, 8, "`body` must be a string"),
        ("[[template]]\nid = \"e\"\nversion = 1\nchannel = \"email\"\nbody = \"x\"\n".into(), 1, 1, "an email needs a subject"),
        ("[[template]]\nid = \"e\"\nversion = 1\nchannel = \"email\"\nsubject = \"s\"\nbody = \"x\"\noptout_footer = false\n".into(), 7, 17, "`optout_footer` is for SMS only"),
        ("[[template]]\nid = \"a\"\nchannel = \"sms\"\nbody = \"x\"\n".into(), 1, 1, "this template has no `version`"),
        ("[[template]]\nid = \"Reengage-24h\"\nversion = 1\nchannel = \"sms\"\nbody = \"x\"\n".into(), 2, 6, "id `Reengage-24h` is not valid"),
        ("[[template]]\nid = \"a\"\nversion = 0\nchannel = \"sms\"\nbody = \"x\"\n".into(), 3, 11, "version 0 is not valid"),
        ("[[template]]\nid = \"a\"\nversion = \"1\"\nchannel = \"sms\"\nbody = \"x\"\n".into(), 3, 11, "`version` must be a whole number"),
        ("[[template]]\nid = \"a\"\nversion = 1\nchannel = \"mms\"\nbody = \"x\"\n".into(), 4, 11, "channel `mms` is not known: use \"sms\" or \"email\""),
        (format!("{head}body = \"x\"\n\n{head}body = \"y\"\n"), 8, 6, "id `a` is already used at line 2 of this file"),
    ];
    for (text, line, column, words) in cases {
        let err = one_file(&text).expect_err(&text);
        let msg = err.to_string();
        match &err {
            TemplateError::Invalid { file, line: l, column: c, .. } => {
                assert_eq!(file, "built-in templates/t.toml", "{text}");
                assert_eq!((*l, *c), (line, column), "{text}\n{msg}");
            }
            other => panic!("{text}: {other}"),
        }
        assert!(msg.starts_with(&format!("built-in templates/t.toml:{line}:{column}: ")), "{msg}");
        assert!(msg.contains(words), "{text}\n{msg}\nlacks: {words}");
    }
}

#[test]
fn rules_that_cannot_work_are_refused_at_load() {
    let tiny = MessageRules { sms_max_chars: 20, ..rules() };
    let e = load(DEFAULTS, None, &tiny).expect_err("too small");
    assert!(e.to_string().starts_with("config [messages] sms_max_chars = 20 is out of range"), "{e}");
    let no_stop = MessageRules { sms_optout_text: "Text us to opt out".into(), ..rules() };
    let e = load(DEFAULTS, None, &no_stop).expect_err("no STOP");
    assert!(e.to_string().contains("sms_optout_text"), "{e}");
    // A smaller limit is checked against every SMS: the longest closing sentences do not fit 70.
    let small = MessageRules { sms_max_chars: 70, ..rules() };
    let e = load(DEFAULTS, None, &small).expect_err("closing sentence too long for 70");
    assert!(matches!(e.problem(), Some(Problem::NeverFits { limit: 70, .. })), "{e}");
    if let Err(e) = load(DEFAULTS, None, &MessageRules { sms_max_chars: 120, ..rules() }) {
        panic!("120 is room enough for every shipped closing sentence: {e}");
    }
}

#[test]
fn user_templates_replace_the_shipped_ones_by_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let custom = "[[template]]\nid = \"instant_response\"\nversion = 2\nchannel = \"sms\"\n\
                  body = \"Hi {{first_name|there}}! {{agent_first_name}} at {{business_name}} here. Free to talk today?\"\n\n\
                  [[template]]\nid = \"open_house\"\nversion = 1\nchannel = \"sms\"\nbody = \"See you Saturday?\"\n";
    std::fs::write(dir.path().join("mine.toml"), custom).expect("write");
    std::fs::write(dir.path().join("notes.txt"), "not a template").expect("write");
    std::fs::write(dir.path().join(".#mine.toml"), "lock file [").expect("write");
    let set = load(DEFAULTS, Some(dir.path()), &rules()).expect("loads");
    let t = set.get("instant_response").expect("present");
    assert_eq!(t.version, 2);
    assert_eq!(t.origin, Origin::User { path: dir.path().join("mine.toml") });
    assert!(set.get("open_house").is_some());
    assert_eq!(set.list().len(), SHIPPED_IDS.len() + 1);
    let r = set.render("instant_response", &MergeContext::sample(), &rules(), true).expect("renders");
    assert_eq!(r.version, 2);
    assert_eq!(
        r.body,
        "Hi Jordan! Sarah at Summit Realty Group here. Free to talk today? Reply STOP to opt out"
    );

    // The same id in two user files.
    std::fs::write(
        dir.path().join("other.toml"),
        "[[template]]\nid = \"open_house\"\nversion = 3\nchannel = \"sms\"\nbody = \"Saturday?\"\n",
    )
    .expect("write");
    let e = load(DEFAULTS, Some(dir.path()), &rules()).expect_err("duplicate");
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!(
            "{}:2:6: id `open_house` is also defined in {}",
            dir.path().join("other.toml").display(),
            dir.path().join("mine.toml").display()
        )),
        "{msg}"
    );
    std::fs::remove_file(dir.path().join("other.toml")).expect("rm");

    // A shipped SMS replaced by an email.
    std::fs::write(dir.path().join("z.toml"), "[[template]]\nid = \"winback_sms\"\nversion = 2\nchannel = \"email\"\nsubject = \"Hi\"\nbody = \"Hello\"\n")
        .expect("write");
    let e = load(DEFAULTS, Some(dir.path()), &rules()).expect_err("channel change");
    assert!(e.to_string().contains("replaces a built-in sms template with another channel"), "{e}");

    // No directory: the shipped set.
    let none = load(DEFAULTS, Some(&dir.path().join("absent")), &rules()).expect("no dir is fine");
    assert_eq!(none.list().len(), SHIPPED_IDS.len());
}

#[test]
fn merge_fallbacks_missing_and_unknown_custom_fields() {
    let set = set_of(&sms("Hi {{first_name|there}}, still thinking about {{custom.location}}?"));
    let mut ctx = MergeContext::sample();
    ctx.first_name = None;
    let r = set.render("t", &ctx, &rules(), false).expect("renders");
    assert_eq!(r.body, "Hi there, still thinking about Round Rock? Reply STOP to opt out");

    ctx.custom.remove("location");
    let e = set.render("t", &ctx, &rules(), false).expect_err("no value");
    assert_eq!(e, RenderError::MissingField { template: "t".into(), field: "custom.location".into() });
    assert!(e.to_string().contains("add a fallback to the template"), "{e}");

    let set = set_of(&sms("Budget {{custom.budgt}}?"));
    let e = set.render("t", &MergeContext::sample(), &rules(), false).expect_err("unknown key");
    assert_eq!(e, RenderError::UnknownCustomField { template: "t".into(), key: "budgt".into() });
    assert!(e.to_string().contains("no custom field with the key `budgt`"), "{e}");

    // A name typed in capitals is written as a name.
    let set = set_of(&sms("Hi {{first_name}}, got a minute?"));
    let ctx = MergeContext { first_name: Some("JORDAN".into()), ..MergeContext::sample() };
    assert_eq!(
        set.render("t", &ctx, &rules(), false).map(|r| r.body),
        Ok("Hi Jordan, got a minute? Reply STOP to opt out".into())
    );

    assert!(matches!(set.render("nope", &ctx, &rules(), false), Err(RenderError::UnknownTemplate { .. })));
}

#[test]
fn a_value_with_braces_is_never_sent() {
    let set = set_of(&sms("Hi {{first_name}}, got a minute?"));
    let ctx = MergeContext { first_name: Some("{{first_name}}".into()), ..MergeContext::sample() };
    assert_eq!(set.render("t", &ctx, &rules(), false), Err(RenderError::Leftover { template: "t".into() }));
}

#[test]
fn footer_when_it_fits_and_always_on_a_first_text() {
    // 139 characters: the footer (22 with its space) would make 161.
    let body = format!("Hi {{{{first_name}}}}, {}a. Still looking?", "ab ".repeat(37));
    let set = set_of(&sms(&body));
    let ctx = MergeContext::sample();
    let r = set.render("t", &ctx, &rules(), false).expect("renders");
    assert_eq!(r.chars, 139);
    assert!(!r.truncated && !r.body.contains("STOP"));
    assert!(r.notes.iter().any(|n| n.contains("opt-out text left out")), "{:?}", r.notes);

    let r = set.render("t", &ctx, &rules(), true).expect("renders");
    assert!(r.truncated);
    assert_eq!(r.chars, 160, "{}", r.body);
    assert!(r.body.starts_with("Sarah Mitchell with Summit Realty Group: Hi Jordan, ab ab"), "{}", r.body);
    assert!(r.body.ends_with("... Still looking? Reply STOP to opt out"), "{}", r.body);

    // Opt-out words already in the text: no second footer.
    let set =
        set_of(&sms("Hi {{first_name}}, Sarah with Summit Realty Group. Text STOP to end. Still looking?"));
    let r = set.render("t", &ctx, &rules(), true).expect("renders");
    assert_eq!(r.body, "Hi Jordan, Sarah with Summit Realty Group. Text STOP to end. Still looking?");
}

#[test]
fn a_first_text_names_the_agent_and_the_business() {
    let set = set_of(&sms("Hey {{first_name}}, still looking?"));
    let ctx = MergeContext::sample();
    let r = set.render("t", &ctx, &rules(), true).expect("renders");
    assert_eq!(
        r.body,
        "Sarah Mitchell with Summit Realty Group: Hey Jordan, still looking? Reply STOP to opt out"
    );
    assert!(r.notes.iter().any(|n| n.starts_with("first message: introduced")));
    // Not on a follow-up.
    let r = set.render("t", &ctx, &rules(), false).expect("renders");
    assert_eq!(r.body, "Hey Jordan, still looking? Reply STOP to opt out");
    // Names already there (first name will do for the agent): no introduction.
    let set = set_of(&sms("Hey {{first_name}}, {{agent_first_name}} from {{business_name}}. Still looking?"));
    let r = set.render("t", &ctx, &rules(), true).expect("renders");
    assert_eq!(r.body, "Hey Jordan, Sarah from Summit Realty Group. Still looking? Reply STOP to opt out");
    // The introduction survives a cut that drops the names from the start of the body.
    let long = format!(
        "Hey {{{{first_name}}}}, {} from {{{{agent_first_name}}}} at {{{{business_name}}}}. Still looking?",
        "news ".repeat(20).trim_end()
    );
    let set = set_of(&sms(&long));
    let r = set.render("t", &ctx, &rules(), true).expect("renders");
    assert!(
        r.body.starts_with("Sarah Mitchell with Summit Realty Group: Hey Jordan, news news"),
        "{}",
        r.body
    );
    assert!(r.body.ends_with("news... Still looking? Reply STOP to opt out"), "{}", r.body);
    assert!(r.chars <= 160);
    // Not on a follow-up: cut without the introduction.
    let r = set.render("t", &ctx, &rules(), false).expect("renders");
    assert_eq!(
        r.body,
        "Hey Jordan, news news news news news news news news news news news news news news news news news news news \
         news from Sarah at Summit Realty... Still looking?"
    );
}

#[test]
fn segments_gsm7_and_ucs2() {
    let set = set_of(&sms("Caf\u{e9} con leche at 10? {{first_name}}"));
    let r = set.render("t", &MergeContext::sample(), &rules(), false).expect("renders");
    assert_eq!(r.segments, 1);
    assert!(!r.notes.iter().any(|n| n.contains("UCS-2")));
    // A character outside GSM-7 makes it UCS-2: 70 a segment.
    let set = set_of(&sms(
        "Na\u{ef}ve question, {{first_name}}: is Saturday good for a tour of the three homes we talked about?",
    ));
    let r = set.render("t", &MergeContext::sample(), &rules(), false).expect("renders");
    assert_eq!(r.chars, 109);
    assert_eq!(r.segments, 2);
    assert!(r.notes.iter().any(|n| n.contains("UCS-2") && n.contains("'ï'")), "{:?}", r.notes);
    // Curly quotes are sent plain, so they do not cost a UCS-2 text.
    let set = set_of(&sms("Don\u{2019}t miss Saturday\u{2026} Coming?"));
    let r = set.render("t", &MergeContext::sample(), &rules(), false).expect("renders");
    assert_eq!(r.body, "Don't miss Saturday... Coming? Reply STOP to opt out");
    assert_eq!(r.segments, 1);
}

#[test]
fn the_spam_guard_runs_on_texts() {
    let set = set_of(&sms("Hi {{first_name}}, get a FREE valuation of your home. Want one?"));
    let r = set.render("t", &MergeContext::sample(), &rules(), false).expect("renders");
    assert_eq!(r.body, "Hi Jordan, get a free valuation of your home. Want one? Reply STOP to opt out");
    let set = set_of(&sms("HI {{first_name}}, NEW HOMES JUST LISTED IN AUSTIN. WANT A TOUR?"));
    let r = set.render("t", &MergeContext::sample(), &rules(), false).expect("renders");
    assert_eq!(r.body, "Hi Jordan, new homes just listed in austin. Want a tour? Reply STOP to opt out");
    assert!(r.notes.iter().any(|n| n.contains("sentence case")), "{:?}", r.notes);
}

#[test]
fn emails_end_with_the_can_spam_footer() {
    let text = "[[template]]\nid = \"e\"\nversion = 4\nchannel = \"email\"\nsubject = \"Hi {{first_name|there}}\"\n\
                body = \"\"\"\nHello {{first_name|there}},\n\nSaturday?   \n\"\"\"\n";
    let set = set_of(text);
    let r = set.render("e", &MergeContext::default(), &rules(), false).expect("renders");
    assert_eq!(r.subject.as_deref(), Some("Hi there"));
    assert_eq!(
        r.body,
        "Hello there,\n\nSaturday?\n\nSummit Realty Group\n500 Congress Ave, Suite 200\nAustin, TX 78701\n\n\
         To stop getting these emails, reply UNSUBSCRIBE."
    );
    assert_eq!((r.version, r.segments, r.truncated), (4, 0, false));

    // A first email is signed by the agent when it does not name them.
    let r = set.render("e", &MergeContext::sample(), &rules(), true).expect("renders");
    assert!(
        r.body.starts_with(
            "Hello Jordan,\n\nSaturday?\n\nSarah Mitchell, Summit Realty Group\n\nSummit Realty Group\n"
        ),
        "{}",
        r.body
    );

    let no_address = MessageRules { postal_address: String::new(), ..rules() };
    let e = set.render("e", &MergeContext::sample(), &no_address, false).expect_err("no address");
    assert!(matches!(e, RenderError::MissingConfig { key: "postal_address", .. }));
    assert!(e.to_string().contains("needs [messages] postal_address in the config"), "{e}");
}

#[test]
fn an_agents_edit_keeps_the_templates_rules() {
    let set = set_of(&format!(
        "{}[[template]]\nid = \"e\"\nversion = 2\nchannel = \"email\"\nsubject = \"Hi\"\nbody = \"x\"\n",
        sms("Original")
    ));
    let ctx = MergeContext::sample();
    // Merge fields work, the opt-out text is added, the version is the template's.
    let r = set.render_edited(
        "t",
        "Hi {{first_name}}, still looking at the Elm St house?",
        &ctx,
        &rules(),
        false,
    );
    let r = r.expect("renders");
    assert_eq!(r.body, "Hi Jordan, still looking at the Elm St house? Reply STOP to opt out");
    assert_eq!(r.version, 1);
    // An email edit keeps the subject and gets the CAN-SPAM footer.
    let r = set.render_edited("e", "See you Saturday.", &ctx, &rules(), false).expect("renders");
    assert_eq!(r.subject.as_deref(), Some("Hi"));
    assert!(r.body.starts_with("See you Saturday.\n\nSummit Realty Group\n500 Congress Ave"), "{}", r.body);
    // A broken field or a text too long is refused, saying why.
    let e = set.render_edited("t", "Hi {first_name}", &ctx, &rules(), false).expect_err("single brace");
    assert!(matches!(e, RenderError::BadEdit { .. }), "{e}");
    assert!(e.to_string().starts_with("the edited text of template `t` cannot be used:"), "{e}");
    let e = set.render_edited("t", "Hi {{frist_name}}", &ctx, &rules(), false).expect_err("unknown field");
    assert!(e.to_string().contains("first_name"), "suggests the field: {e}");
    let long = format!("{}?", "word ".repeat(60));
    let e = set.render_edited("t", &long, &ctx, &rules(), false).expect_err("one sentence of 300 characters");
    assert!(matches!(e, RenderError::DoesNotFit { .. }), "{e}");
    assert!(matches!(
        set.render_edited("nope", "Hi", &ctx, &rules(), false),
        Err(RenderError::UnknownTemplate { .. })
    ));
}

/// Words for random bodies: plain, merge fields, capitals and triggers, non-GSM characters.
const WORDS: &[&str] = &[
    "hi",
    "there",
    "home",
    "homes",
    "Saturday",
    "tour",
    "budget",
    "listing",
    "price",
    "you're",
    "great",
    "FREE",
    "URGENT",
    "NOW",
    "Austin",
    "caf\u{e9}",
    "na\u{ef}ve",
    "\u{2019}",
    "I",
    "a",
    "the",
    "3.5%",
    "{{first_name|there}}",
    "{{first_name}}",
    "{{last_name|}}",
    "{{agent_first_name}}",
    "{{business_name}}",
    "{{city|town}}",
    "{{custom.budget}}",
    "{{custom.timeline|soon}}",
    "supercalifragilistic",
];

fn sentence() -> impl Strategy<Value = String> {
    (prop::collection::vec(prop::sample::select(WORDS), 1..14), prop::sample::select(&[".", "!", "?"][..]))
        .prop_map(|(words, end)| format!("{}{end}", words.join(" ")))
}

fn context() -> impl Strategy<Value = MergeContext> {
    // Mostly complete leads, so that most cases render; a missing value is an error case.
    let name = prop::option::weighted(
        0.9,
        prop::sample::select(&["Jo", "JORDAN", "Maximilian-Alexander", "Zo\u{eb}"][..]),
    );
    (name, prop::option::of("[A-Za-z ]{0,40}"), prop::bool::weighted(0.9)).prop_map(
        |(first, city, budget)| {
            let mut ctx = MergeContext::sample();
            ctx.first_name = first.map(str::to_owned);
            ctx.city = city;
            if !budget {
                ctx.custom.remove("budget");
            }
            ctx
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    /// For any body and lead: a rendered SMS fits the limit exactly, holds no `{{`/`}}`, and
    /// ends with its closing sentence or the opt-out text after it; a first text carries the
    /// opt-out text and names the agent and business.
    #[test]
    fn rendered_sms_keeps_the_rules(
        sentences in prop::collection::vec(sentence(), 1..8),
        ctx in context(),
        limit in 60usize..300,
        first_touch in any::<bool>(),
    ) {
        let rules = MessageRules { sms_max_chars: limit, ..rules() };
        let text = sms(&sentences.join(" "));
        let Ok(set) = load(&[("p.toml", &text)], None, &rules) else {
            // A closing sentence longer than the limit is refused at load; that is tested above.
            return Ok(());
        };
        match set.render("t", &ctx, &rules, first_touch) {
            Ok(r) => {
                prop_assert!(r.chars <= limit, "{} > {limit}: {}", r.chars, r.body);
                prop_assert_eq!(r.chars, char_len(&r.body));
                prop_assert!(!r.body.contains("{{") && !r.body.contains("}}"));
                // The whole text, never cut, gives the closing sentence.
                let wide = MessageRules { sms_max_chars: 1600, ..rules.clone() };
                let whole = set.render("t", &ctx, &wide, false).map_err(|e| TestCaseError::fail(e.to_string()))?;
                let footer = format!(" {}", rules.sms_optout_text);
                let body = whole.body.strip_suffix(&footer).unwrap_or(&whole.body);
                let closing = &body[closing_start(body)..];
                prop_assert!(
                    r.body.ends_with(closing) || r.body.ends_with(&format!("{closing}{footer}")),
                    "{:?} does not end with {:?}", r.body, closing
                );
                if first_touch {
                    prop_assert!(r.body.contains("STOP"), "{}", r.body);
                    let lower = r.body.to_lowercase();
                    prop_assert!(lower.contains("summit realty group") && lower.contains("sarah"), "{}", r.body);
                }
                if !r.truncated {
                    prop_assert!(r.body.ends_with(closing) || r.body.ends_with(&footer));
                }
            }
            Err(RenderError::DoesNotFit { needed, limit: l, .. }) => prop_assert!(needed > l),
            Err(RenderError::MissingField { field, .. }) => {
                prop_assert!(field == "first_name" || field == "custom.budget", "{}", field);
            }
            Err(e) => prop_assert!(false, "unexpected error {e}"),
        }
    }
}
