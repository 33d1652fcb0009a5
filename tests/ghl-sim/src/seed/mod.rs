//! Deterministic generation of a realistic real-estate GHL location.
//!
//! [`generate`] builds the whole data set from a [`SeedConfig`]; the same config always yields
//! byte-identical JSON. Every item has the exact JSON shape GHL returns for it.

pub mod extras;
pub mod script;
pub mod words;

use std::collections::{BTreeMap, HashSet};

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::model::{
    Contact, Conversation, CustomFieldDef, CustomFieldValue, DndSetting, Location, Message, MessageMeta,
    Note, Opportunity, Pipeline, PipelineStage, Tag, Task, User, UserRole,
};
use crate::time::iso_from_ms;
use script::{LeadType, Profile, Topic};
use words::{EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES, SOURCES, TAGS};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// What to generate.
#[derive(Debug, Clone)]
pub struct SeedConfig {
    /// The location (sub-account) id.
    pub location_id: String,
    /// Number of contacts.
    pub contacts: usize,
    /// Number of opportunities (default: contacts / 5).
    pub opportunities: Option<usize>,
    /// Average number of messages per contact.
    pub messages_per_contact: usize,
    /// RNG seed: the same seed gives the same data set.
    pub seed: u64,
    /// The "now" the data is generated against, in epoch ms (dates spread over the 120 days
    /// before it).
    pub now_ms: i64,
    /// Extra deals closed in the past (won, lost or abandoned) on the leads who are not new,
    /// the history a conversion model learns from: engaged leads win more often than silent
    /// ones, and a lead who texted STOP never does. Drawn from their own random stream, so
    /// the rest of the data set is the same with or without them. Default 0.
    pub closed_history: usize,
}

impl Default for SeedConfig {
    fn default() -> Self {
        Self {
            location_id: "ve9EPM428h8vShlRW1KT".into(),
            contacts: 200,
            opportunities: None,
            messages_per_contact: 3,
            seed: 42,
            now_ms: 1_767_225_600_000, // 2026-01-01T00:00:00Z
            closed_history: 0,
        }
    }
}

/// The whole seeded location, every item in GHL's response shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dataset {
    /// `GET /locations/{id}` → `location`.
    pub location: Location,
    /// `GET /users/search` → `users`.
    pub users: Vec<User>,
    /// `GET /locations/{id}/customFields` → `customFields`.
    pub custom_fields: Vec<CustomFieldDef>,
    /// `GET /locations/{id}/tags` → `tags`.
    pub tags: Vec<Tag>,
    /// `GET /opportunities/pipelines` → `pipelines`.
    pub pipelines: Vec<Pipeline>,
    /// `GET /contacts/{id}` → `contact`, one per contact.
    pub contacts: Vec<Contact>,
    /// `GET /opportunities/search` items.
    pub opportunities: Vec<Opportunity>,
    /// `GET /conversations/search` items.
    pub conversations: Vec<Conversation>,
    /// `GET /conversations/messages/export` items.
    pub messages: Vec<Message>,
    /// `GET /contacts/{id}/notes` items, all contacts.
    pub notes: Vec<Note>,
    /// `GET /contacts/{id}/tasks` items, all contacts.
    pub tasks: Vec<Task>,
}

/// A 20-character Firebase-style id, as GHL uses.
pub fn ghl_id(rng: &mut impl Rng) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut v: u128 = rng.random();
    let mut s = String::with_capacity(20);
    for _ in 0..20 {
        s.push(ALPHABET[(v % 62) as usize] as char);
        v /= 62;
    }
    s
}

/// An RNG for one independent stream of the generator.
pub fn stream_rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// Where a lead stands, which decides the shape of its conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Persona {
    /// Arrived in the last two days, nobody has texted yet (speed-to-lead queue).
    New,
    /// The team texted, the lead never answered.
    Unresponsive,
    /// The lead replied STOP.
    Stopped,
    /// The last message is the lead's (needs a reply).
    NeedsReply,
    /// No activity for 30+ days.
    Dormant,
    /// An ongoing conversation the team answered last.
    Engaged,
}

/// The fixed definitions of a location, shared by the generator and by leads created later.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// The location id.
    pub location_id: String,
    /// Agents who get leads assigned (user ids and first names).
    pub agents: Vec<(String, String)>,
    /// Custom field ids by field key (`contact.budget`, ...).
    pub field_ids: BTreeMap<String, String>,
    /// The Buyer and Seller pipelines.
    pub pipelines: Vec<Pipeline>,
}

impl Catalog {
    /// The catalog of a loaded store (location, users, fields, pipelines).
    pub fn from_store(s: &crate::store::Store) -> Self {
        Self {
            location_id: s.location.id.clone(),
            agents: s.users.iter().map(|u| (u.id.clone(), u.first_name.clone())).collect(),
            field_ids: s.custom_fields.iter().map(|f| (f.field_key.clone(), f.id.clone())).collect(),
            pipelines: s.pipelines.clone(),
        }
    }

    fn field(&self, key: &str) -> String {
        self.field_ids.get(key).cloned().unwrap_or_default()
    }

    /// The pipeline for a lead type.
    pub fn pipeline_for(&self, t: LeadType) -> Option<&Pipeline> {
        let name = match t {
            LeadType::Buyer => "Buyer Pipeline",
            LeadType::Seller => "Seller Pipeline",
        };
        self.pipelines.iter().find(|p| p.name == name)
    }
}

