//! Property matching (business-rules.md §6): which listings fit a lead, each with its reasons.
//!
//! Pure: the lead's wishes come from its custom fields and qualification answers
//! ([`Preferences::of`]), the listings from a prepared [`ListingSet`], and [`best_matches`]
//! scores them. The weights are the enhanced matcher's traditional group (budget .20,
//! location .15, bedrooms .10, bathrooms .05, property type .05, living area .05), scaled so
//! they make 100 points; the lifestyle and contextual groups need data no listing feed here
//! carries (schools, commute, HOA), so they are left out rather than guessed. Each factor
//! earns all of its weight when the listing meets the wish, part of it on a near miss (the
//! basic strategy's +10 % over budget, one bedroom fewer), and half of it when the lead has not
//! said (the basic strategy's "not given" column), so a lead that said less never outranks one
//! whose every wish is met. A lead that named places sees only listings in them
//! ([`best_matches`]).

use std::collections::HashMap;

use leadline_shared::domain::{Contact, CustomFieldDef, Qualification};
use leadline_shared::protocol::{Listing, ListingMatch, MatchReason};

/// How many matches a lead shows.
pub const BEST: usize = 5;
/// The lowest score kept (the predecessor's callers asked for 0.5 and up).
pub const MIN_SCORE: f64 = 50.0;

/// A factor's weight out of 100: §6's traditional weights (.60 in all) scaled up.
const W_BUDGET: f64 = 20.0 / 0.60;
const W_LOCATION: f64 = 15.0 / 0.60;
const W_BEDROOMS: f64 = 10.0 / 0.60;
const W_BATHROOMS: f64 = 5.0 / 0.60;
const W_TYPE: f64 = 5.0 / 0.60;
const W_AREA: f64 = 5.0 / 0.60;

/// The share of a factor's weight earned when the lead has not said what it wants.
const NOT_GIVEN: f64 = 0.5;

/// What a lead wants, as far as it has said.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Preferences {
    /// The most it would pay, in dollars.
    pub budget: Option<f64>,
    /// Places named one by one (a custom field such as "Plano, Frisco"), lowercase.
    pub areas: Vec<String>,
    /// The same places as the lead wrote them, for the reasons.
    pub area_names: Vec<String>,
    /// The location answer as written ("Looking in Plano or Frisco"), lowercase: a listing
    /// whose city or neighbourhood it names is in the area.
    pub location_text: Option<String>,
    pub bedrooms: Option<u32>,
    pub bathrooms: Option<u32>,
    pub property_type: Option<Kind>,
    /// The least living area, in square feet.
    pub living_area: Option<f64>,
}

impl Preferences {
    /// True when nothing a listing could be matched on is known.
    pub fn is_empty(&self) -> bool {
        self.budget.is_none()
            && self.areas.is_empty()
            && self.location_text.is_none()
            && self.bedrooms.is_none()
            && self.bathrooms.is_none()
            && self.property_type.is_none()
            && self.living_area.is_none()
    }

    /// Reads a lead's wishes: its custom fields first (by key: `budget`, `location`,
    /// `bedrooms`, `bathrooms`, `property_type`, `sqft`, ...), then what its qualification
    /// answers say (amounts, "3 bed 2 bath", "condo", the location answer).
    pub fn of(contact: &Contact, fields: &PreferenceFields, q: &Qualification) -> Preferences {
        let mut p = Preferences::default();
        for field in &contact.custom_fields {
            let Some(key) = fields.by_id.get(&field.id) else { continue };
            let Some(text) = value_text(&field.value) else { continue };
            match key {
                Field::Budget => p.budget = p.budget.or_else(|| max_money(&text)),
                Field::Location => {
                    if p.areas.is_empty() {
                        p.area_names = split_areas(&text);
                        p.areas = p.area_names.iter().map(|a| a.to_lowercase()).collect();
                    }
                }
                Field::Bedrooms => p.bedrooms = p.bedrooms.or_else(|| first_number(&text)),
                Field::Bathrooms => p.bathrooms = p.bathrooms.or_else(|| first_number(&text)),
                Field::PropertyType => p.property_type = p.property_type.or_else(|| Kind::of(&text)),
                Field::LivingArea => {
                    p.living_area = p.living_area.or_else(|| first_number(&text).map(f64::from))
                }
            }
        }
        if p.budget.is_none() {
            p.budget = q.budget.as_deref().and_then(max_money);
        }
        if p.areas.is_empty()
            && let Some(text) = q.location.as_deref()
        {
            p.location_text = Some(text.to_lowercase());
        }
        if let Some(text) = q.property.as_deref() {
            let lower = text.to_lowercase();
            p.bedrooms = p.bedrooms.or_else(|| count_before(&lower, &["bedroom", "bed", "bd", "br"]));
            p.bathrooms = p.bathrooms.or_else(|| count_before(&lower, &["bathroom", "bath", "ba"]));
            p.property_type = p.property_type.or_else(|| Kind::of(&lower));
        }
        p
    }
}