fn custom_field_defs(rng: &mut impl Rng, location_id: &str) -> Vec<CustomFieldDef> {
    let spec: &[(&str, &str, &str, &[&str])] = &[
        ("Lead Type", "contact.lead_type", "SINGLE_OPTIONS", &["buyer", "seller"]),
        ("Budget", "contact.budget", "MONETORY", &[]),
        ("Preferred Location", "contact.location", "TEXT", &[]),
        (
            "Timeline",
            "contact.timeline",
            "SINGLE_OPTIONS",
            &["ASAP", "0-30 days", "30-60 days", "60-90 days", "3-6 months", "6+ months"],
        ),
        ("Bedrooms", "contact.bedrooms", "NUMERICAL", &[]),
        ("Bathrooms", "contact.bathrooms", "NUMERICAL", &[]),
        ("Must Haves", "contact.must_haves", "LARGE_TEXT", &[]),
        (
            "Financing",
            "contact.financing",
            "SINGLE_OPTIONS",
            &["Pre-approved", "Pre-qualified", "Cash", "Needs lender"],
        ),
        ("Motivation", "contact.motivation", "LARGE_TEXT", &[]),
        (
            "Home Condition",
            "contact.home_condition",
            "SINGLE_OPTIONS",
            &[
                "Move-in ready",
                "Recently renovated",
                "Dated but solid",
                "Needs some work",
                "Needs major repairs",
            ],
        ),
        ("Property Address", "contact.property_address", "TEXT", &[]),
        ("Lead Score", "contact.lead_score", "NUMERICAL", &[]),
        ("Commission Rate", "opportunity.commission_rate", "NUMERICAL", &[]),
        ("Closing Date", "opportunity.closing_date", "DATE", &[]),
    ];
    spec.iter()
        .enumerate()
        .map(|(i, (name, key, ty, opts))| CustomFieldDef {
            id: ghl_id(rng),
            name: (*name).into(),
            field_key: (*key).into(),
            placeholder: String::new(),
            data_type: (*ty).into(),
            position: (i as u32) * 50,
            picklist_options: opts.iter().map(|s| (*s).to_string()).collect(),
            location_id: location_id.into(),
            model: key.split('.').next().unwrap_or("contact").into(),
        })
        .collect()
}

fn pipelines(rng: &mut impl Rng, location_id: &str) -> Vec<Pipeline> {
    let spec: &[(&str, &[&str])] = &[
        (
            "Buyer Pipeline",
            &["New Lead", "Contacted", "Qualified", "Showing", "Offer Made", "Under Contract", "Closed"],
        ),
        (
            "Seller Pipeline",
            &["New Lead", "Contacted", "Appointment Set", "Listing Signed", "Under Contract", "Sold"],
        ),
    ];
    spec.iter()
        .map(|(name, stages)| Pipeline {
            id: ghl_id(rng),
            name: (*name).into(),
            stages: stages
                .iter()
                .enumerate()
                .map(|(i, s)| PipelineStage {
                    id: uuid_like(rng),
                    name: (*s).into(),
                    position: i as u32,
                    show_in_funnel: true,
                    show_in_pie_chart: true,
                })
                .collect(),
            show_in_funnel: true,
            show_in_pie_chart: true,
            location_id: location_id.into(),
        })
        .collect()
}

/// A random UUID-v4-looking string (GHL uses these for stage ids and webhook ids).
pub fn uuid_like(rng: &mut impl Rng) -> String {
    let v: u128 = rng.random();
    let h = format!("{v:032x}");
    format!("{}-{}-4{}-a{}-{}", &h[0..8], &h[8..12], &h[13..16], &h[17..20], &h[20..32])
}

fn users(rng: &mut impl Rng, location_id: &str) -> Vec<User> {
    let people = [
        ("Maria", "Gonzalez", "admin", "+12145550142"),
        ("Derek", "Chen", "user", "+14695550187"),
        ("Ashley", "Brooks", "user", "+19725550123"),
        ("Tyler", "Nguyen", "user", "+12145550199"),
    ];
    people
        .iter()
        .map(|(f, l, role, phone)| User {
            id: ghl_id(rng),
            name: format!("{f} {l}"),
            first_name: (*f).into(),
            last_name: (*l).into(),
            email: format!("{}@lonestarrealtygroup.com", f.to_lowercase()),
            phone: (*phone).into(),
            extension: String::new(),
            roles: UserRole {
                kind: "account".into(),
                role: (*role).into(),
                location_ids: vec![location_id.into()],
                restrict_sub_account: *role != "admin",
            },
            deleted: false,
            platform_language: "en_US".into(),
        })
        .collect()
}

fn location(location_id: &str, company_id: &str) -> Location {
    Location {
        id: location_id.into(),
        company_id: company_id.into(),
        name: "Lone Star Realty Group".into(),
        domain: "lonestarrealtygroup.com".into(),
        address: "5800 Granite Pkwy Suite 200".into(),
        city: "Plano".into(),
        state: "TX".into(),
        country: "US".into(),
        postal_code: "75024".into(),
        website: "https://lonestarrealtygroup.com".into(),
        timezone: "America/Chicago".into(),
        first_name: "Maria".into(),
        last_name: "Gonzalez".into(),
        email: "maria@lonestarrealtygroup.com".into(),
        phone: "+12145550142".into(),
        business: json!({
            "name": "Lone Star Realty Group",
            "address": "5800 Granite Pkwy Suite 200",
            "city": "Plano",
            "state": "TX",
            "country": "US",
            "postalCode": "75024",
            "website": "https://lonestarrealtygroup.com",
            "timezone": "America/Chicago",
            "email": "maria@lonestarrealtygroup.com"
        }),
        settings: json!({"allowDuplicateContact": false, "allowDuplicateOpportunity": false}),
    }
}

/// Makes new contacts (seeded or arriving live) with realistic, unique details.
#[derive(Debug)]
pub struct LeadFactory {
    catalog: Catalog,
    emails: HashSet<String>,
    phone_offset: u64,
    next_index: u64,
}

/// A freshly made lead with the profile behind its answers.
#[derive(Debug, Clone)]
pub struct NewLead {
    /// The contact, with no messages yet.
    pub contact: Contact,
    /// What the lead would answer.
    pub profile: Profile,
}

impl LeadFactory {
    /// A factory for `catalog`, starting phone numbers from a seed-derived offset.
    pub fn new(catalog: Catalog, seed: u64) -> Self {
        Self {
            catalog,
            emails: HashSet::new(),
            phone_offset: seed.wrapping_mul(2_654_435_761) % 8_000_000,
            next_index: 0,
        }
    }

    /// Marks existing contacts' emails as taken and continues phone numbering after `next_index`.
    pub fn reserve<'a>(&mut self, contacts: impl Iterator<Item = &'a Contact>, next_index: u64) {
        for c in contacts {
            if let Some(e) = &c.email {
                self.emails.insert(e.to_lowercase());
            }
        }
        self.next_index = self.next_index.max(next_index);
    }

    /// The location definitions.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Makes one lead added at `added_ms`. Phone numbers never repeat within a factory.
    pub fn make(&mut self, rng: &mut impl Rng, added_ms: i64) -> NewLead {
        let index = self.next_index;
        self.next_index += 1;
        let region = script::pick_region(rng);
        let lead_type = if rng.random_bool(0.65) { LeadType::Buyer } else { LeadType::Seller };
        let profile = Profile::draw(rng, lead_type, region);
        let first = FIRST_NAMES.choose(rng).copied().unwrap_or("Alex");
        let last = LAST_NAMES.choose(rng).copied().unwrap_or("Smith");
        let area = region.area_codes.choose(rng).copied().unwrap_or("214");
        // 7919 is prime and coprime with 8,000,000, so line numbers are unique per index.
        let line = 2_000_000 + (index.wrapping_mul(7919) + self.phone_offset) % 8_000_000;
        let phone = (!rng.random_bool(0.02)).then(|| format!("+1{area}{line:07}"));
        let email = (!rng.random_bool(0.06)).then(|| self.unique_email(rng, first, last));
        let source = SOURCES[script::weighted_index(rng, &SOURCES.iter().map(|s| s.1).collect::<Vec<_>>())].0;
        let (city, zip) = region.cities.choose(rng).copied().unwrap_or(("Dallas", "752"));
        let seller = lead_type == LeadType::Seller;
        let assigned =
            rng.random_bool(0.85).then(|| self.catalog.agents.choose(rng).map(|a| a.0.clone())).flatten();
        let mut tags = vec![lead_type.tag().to_string()];
        if source == "Open House" {
            tags.push("Open House".into());
        }
        let iso = iso_from_ms(added_ms);
        let mut contact = Contact {
            id: ghl_id(rng),
            location_id: self.catalog.location_id.clone(),
            name: None,
            first_name: Some(first.into()),
            last_name: Some(last.into()),
            first_name_lower_case: None,
            last_name_lower_case: None,
            full_name_lower_case: None,
            email,
            email_lower_case: None,
            phone,
            timezone: Some(region.timezone.into()),
            company_name: None,
            dnd: false,
            dnd_settings: BTreeMap::new(),
            kind: "lead".into(),
            source: Some(source.into()),
            assigned_to: assigned,
            address1: seller.then(|| profile.street_address.clone()),
            city: Some(city.into()),
            state: Some(region.state.into()),
            country: Some("US".into()),
            postal_code: Some(format!("{zip}{:02}", rng.random_range(1..99))),
            website: None,
            tags,
            date_of_birth: None,
            date_added: iso.clone(),
            date_updated: iso,
            last_activity: None,
            custom_fields: vec![CustomFieldValue {
                id: self.catalog.field("contact.lead_type"),
                value: json!(lead_type.as_str()),
            }],
            additional_emails: Vec::new(),
            attachments: Vec::new(),
            attribution_source: Some(json!({
                "sessionSource": source,
                "medium": match source {
                    "Facebook Ads" | "Google Ads" => "paid",
                    "Zillow" | "Realtor.com" => "portal",
                    _ => "organic",
                },
                "mediumId": null
            })),
        };
        contact.refresh_derived();
        NewLead { contact, profile }
    }

    fn unique_email(&mut self, rng: &mut impl Rng, first: &str, last: &str) -> String {
        let domain = EMAIL_DOMAINS
            [script::weighted_index(rng, &EMAIL_DOMAINS.iter().map(|d| d.1).collect::<Vec<_>>())]
        .0;
        let f = first.to_lowercase().replace('\'', "");
        let l = last.to_lowercase().replace('\'', "");
        let base = match rng.random_range(0..4) {
            0 => format!("{f}.{l}"),
            1 => format!("{f}{l}"),
            2 => format!("{}{l}", &f[..1]),
            _ => format!("{f}_{l}"),
        };
        let mut candidate = format!("{base}@{domain}");
        while self.emails.contains(&candidate) {
            candidate = format!("{base}{}@{domain}", rng.random_range(1..9_999));
        }
        self.emails.insert(candidate.clone());
        candidate
    }

    /// Records the answer to `topic` on the contact's custom fields.
    pub fn record_answer(&self, contact: &mut Contact, topic: Topic, p: &Profile) {
        let (key, value) = match topic {
            Topic::Timeline => ("contact.timeline", json!(p.timeline_label())),
            Topic::Budget | Topic::Price => ("contact.budget", json!(p.price)),
            Topic::Location => ("contact.location", json!(format!("{}, {}", p.areas[0], p.areas[1]))),
            Topic::Rooms => {
                set_field(contact, &self.catalog.field("contact.bedrooms"), json!(p.bedrooms));
                ("contact.bathrooms", json!(p.bathrooms))
            }
            Topic::MustHaves => {
                ("contact.must_haves", json!(format!("{}, {}", p.must_haves[0], p.must_haves[1])))
            }
            Topic::Financing => ("contact.financing", json!(p.financing_label())),
            Topic::Address => ("contact.property_address", json!(p.street_address)),
            Topic::Motivation => ("contact.motivation", json!(words::MOTIVATIONS[p.motivation])),
            Topic::Condition => ("contact.home_condition", json!(words::CONDITIONS[p.condition].0)),
        };
        set_field(contact, &self.catalog.field(key), value);
    }
}