/// Which custom fields hold which wish, from the location's field definitions.
#[derive(Debug, Clone, Default)]
pub struct PreferenceFields {
    by_id: HashMap<String, Field>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Budget,
    Location,
    Bedrooms,
    Bathrooms,
    PropertyType,
    LivingArea,
}

impl PreferenceFields {
    /// Maps the location's custom fields to the wishes they hold, by field key.
    pub fn new(defs: &[CustomFieldDef]) -> PreferenceFields {
        let by_id = defs
            .iter()
            .filter_map(|def| {
                let field = match def.short_key().as_str() {
                    "budget" | "budget_max" | "budget_confirmed" | "max_price" | "price_range" => {
                        Field::Budget
                    }
                    "location" | "preferred_location" | "area" | "neighborhood" | "preferred_city" => {
                        Field::Location
                    }
                    "bedrooms" | "beds" | "min_bedrooms" => Field::Bedrooms,
                    "bathrooms" | "baths" | "min_bathrooms" => Field::Bathrooms,
                    "property_type" | "home_type" => Field::PropertyType,
                    "sqft" | "square_feet" | "living_area" | "min_sqft" => Field::LivingArea,
                    _ => return None,
                };
                Some((def.id.clone(), field))
            })
            .collect();
        PreferenceFields { by_id }
    }
}

/// A kind of home, read from RESO property types and sub-types and from what leads write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    House,
    Condo,
    Townhouse,
    MultiFamily,
    Land,
}

impl Kind {
    /// The kind a text names, if any ("Single Family Residence", "condo", "townhome").
    pub fn of(text: &str) -> Option<Kind> {
        let t = text.to_lowercase();
        let has = |words: &[&str]| words.iter().any(|w| t.contains(w));
        if has(&["condo", "apartment", "co-op", "coop"]) {
            Some(Kind::Condo)
        } else if has(&["townho", "town ho", "row house", "rowhouse"]) {
            Some(Kind::Townhouse)
        } else if has(&["duplex", "triplex", "fourplex", "multi", "residential income"]) {
            Some(Kind::MultiFamily)
        } else if has(&["land", "lot", "acreage"]) {
            Some(Kind::Land)
        } else if has(&["single family", "single-family", "house", "detached", "residential"]) {
            Some(Kind::House)
        } else {
            None
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Kind::House => "house",
            Kind::Condo => "condo",
            Kind::Townhouse => "townhouse",
            Kind::MultiFamily => "multi-family",
            Kind::Land => "land",
        }
    }
}

/// A listing made ready for matching: what it is searched by, lowercased once.
#[derive(Debug, Clone)]
struct Prepared {
    listing: Listing,
    /// Street, neighbourhood, city and postal code, lowercase, separated by `|`.
    place: String,
    /// The places a lead's free-text answer may name: neighbourhood, then city.
    names: Vec<String>,
    kind: Option<Kind>,
    /// Whether it is for sale (active, coming soon, or no status given).
    open: bool,
}

/// The listings, prepared once per import so that matching a lead is one pass of arithmetic
/// and short substring checks.
#[derive(Debug, Clone, Default)]
pub struct ListingSet {
    items: Vec<Prepared>,
}