fn set_field(contact: &mut Contact, id: &str, value: serde_json::Value) {
    if let Some(f) = contact.custom_fields.iter_mut().find(|f| f.id == id) {
        f.value = value;
    } else {
        contact.custom_fields.push(CustomFieldValue { id: id.to_string(), value });
    }
}

/// Builds the location definitions (location, users, fields, tags, pipelines) for a seed.
pub fn catalog_parts(
    cfg: &SeedConfig,
) -> (Location, Vec<User>, Vec<CustomFieldDef>, Vec<Tag>, Vec<Pipeline>, Catalog) {
    let mut rng = stream_rng(cfg.seed, 1);
    let company_id = ghl_id(&mut rng);
    let users = users(&mut rng, &cfg.location_id);
    let fields = custom_field_defs(&mut rng, &cfg.location_id);
    let tags: Vec<Tag> = TAGS
        .iter()
        .map(|t| Tag { id: ghl_id(&mut rng), name: (*t).into(), location_id: cfg.location_id.clone() })
        .collect();
    let pipelines = pipelines(&mut rng, &cfg.location_id);
    let catalog = Catalog {
        location_id: cfg.location_id.clone(),
        agents: users.iter().map(|u| (u.id.clone(), u.first_name.clone())).collect(),
        field_ids: fields.iter().map(|f| (f.field_key.clone(), f.id.clone())).collect(),
        pipelines: pipelines.clone(),
    };
    (location(&cfg.location_id, &company_id), users, fields, tags, pipelines, catalog)
}

/// Creates a message of `kind` at `at_ms`.
#[allow(clippy::too_many_arguments)]
pub fn make_message(
    rng: &mut impl Rng,
    location_id: &str,
    contact_id: &str,
    conversation_id: &str,
    kind: &str,
    direction: &str,
    body: Option<String>,
    at_ms: i64,
    user_id: Option<String>,
) -> Message {
    let id = ghl_id(rng);
    let (type_code, message_type, content_type) = match kind {
        "Email" => (3, "TYPE_EMAIL", "text/html"),
        "Call" => (1, "TYPE_CALL", "text/plain"),
        _ => (2, "TYPE_SMS", "text/plain"),
    };
    let meta = match kind {
        "Call" => Some(MessageMeta {
            call_duration: Some(rng.random_range(15..600).to_string()),
            call_status: Some(
                ["completed", "completed", "no-answer", "voicemail"]
                    .choose(rng)
                    .copied()
                    .unwrap_or("completed")
                    .into(),
            ),
            email: None,
        }),
        "Email" => Some(MessageMeta {
            call_duration: None,
            call_status: None,
            email: Some(json!({"messageIds": [id.clone()]})),
        }),
        _ => None,
    };
    let outbound = direction == "outbound";
    Message {
        type_code,
        message_type: message_type.into(),
        location_id: location_id.into(),
        contact_id: contact_id.into(),
        conversation_id: conversation_id.into(),
        date_added: iso_from_ms(at_ms),
        body,
        direction: direction.into(),
        status: Some("delivered".into()),
        content_type: content_type.into(),
        attachments: Vec::new(),
        meta,
        source: outbound.then(|| {
            ["app", "workflow", "workflow", "api"].choose(rng).copied().unwrap_or("app").to_string()
        }),
        user_id: if outbound { user_id } else { None },
        subject: None,
        id,
    }
}

/// Generates the whole location. Deterministic: the same `cfg` gives the same data set.
pub fn generate(cfg: &SeedConfig) -> Dataset {
    let (location, users, custom_fields, tags, pipelines, catalog) = catalog_parts(cfg);
    let mut factory = LeadFactory::new(catalog.clone(), cfg.seed);
    let mut rng = stream_rng(cfg.seed, 2);
    let now = cfg.now_ms;
    let n = cfg.contacts;
    let m = cfg.messages_per_contact as f64;

    let mut contacts = Vec::with_capacity(n);
    let mut profiles = Vec::with_capacity(n);
    let mut personas = Vec::with_capacity(n);
    let mut conversations = Vec::new();
    let mut messages = Vec::with_capacity(n * cfg.messages_per_contact + 16);
    let mut notes = Vec::new();
    let mut tasks = Vec::new();

    // Messaged contacts carry a bit more than M so the overall mean is about M.
    let m_eff = m / 0.95;
    for _ in 0..n {
        let mut persona = match script::weighted_index(&mut rng, &[5, 12, 3, 15, 28, 37]) {
            0 => Persona::New,
            1 => Persona::Unresponsive,
            2 => Persona::Stopped,
            3 => Persona::NeedsReply,
            4 => Persona::Dormant,
            _ => Persona::Engaged,
        };
        if cfg.messages_per_contact == 0 {
            persona = Persona::New;
        }
        let age = match persona {
            Persona::New => rng.random_range(5 * MINUTE..48 * HOUR),
            Persona::Dormant => rng.random_range(35 * DAY..120 * DAY),
            _ => {
                let u: f64 = rng.random();
                HOUR + (u.powf(1.3) * (119 * DAY) as f64) as i64
            }
        };
        let added = now - age;
        let NewLead { mut contact, profile } = factory.make(&mut rng, added);
        let first = contact.first_name.clone().unwrap_or_default();
        let agent = contact
            .assigned_to
            .as_ref()
            .and_then(|id| catalog.agents.iter().find(|a| &a.0 == id))
            .cloned()
            .unwrap_or_else(|| catalog.agents.first().cloned().unwrap_or_default());

        // How many messages, and in which directions.
        let mut k = if persona == Persona::New {
            0
        } else {
            // Most conversations are short; about one in eight runs long. Mean factor 1.108.
            let u: f64 = rng.random();
            let factor = if rng.random_bool(0.12) { 2.0 + 2.0 * u } else { 0.3 + 1.1 * u };
            ((m_eff / 1.108 * factor).round() as usize).max(1)
        };
        let dirs: Vec<bool> = match persona {
            Persona::New => Vec::new(),
            Persona::Unresponsive => {
                k = k.min(4);
                vec![true; k]
            }
            Persona::Stopped => {
                // Alternate starting outbound; the lead's last message is STOP.
                k = k.max(2);
                (0..k).map(|i| i % 2 == 0 && i + 1 != k).collect()
            }
            Persona::NeedsReply => (0..k).map(|i| (k - 1 - i) % 2 == 1).collect(),
            Persona::Dormant | Persona::Engaged => (0..k).map(|i| (k - 1 - i) % 2 == 0).collect(),
        };

        // When: the first text minutes after the lead arrives, the last one by persona.
        let t0 = added + rng.random_range(MINUTE..15 * MINUTE);
        let last = match persona {
            Persona::Dormant => {
                let hi = (now - 31 * DAY).min(t0 + 10 * DAY);
                if hi > t0 { rng.random_range(t0..=hi) } else { t0 }
            }
            Persona::NeedsReply => {
                let lo = t0.max(now - 3 * DAY);
                let hi = now - 5 * MINUTE;
                if hi > lo { rng.random_range(lo..=hi) } else { t0 }
            }
            _ => {
                let lo = t0.max(now - 25 * DAY);
                let hi = now - 10 * MINUTE;
                if hi > lo { rng.random_range(lo..=hi) } else { t0 }
            }
        };
        let mut times: Vec<i64> = (0..k)
            .map(|i| {
                if i == 0 {
                    t0
                } else if i + 1 == k {
                    last
                } else if last > t0 {
                    rng.random_range(t0..=last)
                } else {
                    t0
                }
            })
            .collect();
        times.sort_unstable();

        let conversation_id = ghl_id(&mut rng);
        let topics = profile.topics();
        let mut asked: Option<usize> = None;
        let mut answered = 0usize;
        let mut conv_msgs: Vec<Message> = Vec::with_capacity(k);
        for (i, (&outbound, &at)) in dirs.iter().zip(times.iter()).enumerate() {
            let at = at + i as i64; // strictly increasing within a conversation
            let stop = persona == Persona::Stopped && i + 1 == k;
            let (kind, body) = if outbound {
                let roll: f64 = rng.random();
                if persona != Persona::Unresponsive && i > 0 && roll < 0.05 {
                    ("Call", None)
                } else if i == 0 {
                    asked = Some(0);
                    (
                        "SMS",
                        Some(script::intro(
                            &profile,
                            &first,
                            &agent.1,
                            contact.source.as_deref().unwrap_or("our website"),
                        )),
                    )
                } else if persona == Persona::Unresponsive {
                    if roll < 0.3 {
                        (
                            "Email",
                            Some(format!(
                                "Hi {first},\n\nI pulled together a few homes I think you'd like. Let me know if any catch your eye!\n\n{}",
                                agent.1
                            )),
                        )
                    } else {
                        ("SMS", Some(script::nudge(&mut rng, &profile, &first)))
                    }
                } else {
                    let next = asked.map_or(0, |a| a + 1);
                    if next < topics.len() {
                        asked = Some(next);
                        if roll < 0.12 {
                            (
                                "Email",
                                Some(format!(
                                    "Hi {first},\n\n{}\n\nThanks,\n{}",
                                    script::question(&mut rng, topics[next], &profile, &first),
                                    agent.1
                                )),
                            )
                        } else {
                            ("SMS", Some(script::question(&mut rng, topics[next], &profile, &first)))
                        }
                    } else {
                        asked = Some(topics.len());
                        ("SMS", Some(script::offer(&mut rng, &profile)))
                    }
                }
            } else if stop {
                ("SMS", Some("STOP".to_string()))
            } else if i == 0 {
                ("SMS", Some(script::lead_opener(&mut rng, &profile)))
            } else {
                match asked {
                    Some(a) if a < topics.len() => {
                        answered += 1;
                        factory_record(&factory, &mut contact, topics[a], &profile, &mut rng);
                        let mut text = script::answer(&mut rng, topics[a], &profile);
                        // Leads often answer the next question before it is asked.
                        if a + 1 < topics.len() && rng.random_bool(0.35) {
                            answered += 1;
                            asked = Some(a + 1);
                            factory_record(&factory, &mut contact, topics[a + 1], &profile, &mut rng);
                            let more = script::answer(&mut rng, topics[a + 1], &profile);
                            text = format!("{text}. {more}");
                        }
                        ("SMS", Some(text))
                    }
                    _ => ("SMS", Some(script::lead_followup(&mut rng))),
                }
            };
            let mut msg = make_message(
                &mut rng,
                &cfg.location_id,
                &contact.id,
                &conversation_id,
                kind,
                if outbound { "outbound" } else { "inbound" },
                body,
                at,
                Some(agent.0.clone()),
            );
            if kind == "Email" {
                msg.subject = Some(script::email_subject(&mut rng, &profile));
            }
            conv_msgs.push(msg);
        }

        // Tags and DND that follow from the conversation.
        let tags = &mut contact.tags;
        if answered < 2 && persona != Persona::Stopped {
            tags.push("Needs Qualifying".into());
        }
        if persona == Persona::Dormant {
            tags.push("Cold Lead".into());
        } else if answered >= 4 && profile.timeline <= 2 {
            tags.push("Hot Lead".into());
        } else if answered >= 2 {
            tags.push("Warm Lead".into());
        }
        if profile.lead_type == LeadType::Buyer {
            if profile.financing == 0 && answered >= 2 {
                tags.push("Pre-Approved".into());
            }
            if profile.financing == 2 && answered >= 2 {
                tags.push("Cash Buyer".into());
            }
            if rng.random_bool(0.15) {
                tags.push("First-Time Buyer".into());
            }
        }
        if rng.random_bool(0.05) {
            tags.push("Investor".into());
        }
        if profile.region.state != "TX" && rng.random_bool(0.5) {
            tags.push("Relocation".into());
        }
        if persona == Persona::Stopped {
            let stop_at = conv_msgs.last().map(|m| m.date_added.clone());
            contact.dnd_settings.insert(
                "SMS".into(),
                DndSetting {
                    status: "active".into(),
                    message: Some("Inbound STOP received".into()),
                    code: Some(json!("21610")),
                },
            );
            if let Some(at) = stop_at {
                contact.date_updated = at;
            }
        } else if rng.random_bool(0.01) {
            contact.dnd = true;
            for ch in ["Call", "Email", "SMS", "WhatsApp", "GMB", "FB"] {
                contact.dnd_settings.insert(
                    ch.into(),
                    DndSetting {
                        status: "active".into(),
                        message: Some("Asked not to be contacted".into()),
                        code: None,
                    },
                );
            }
        }
        if let Some(lm) = conv_msgs.last() {
            contact.last_activity = Some(lm.date_added.clone());
            if persona != Persona::Stopped {
                // The agent last touched the record around the last message.
                let lm_ms = crate::time::ms_from_iso(&lm.date_added).unwrap_or(added);
                let upd = (lm_ms - rng.random_range(0..HOUR)).max(added);
                contact.date_updated = iso_from_ms(upd);
            }
            let unread = conv_msgs.iter().rev().take_while(|m| m.direction == "inbound").count() as u32;
            let first_ms =
                conv_msgs.first().and_then(|m| crate::time::ms_from_iso(&m.date_added)).unwrap_or(added);
            let last_ms = crate::time::ms_from_iso(&lm.date_added).unwrap_or(added);
            conversations.push(Conversation {
                id: conversation_id.clone(),
                contact_id: contact.id.clone(),
                location_id: cfg.location_id.clone(),
                last_message_body: lm.body.clone().unwrap_or_default(),
                last_message_type: lm.message_type.clone(),
                last_message_direction: Some(lm.direction.clone()),
                last_message_date: last_ms,
                kind: "TYPE_PHONE".into(),
                unread_count: unread,
                full_name: contact.display_name(),
                contact_name: contact.display_name(),
                email: contact.email.clone(),
                phone: contact.phone.clone(),
                date_added: first_ms,
                date_updated: last_ms,
                inbox: true,
                starred: false,
                deleted: false,
                assigned_to: contact.assigned_to.clone(),
            });
        }
        messages.extend(conv_msgs);

        // Notes and tasks an agent would leave.
        if persona != Persona::New && rng.random_bool(0.2) {
            let at = crate::time::ms_from_iso(&contact.date_updated).unwrap_or(added);
            let body = match profile.lead_type {
                LeadType::Buyer => format!(
                    "Spoke with {first}. {} with {}, budget around ${}k. Wants {} bed in {} or {}.",
                    profile.financing_label(),
                    profile.lender,
                    profile.price / 1000,
                    profile.bedrooms,
                    profile.areas[0],
                    profile.areas[1]
                ),
                LeadType::Seller => format!(
                    "Seller at {}. {}. Condition: {}. Thinks it's worth ${}k.",
                    profile.street_address,
                    words::MOTIVATIONS[profile.motivation],
                    words::CONDITIONS[profile.condition].0,
                    profile.price / 1000
                ),
            };
            notes.push(Note {
                id: ghl_id(&mut rng),
                body,
                user_id: Some(agent.0.clone()),
                date_added: iso_from_ms(at),
                contact_id: contact.id.clone(),
                title: Some("Call summary".into()),
                color: None,
                pinned: rng.random_bool(0.1),
            });
        }
        if persona != Persona::Stopped && rng.random_bool(0.15) {
            let due = now + rng.random_range(-7 * DAY..7 * DAY);
            let title = match (profile.lead_type, rng.random_range(0..3)) {
                (LeadType::Buyer, 0) => format!("Send {first} listings in {}", profile.areas[0]),
                (LeadType::Buyer, 1) => format!("Check in with {first} about pre-approval"),
                (LeadType::Seller, 0) => format!("Prepare CMA for {}", profile.street_address),
                (LeadType::Seller, 1) => format!("Schedule listing appointment with {first}"),
                _ => format!("Call {first} back"),
            };
            tasks.push(Task {
                id: ghl_id(&mut rng),
                title,
                body: Some(format!("Lead source: {}", contact.source.as_deref().unwrap_or("Unknown"))),
                assigned_to: contact.assigned_to.clone(),
                due_date: iso_from_ms(due),
                completed: due < now && rng.random_bool(0.6),
                contact_id: contact.id.clone(),
            });
        }
        personas.push(persona);
        profiles.push(profile);
        contacts.push(contact);
    }

    let mut opportunities = make_opportunities(cfg, &catalog, &contacts, &profiles, &personas);
    opportunities.extend(closed_history(cfg, &catalog, &contacts, &profiles, &personas));
    let mut ds = Dataset {
        location,
        users,
        custom_fields,
        tags,
        pipelines,
        contacts,
        opportunities,
        conversations,
        messages,
        notes,
        tasks,
    };
    extras::enrich(&mut ds, cfg.seed);
    ds
}