impl ListingSet {
    /// Prepares the listings.
    pub fn new(listings: Vec<Listing>) -> ListingSet {
        let items = listings
            .into_iter()
            .map(|listing| {
                let parts = [&listing.street, &listing.subdivision, &listing.city, &listing.postal_code];
                let place = parts
                    .iter()
                    .filter_map(|p| p.as_deref())
                    .map(str::to_lowercase)
                    .collect::<Vec<_>>()
                    .join("|");
                let names = [&listing.subdivision, &listing.city]
                    .iter()
                    .filter_map(|p| p.as_deref())
                    .map(|s| s.trim().to_lowercase())
                    .filter(|s| s.len() >= 3)
                    .collect();
                let kind = listing.property_type.as_deref().and_then(Kind::of);
                let open = listing.status.as_deref().is_none_or(is_open);
                Prepared { listing, place, names, kind, open }
            })
            .collect();
        ListingSet { items }
    }

    /// How many listings it holds.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// Whether a RESO `StandardStatus` is a home still for sale.
fn is_open(status: &str) -> bool {
    let s = status.trim().to_ascii_lowercase().replace([' ', '_', '-'], "");
    matches!(s.as_str(), "" | "active" | "comingsoon" | "activeundercontract" | "new")
}

/// The listings that fit `prefs` best: at most `n`, each scoring at least [`MIN_SCORE`], best
/// first (then the price nearest the budget, then the listing id). Sold and pending listings
/// are left out. Empty when nothing is known of the lead's wishes.
///
/// A lead that named places sees only listings in them, as an agent's search starts from the
/// area: a house in the wrong town meeting every other wish still scores 75, and would
/// otherwise be offered. The places are those of a location field, or those of the location
/// answer that some listing is in; an answer that names none ("close to work") places nothing,
/// so it narrows nothing and only earns no location points.
pub fn best_matches(prefs: &Preferences, set: &ListingSet, n: usize) -> Vec<ListingMatch> {
    if prefs.is_empty() || n == 0 {
        return Vec::new();
    }
    let open = || set.items.iter().filter(|i| i.open);
    let in_area_only = !prefs.areas.is_empty()
        || (prefs.location_text.is_some() && open().any(|i| place_match(prefs, i).is_some()));
    // Only the score is computed for every listing; the reasons (words) for the few kept.
    let mut top: Vec<(f64, f64, &Prepared)> = Vec::with_capacity(n + 1);
    for item in open() {
        if in_area_only && place_match(prefs, item).is_none() {
            continue;
        }
        let score = factors(prefs, item).iter().map(|f| f.points).sum::<f64>();
        if score + 1e-9 < MIN_SCORE {
            continue;
        }
        let gap = match (prefs.budget, item.listing.list_price) {
            (Some(b), Some(p)) => (b - p).abs(),
            _ => f64::MAX,
        };
        let better = |a: &(f64, f64, &Prepared)| {
            score > a.0 + 1e-9
                || ((score - a.0).abs() <= 1e-9
                    && (gap < a.1 || (gap == a.1 && item.listing.listing_id < a.2.listing.listing_id)))
        };
        let at = top.iter().position(better).unwrap_or(top.len());
        if at < n {
            top.insert(at, (score, gap, item));
            top.truncate(n);
        }
    }
    top.into_iter()
        .map(|(score, _, item)| ListingMatch {
            listing: item.listing.clone(),
            score: score.round().clamp(0.0, 100.0) as u8,
            reasons: reasons(prefs, item),
        })
        .collect()
}

/// A factor's outcome before it is put in words.
#[derive(Debug, Clone, Copy)]
struct Outcome {
    points: f64,
    weight: f64,
    met: bool,
}

fn outcome(weight: f64, share: f64) -> Outcome {
    Outcome { points: weight * share, weight, met: share >= 1.0 }
}

/// Each factor's points, in the order of [`reasons`].
fn factors(p: &Preferences, item: &Prepared) -> [Outcome; 6] {
    let l = &item.listing;
    let budget = match (p.budget, l.list_price) {
        (None, _) => NOT_GIVEN,
        (Some(_), None) => 0.0,
        (Some(b), Some(price)) if price <= b => 1.0,
        (Some(b), Some(price)) if price <= b * 1.10 => 0.5,
        _ => 0.0,
    };
    let location = match place_match(p, item) {
        Some(_) => 1.0,
        None if p.areas.is_empty() && p.location_text.is_none() => NOT_GIVEN,
        None => 0.0,
    };
    let rooms = |want: Option<u32>, have: Option<u32>| match (want, have) {
        (None, _) => NOT_GIVEN,
        (Some(_), None) => 0.0,
        (Some(w), Some(h)) if h >= w => 1.0,
        (Some(w), Some(h)) if h + 1 == w => 1.0 / 3.0,
        _ => 0.0,
    };
    let kind = match (p.property_type, item.kind) {
        (None, _) => NOT_GIVEN,
        (Some(w), Some(h)) if w == h => 1.0,
        _ => 0.0,
    };
    let area = match (p.living_area, l.living_area) {
        (None, _) => NOT_GIVEN,
        (Some(_), None) => 0.0,
        (Some(w), Some(h)) if h >= w => 1.0,
        (Some(w), Some(h)) if h >= w * 0.9 => 0.5,
        _ => 0.0,
    };
    [
        outcome(W_BUDGET, budget),
        outcome(W_LOCATION, location),
        outcome(W_BEDROOMS, rooms(p.bedrooms, l.bedrooms)),
        outcome(W_BATHROOMS, rooms(p.bathrooms, l.bathrooms)),
        outcome(W_TYPE, kind),
        outcome(W_AREA, area),
    ]
}

/// The place the lead asked for that the listing is in, as the listing names it.
fn place_match<'a>(p: &Preferences, item: &'a Prepared) -> Option<&'a str> {
    let l = &item.listing;
    if p.areas.iter().any(|a| item.place.contains(a.as_str())) {
        // Name the listing's own place the wish matched, neighbourhood first.
        let hit = [&l.subdivision, &l.city, &l.postal_code, &l.street].into_iter().find_map(|part| {
            let part = part.as_deref()?;
            let lower = part.to_lowercase();
            p.areas.iter().any(|a| lower.contains(a.as_str())).then_some(part)
        });
        return Some(hit.unwrap_or(""));
    }
    let text = p.location_text.as_deref()?;
    let at = item.names.iter().position(|name| contains_word(text, name))?;
    [&l.subdivision, &l.city].into_iter().filter_map(|s| s.as_deref()).filter(|s| s.trim().len() >= 3).nth(at)
}

/// Whether `word` occurs in `text` with no letter right before or after it ("plano" in
/// "looking in plano or frisco", not "lake" in "lakewood").
fn contains_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// The factors in words.
fn reasons(p: &Preferences, item: &Prepared) -> Vec<MatchReason> {
    let l = &item.listing;
    let [budget, location, beds, baths, kind, area] = factors(p, item);
    let reason = |factor: &str, asked: bool, o: Outcome, text: String| MatchReason {
        factor: factor.to_owned(),
        points: (o.points * 10.0).round() / 10.0,
        weight: (o.weight * 10.0).round() / 10.0,
        asked,
        met: asked && o.met,
        text,
    };
    let budget_text = match (p.budget, l.list_price) {
        (None, _) => "budget not known".to_owned(),
        (Some(_), None) => "no list price".to_owned(),
        (Some(b), Some(price)) if price <= b => format!("{} within budget {}", money(price), money(b)),
        (Some(b), Some(price)) => {
            format!("{} is {:.0}% over budget {}", money(price), (price / b - 1.0) * 100.0, money(b))
        }
    };
    let location_text = match place_match(p, item) {
        Some(place) if !place.is_empty() => format!("in {place}"),
        Some(_) => "in the area asked for".to_owned(),
        None if p.areas.is_empty() && p.location_text.is_none() => "area not known".to_owned(),
        None => {
            let asked = if p.area_names.is_empty() {
                "the area asked for".to_owned()
            } else {
                p.area_names.join("/")
            };
            format!("in {}, not {asked}", l.city.as_deref().unwrap_or("another area"))
        }
    };
    let rooms_text = |unit: &str, want: Option<u32>, have: Option<u32>| match (want, have) {
        (None, Some(h)) => format!("{h} {unit}, none asked"),
        (None, None) => format!("{unit} not known"),
        (Some(w), None) => format!("{unit} not listed, {w}+ asked"),
        (Some(w), Some(h)) if h >= w => format!("{h} {unit} meets {w}+"),
        (Some(w), Some(h)) => format!("{h} {unit}, {w}+ asked"),
    };
    let kind_text = match (p.property_type, item.kind) {
        (None, Some(h)) => format!("{}, no type asked", h.as_str()),
        (None, None) => "type not known".to_owned(),
        (Some(w), Some(h)) if w == h => format!("a {} as asked", h.as_str()),
        (Some(w), Some(h)) => format!("a {}, {} asked", h.as_str(), w.as_str()),
        (Some(w), None) => format!("type not listed, {} asked", w.as_str()),
    };
    let area_text = match (p.living_area, l.living_area) {
        (None, Some(h)) => format!("{} sqft, no size asked", thousands(h)),
        (None, None) => "size not known".to_owned(),
        (Some(w), None) => format!("size not listed, {} sqft asked", thousands(w)),
        (Some(w), Some(h)) if h >= w => format!("{} sqft meets {}+", thousands(h), thousands(w)),
        (Some(w), Some(h)) => format!("{} sqft, {}+ asked", thousands(h), thousands(w)),
    };
    vec![
        reason("budget", p.budget.is_some(), budget, budget_text),
        reason("location", !p.areas.is_empty() || p.location_text.is_some(), location, location_text),
        reason("bedrooms", p.bedrooms.is_some(), beds, rooms_text("bd", p.bedrooms, l.bedrooms)),
        reason("bathrooms", p.bathrooms.is_some(), baths, rooms_text("ba", p.bathrooms, l.bathrooms)),
        reason("property_type", p.property_type.is_some(), kind, kind_text),
        reason("living_area", p.living_area.is_some(), area, area_text),
    ]
}