/// Custom fields are filled for most, not all, answered questions (agents skip some).
fn factory_record(
    factory: &LeadFactory,
    contact: &mut Contact,
    topic: Topic,
    profile: &Profile,
    rng: &mut impl Rng,
) {
    if rng.random_bool(0.8) {
        factory.record_answer(contact, topic, profile);
    }
}

fn make_opportunities(
    cfg: &SeedConfig,
    catalog: &Catalog,
    contacts: &[Contact],
    profiles: &[Profile],
    personas: &[Persona],
) -> Vec<Opportunity> {
    let n = contacts.len();
    let count = cfg.opportunities.unwrap_or(n / 5);
    if n == 0 || count == 0 {
        return Vec::new();
    }
    let mut rng = stream_rng(cfg.seed, 3);
    // A deterministic random order of contacts; more deals than contacts wrap around.
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = rng.random_range(0..=i);
        order.swap(i, j);
    }
    let mut out = Vec::with_capacity(count);
    for k in 0..count {
        let idx = order[k % n];
        let c = &contacts[idx];
        let p = &profiles[idx];
        let Some(pipeline) = catalog.pipeline_for(p.lead_type) else {
            continue;
        };
        let stages = &pipeline.stages;
        let status = match personas[idx] {
            Persona::New => "open",
            Persona::Stopped => {
                if rng.random_bool(0.7) {
                    "lost"
                } else {
                    "abandoned"
                }
            }
            Persona::Dormant => {
                ["open", "lost", "abandoned", "won"][script::weighted_index(&mut rng, &[45, 25, 20, 10])]
            }
            _ => ["open", "won", "lost", "abandoned"][script::weighted_index(&mut rng, &[68, 14, 12, 6])],
        };
        let last_stage = stages.len().saturating_sub(1);
        let stage_idx = match (status, personas[idx]) {
            ("won", _) => last_stage,
            (_, Persona::New) => 0,
            ("open", _) => rng.random_range(0..last_stage.max(1)),
            _ => rng.random_range(0..(last_stage / 2).max(1)),
        };
        let stage = &stages[stage_idx.min(last_stage)];
        let added = crate::time::ms_from_iso(&c.date_added).unwrap_or(cfg.now_ms);
        let created = added + rng.random_range(0..2 * HOUR);
        let updated = if cfg.now_ms > created { rng.random_range(created..=cfg.now_ms) } else { created };
        let value = if status == "won" {
            // The agent books the commission-bearing sale price.
            (p.price as f64 * rng.random_range(0.95..1.03) / 1000.0).round() * 1000.0
        } else {
            p.price as f64
        };
        let suffix = if k >= n { format!(" #{}", k / n + 1) } else { String::new() };
        out.push(Opportunity {
            id: ghl_id(&mut rng),
            name: format!(
                "{} - {}{suffix}",
                c.display_name(),
                match p.lead_type {
                    LeadType::Buyer => "Buyer",
                    LeadType::Seller => "Listing",
                }
            ),
            monetary_value: value,
            pipeline_id: pipeline.id.clone(),
            pipeline_stage_id: stage.id.clone(),
            status: status.into(),
            location_id: cfg.location_id.clone(),
            ..Opportunity::of_contact(c, iso_from_ms(created), iso_from_ms(updated))
        });
    }
    out
}

/// [`SeedConfig::closed_history`]: past deals on the leads who are not new, closed in the last
/// two days, won with a chance that follows how the lead engaged.
fn closed_history(
    cfg: &SeedConfig,
    catalog: &Catalog,
    contacts: &[Contact],
    profiles: &[Profile],
    personas: &[Persona],
) -> Vec<Opportunity> {
    let eligible: Vec<usize> = (0..contacts.len()).filter(|&i| personas[i] != Persona::New).collect();
    if eligible.is_empty() || cfg.closed_history == 0 {
        return Vec::new();
    }
    let mut rng = stream_rng(cfg.seed, 13);
    let mut out = Vec::with_capacity(cfg.closed_history);
    for k in 0..cfg.closed_history {
        let idx = eligible[rng.random_range(0..eligible.len())];
        let (c, p) = (&contacts[idx], &profiles[idx]);
        let Some(pipeline) = catalog.pipeline_for(p.lead_type) else {
            continue;
        };
        let win = match personas[idx] {
            Persona::Engaged => 0.6,
            Persona::NeedsReply => 0.45,
            Persona::Dormant => 0.15,
            Persona::Unresponsive => 0.1,
            Persona::Stopped | Persona::New => 0.0,
        };
        let status = if rng.random_bool(win) {
            "won"
        } else if rng.random_bool(0.7) {
            "lost"
        } else {
            "abandoned"
        };
        let stages = &pipeline.stages;
        let last_stage = stages.len().saturating_sub(1);
        let stage_idx =
            if status == "won" { last_stage } else { rng.random_range(0..(last_stage / 2).max(1)) };
        let added = crate::time::ms_from_iso(&c.date_added).unwrap_or(cfg.now_ms);
        let created = added + rng.random_range(0..2 * HOUR);
        // Closed in the last two days, after the conversation the seed gave the lead, so the
        // lead's engagement is known as of the close.
        let closed = (cfg.now_ms - rng.random_range(0..2 * DAY)).max(created);
        let value = (p.price as f64 * rng.random_range(0.95..1.03) / 1000.0).round() * 1000.0;
        out.push(Opportunity {
            id: ghl_id(&mut rng),
            name: format!("{} - earlier deal #{}", c.display_name(), k + 1),
            monetary_value: value,
            pipeline_id: pipeline.id.clone(),
            pipeline_stage_id: stages.get(stage_idx).map(|s| s.id.clone()).unwrap_or_default(),
            status: status.into(),
            location_id: cfg.location_id.clone(),
            ..Opportunity::of_contact(c, iso_from_ms(created), iso_from_ms(closed))
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_history_adds_past_deals_and_leaves_the_rest_alone() {
        let plain = generate(&small());
        let with = generate(&SeedConfig { closed_history: 250, ..small() });
        assert_eq!(with.contacts, plain.contacts);
        assert_eq!(with.messages, plain.messages);
        assert_eq!(with.opportunities[..plain.opportunities.len()], plain.opportunities[..]);
        let extra = &with.opportunities[plain.opportunities.len()..];
        assert_eq!(extra.len(), 250);
        let won = extra.iter().filter(|o| o.status == "won").count();
        assert!(extra.iter().all(|o| o.status != "open"));
        assert!((40..=180).contains(&won), "{won} won of 250");
        let again = generate(&SeedConfig { closed_history: 250, ..small() });
        assert_eq!(again.opportunities, with.opportunities, "deterministic");
    }

    fn small() -> SeedConfig {
        SeedConfig { contacts: 300, seed: 9, ..SeedConfig::default() }
    }

    #[test]
    fn deterministic() {
        let a = serde_json::to_string(&generate(&small())).expect("serialises");
        let b = serde_json::to_string(&generate(&small())).expect("serialises");
        assert_eq!(a, b);
        let c = serde_json::to_string(&generate(&SeedConfig { seed: 10, ..small() })).expect("serialises");
        assert_ne!(a, c);
    }

    #[test]
    fn sizes_and_uniqueness() {
        let d = generate(&small());
        assert_eq!(d.contacts.len(), 300);
        assert_eq!(d.opportunities.len(), 60);
        let msgs = d.messages.len() as f64;
        assert!((600.0..1200.0).contains(&msgs), "messages {msgs}");
        let ids: HashSet<_> = d.contacts.iter().map(|c| &c.id).collect();
        assert_eq!(ids.len(), 300);
        let phones: Vec<_> = d.contacts.iter().filter_map(|c| c.phone.as_ref()).collect();
        let unique: HashSet<_> = phones.iter().collect();
        assert_eq!(phones.len(), unique.len());
        let emails: Vec<_> = d.contacts.iter().filter_map(|c| c.email.as_ref()).collect();
        let unique: HashSet<_> = emails.iter().collect();
        assert_eq!(emails.len(), unique.len());
    }

    #[test]
    fn looks_like_real_leads() {
        let d = generate(&SeedConfig { contacts: 2000, ..small() });
        let now = SeedConfig::default().now_ms;
        // Time zones match area codes.
        for c in &d.contacts {
            if let Some(p) = &c.phone {
                let r = words::region_of_phone(p).expect("known area code");
                assert_eq!(c.timezone.as_deref(), Some(r.timezone));
            }
            let added = crate::time::ms_from_iso(&c.date_added).expect("iso");
            assert!(added <= now && added >= now - 121 * DAY);
            assert!(crate::time::ms_from_iso(&c.date_updated).expect("iso") >= added);
        }
        // Some STOP/DND, some with answers in custom fields, qualifying text in messages.
        assert!(d.contacts.iter().any(|c| c.dnd_blocks("SMS")));
        assert!(d.contacts.iter().any(|c| c.custom_fields.len() > 3));
        assert!(d.contacts.iter().any(|c| c.custom_fields.len() == 1));
        assert!(d.messages.iter().any(|m| m.body.as_deref().is_some_and(|b| b.contains("bed"))));
        assert!(d.messages.iter().any(|m| m.body.as_deref() == Some("STOP")));
        // Won and lost deals in both pipelines.
        for s in ["open", "won", "lost", "abandoned"] {
            assert!(d.opportunities.iter().any(|o| o.status == s), "{s}");
        }
        // Dormant and needs-reply conversations exist.
        assert!(d.conversations.iter().any(|c| c.last_message_date < now - 30 * DAY));
        assert!(d.conversations.iter().any(|c| c.last_message_direction.as_deref() == Some("inbound")));
        // Contacts with no messages at all (speed to lead).
        assert!(d.contacts.len() > d.conversations.len());
        // Every message belongs to a known contact and conversation.
        let convs: HashSet<_> = d.conversations.iter().map(|c| &c.id).collect();
        assert!(d.messages.iter().all(|m| convs.contains(&m.conversation_id)));
    }

    #[test]
    fn ids_look_like_ghl() {
        let mut rng = stream_rng(1, 0);
        let id = ghl_id(&mut rng);
        assert_eq!(id.len(), 20);
        assert!(id.chars().all(|c| c.is_ascii_alphanumeric()));
        let u = uuid_like(&mut rng);
        assert_eq!(u.len(), 36);
    }
}