/// `$410k`, `$1.25M`, `$950`.
pub fn money(dollars: f64) -> String {
    if dollars >= 1_000_000.0 {
        let m = dollars / 1_000_000.0;
        let text = format!("{m:.2}");
        format!("${}M", text.trim_end_matches('0').trim_end_matches('.'))
    } else if dollars >= 1_000.0 {
        format!("${:.0}k", dollars / 1_000.0)
    } else {
        format!("${dollars:.0}")
    }
}

fn thousands(n: f64) -> String {
    let n = n.round() as u64;
    if n >= 1_000 { format!("{},{:03}", n / 1_000, n % 1_000) } else { n.to_string() }
}

fn value_text(value: &serde_json::Value) -> Option<String> {
    let text = match value {
        serde_json::Value::Null => return None,
        serde_json::Value::String(s) => s.trim().to_owned(),
        serde_json::Value::Array(items) => items.iter().filter_map(value_text).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    };
    (!text.is_empty()).then_some(text)
}

/// Places named one by one: "Plano, Frisco", "Katy or Sugar Land", "Decatur / Buckhead".
fn split_areas(text: &str) -> Vec<String> {
    text.replace(" or ", ",")
        .replace(" and ", ",")
        .split([',', ';', '/', '&'])
        .map(|s| {
            let s = s.trim();
            let s = s.strip_prefix("the ").or_else(|| s.strip_prefix("The ")).unwrap_or(s);
            s.trim().to_owned()
        })
        .filter(|s| s.len() >= 3)
        .collect()
}

/// The first whole number in a text ("3", "3 bedrooms", "2.5" → 2).
fn first_number(text: &str) -> Option<u32> {
    let digits: String =
        text.chars().skip_while(|c| !c.is_ascii_digit()).take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The count written right before one of `units`: "need 3 bed 2 bath" gives 3 for `bed`.
fn count_before(text: &str, units: &[&str]) -> Option<u32> {
    let words: Vec<&str> = text.split(|c: char| !c.is_ascii_alphanumeric() && c != '.').collect();
    for (i, w) in words.iter().enumerate() {
        let (number, unit) = match w.find(|c: char| !c.is_ascii_digit() && c != '.') {
            // "3bd", "2ba": the number and the unit in one word.
            Some(at) if at > 0 => (&w[..at], &w[at..]),
            _ => match words.get(i + 1) {
                Some(next) => (*w, *next),
                None => continue,
            },
        };
        if units.iter().any(|u| unit == *u || (unit.starts_with(u) && u.len() >= 3))
            && let Ok(n) = number.parse::<f64>()
            && (0.0..=20.0).contains(&n)
        {
            return Some(n.floor() as u32);
        }
    }
    None
}

/// The largest amount of money in a text: "$450k to $500k" → 500,000, "450000" → 450,000,
/// "up to 1.2M" → 1,200,000. Plain numbers under 10,000 are not amounts ("3 months").
pub fn max_money(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    let mut best: Option<f64> = None;
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b',' || bytes[i] == b'.') {
            i += 1;
        }
        let raw = text[start..i].trim_end_matches([',', '.']).replace(',', "");
        let Ok(mut n) = raw.parse::<f64>() else { continue };
        let suffix = text[i..].trim_start().chars().next().map(|c| c.to_ascii_lowercase());
        let word_ends = |len: usize| {
            let rest = text[i..].trim_start();
            !rest[len.min(rest.len())..].chars().next().is_some_and(char::is_alphabetic)
        };
        match suffix {
            Some('k') if word_ends(1) => n *= 1_000.0,
            Some('m') if word_ends(1) => n *= 1_000_000.0,
            _ => {}
        }
        if n >= 10_000.0 {
            best = Some(best.map_or(n, |b: f64| b.max(n)));
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use leadline_shared::domain::CustomFieldValue;

    fn listing(id: &str, price: f64, beds: u32, baths: u32, city: &str, sub: &str) -> Listing {
        Listing {
            listing_id: id.into(),
            list_price: Some(price),
            bedrooms: Some(beds),
            bathrooms: Some(baths),
            living_area: Some(1_900.0),
            street: Some("12 Elm St".into()),
            city: Some(city.into()),
            state: Some("TX".into()),
            postal_code: Some("75024".into()),
            subdivision: Some(sub.into()),
            property_type: Some("Single Family Residence".into()),
            status: Some("Active".into()),
        }
    }

    fn prefs(budget: f64, areas: &[&str], beds: u32, baths: u32) -> Preferences {
        Preferences {
            budget: Some(budget),
            areas: areas.iter().map(|a| a.to_lowercase()).collect(),
            area_names: areas.iter().map(|a| (*a).to_owned()).collect(),
            bedrooms: Some(beds),
            bathrooms: Some(baths),
            ..Preferences::default()
        }
    }

    #[test]
    fn a_listing_meeting_every_wish_scores_all_the_given_factors_and_half_the_rest() {
        let set = ListingSet::new(vec![listing("L1", 410_000.0, 3, 2, "Plano", "Willow Bend")]);
        let m = best_matches(&prefs(450_000.0, &["Plano"], 3, 2), &set, 5);
        assert_eq!(m.len(), 1);
        // Budget, location, bedrooms, bathrooms met (50 of 60 weight); type and size not given.
        let expected: f64 = (20.0 + 15.0 + 10.0 + 5.0 + 0.5 * 5.0 + 0.5 * 5.0) / 0.60;
        assert_eq!(m[0].score, expected.round() as u8);
        let texts: Vec<&str> = m[0].reasons.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "$410k within budget $450k",
                "in Plano",
                "3 bd meets 3+",
                "2 ba meets 2+",
                "house, no type asked",
                "1,900 sqft, no size asked"
            ]
        );
        let sum: f64 = m[0].reasons.iter().map(|r| r.points).sum();
        assert!((sum - expected).abs() < 0.2, "the reasons add up to the score: {sum} vs {expected}");
        let weights: f64 = m[0].reasons.iter().map(|r| r.weight).sum();
        assert!((weights - 100.0).abs() < 0.2);
    }

    #[test]
    fn near_misses_earn_part_of_the_weight() {
        let p = prefs(400_000.0, &["Plano"], 3, 2);
        let over = factors(&p, &ListingSet::new(vec![listing("a", 430_000.0, 2, 2, "Plano", "x")]).items[0]);
        assert!((over[0].points - W_BUDGET * 0.5).abs() < 1e-9, "within +10 %: half");
        assert!((over[2].points - W_BEDROOMS / 3.0).abs() < 1e-9, "one bedroom fewer: a third");
        let far = factors(&p, &ListingSet::new(vec![listing("b", 460_000.0, 1, 1, "Dallas", "x")]).items[0]);
        assert_eq!([far[0].points, far[1].points, far[2].points], [0.0; 3]);
        assert!((far[3].points - W_BATHROOMS / 3.0).abs() < 1e-9, "one bathroom fewer: a third");
        let texts: Vec<String> =
            reasons(&p, &ListingSet::new(vec![listing("b", 460_000.0, 1, 1, "Dallas", "x")]).items[0])
                .into_iter()
                .map(|r| r.text)
                .collect();
        assert_eq!(texts[0], "$460k is 15% over budget $400k");
        assert_eq!(texts[1], "in Dallas, not Plano");
        assert_eq!(texts[2], "1 bd, 3+ asked");
    }

    #[test]
    fn best_first_only_open_listings_and_at_least_the_minimum() {
        let mut sold = listing("sold", 300_000.0, 4, 3, "Plano", "x");
        sold.status = Some("Closed".into());
        let set = ListingSet::new(vec![
            listing("far", 900_000.0, 1, 1, "Austin", "x"),
            listing("ok", 440_000.0, 3, 2, "Frisco", "x"),
            listing("best-b", 420_000.0, 3, 2, "Plano", "x"),
            listing("best-a", 380_000.0, 3, 2, "Plano", "x"),
            sold,
        ]);
        let ids: Vec<String> = best_matches(&prefs(450_000.0, &["Plano"], 3, 2), &set, 5)
            .into_iter()
            .map(|m| m.listing.listing_id)
            .collect();
        // Equal scores: the price nearest the budget first; Frisco's scores 62 but is not in
        // the area asked for.
        assert_eq!(ids, ["best-b", "best-a"]);
        assert!(best_matches(&Preferences::default(), &set, 5).is_empty(), "nothing known, nothing matched");
        assert_eq!(best_matches(&prefs(450_000.0, &["Plano"], 3, 2), &set, 1).len(), 1);
    }

    #[test]
    fn wishes_come_from_custom_fields_then_the_answers() {
        let defs: Vec<CustomFieldDef> =
            [("f1", "contact.budget"), ("f2", "contact.location"), ("f3", "contact.bedrooms")]
                .into_iter()
                .map(|(id, key)| CustomFieldDef {
                    id: id.into(),
                    field_key: key.into(),
                    ..CustomFieldDef::default()
                })
                .collect();
        let fields = PreferenceFields::new(&defs);
        let contact = Contact {
            custom_fields: vec![
                CustomFieldValue { id: "f1".into(), value: serde_json::json!(450000) },
                CustomFieldValue { id: "f2".into(), value: serde_json::json!("Plano, Frisco") },
                CustomFieldValue { id: "f3".into(), value: serde_json::json!(3) },
            ],
            ..Contact::default()
        };
        let q = Qualification {
            property: Some("need 4 bed 2 bath townhouse".into()),
            location: Some("Looking in Katy".into()),
            ..Qualification::default()
        };
        let p = Preferences::of(&contact, &fields, &q);
        assert_eq!(p.budget, Some(450_000.0));
        assert_eq!(p.areas, ["plano", "frisco"]);
        assert_eq!(p.location_text, None, "the field's areas win");
        assert_eq!((p.bedrooms, p.bathrooms), (Some(3), Some(2)), "the field's bedrooms win");
        assert_eq!(p.property_type, Some(Kind::Townhouse));

        let p = Preferences::of(
            &Contact::default(),
            &fields,
            &Qualification {
                budget: Some("Trying to stay under $425,000".into()),
                location: Some("Looking in Lake Highlands or Plano".into()),
                property: Some("At least 3 bedrooms and 2 baths".into()),
                ..Qualification::default()
            },
        );
        assert_eq!(p.budget, Some(425_000.0));
        assert_eq!((p.bedrooms, p.bathrooms), (Some(3), Some(2)));
        let set = ListingSet::new(vec![
            listing("a", 400_000.0, 3, 2, "Dallas", "Lake Highlands"),
            listing("b", 400_000.0, 3, 2, "Lakewood", "x"),
        ]);
        let m = best_matches(&p, &set, 5);
        assert_eq!(m[0].listing.listing_id, "a");
        assert_eq!(m[0].reasons[1].text, "in Lake Highlands");
        assert!(!m.iter().any(|m| m.listing.listing_id == "b" && m.reasons[1].met), "not a word match");
    }

    #[test]
    fn money_and_counts_are_read_from_words() {
        assert_eq!(max_money("$450k to $500k"), Some(500_000.0));
        assert_eq!(max_money("Budget: 450000"), Some(450_000.0));
        assert_eq!(max_money("pre-approved up to 1.2M"), Some(1_200_000.0));
        assert_eq!(max_money("within 3 months"), None);
        assert_eq!(max_money("$425,000."), Some(425_000.0));
        assert_eq!(count_before("need 3 bed 2 bath", &["bed"]), Some(3));
        assert_eq!(count_before("3bd/2ba condo", &["ba"]), Some(2));
        assert_eq!(count_before("2.5 baths", &["bath"]), Some(2));
        assert_eq!(money(1_250_000.0), "$1.25M");
        assert_eq!(money(2_000_000.0), "$2M");
        assert_eq!(split_areas("Katy or Sugar Land / the Heights"), ["Katy", "Sugar Land", "Heights"]);
    }

    #[test]
    fn a_lead_that_named_places_sees_only_listings_there() {
        let set = ListingSet::new(vec![
            listing("wrong-town", 400_000.0, 3, 2, "Dallas", "Lakewood"),
            listing("plano", 445_000.0, 2, 2, "Plano", "Willow Bend"),
        ]);
        let ids = |p: &Preferences| -> Vec<String> {
            best_matches(p, &set, 5).into_iter().map(|m| m.listing.listing_id).collect()
        };
        // Every other wish met (75 points), but in Dallas: never offered to a Plano buyer.
        assert_eq!(ids(&prefs(450_000.0, &["Plano"], 3, 2)), ["plano"]);
        // The same from the location answer, when a listing is in a place it names.
        let answer =
            Preferences { location_text: Some("we love plano".into()), ..prefs(450_000.0, &[], 3, 2) };
        assert_eq!(ids(&answer), ["plano"]);
        // An answer naming no listing's place narrows nothing.
        let vague =
            Preferences { location_text: Some("close to work".into()), ..prefs(450_000.0, &[], 3, 2) };
        assert_eq!(ids(&vague), ["wrong-town", "plano"]);
        // A named place with no listing in it: nothing to offer, rather than the wrong town.
        assert!(ids(&prefs(450_000.0, &["Katy"], 3, 2)).is_empty());
    }

    /// One lead against 5,000 listings, as the lead view asks on every open: far under a
    /// frame even in a debug build (a release build is some 20× faster).
    #[test]
    fn matching_a_lead_against_five_thousand_listings_is_quick() {
        let listings: Vec<Listing> = (0..5_000)
            .map(|i| {
                let city = ["Plano", "Frisco", "Dallas", "Katy", "Austin"][i % 5];
                listing(
                    &format!("L{i:05}"),
                    200_000.0 + (i as f64) * 150.0,
                    1 + (i % 5) as u32,
                    1 + (i % 3) as u32,
                    city,
                    "Oak Hill",
                )
            })
            .collect();
        let set = ListingSet::new(listings);
        let p = Preferences {
            location_text: Some("looking in oak hill or frisco".into()),
            ..prefs(600_000.0, &[], 3, 2)
        };
        let start = std::time::Instant::now();
        let runs = 20;
        for _ in 0..runs {
            assert_eq!(best_matches(&p, &set, BEST).len(), BEST);
        }
        let each = start.elapsed() / runs;
        assert!(each < std::time::Duration::from_millis(50), "one lead took {each:?}");
        eprintln!("matching one lead against 5,000 listings: {each:?}");
    }
}
