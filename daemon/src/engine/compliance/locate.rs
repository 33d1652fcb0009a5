//! Where a recipient is: the time zones they may be in and the US state whose rules apply.
//!
//! The FCC's rule is "local time at the called party's location"; the contact's own time zone
//! and address say that best, the phone's area code is the accepted proxy when they are missing
//! (crm-landscape.md §4 [C1]), and the location's zone is the last resort.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::OnceLock;

use jiff::tz::TimeZone;
use leadline_shared::domain::Contact;
use serde::{Deserialize, Serialize};

use super::TableError;

const AREA_CODES_FILE: &str = "config/compliance/us-area-codes.csv";
const AREA_CODES_CSV: &str = include_str!("../../../../config/compliance/us-area-codes.csv");

/// The US states, DC and the inhabited territories: USPS code and name. Territories are here
/// because the TCPA applies there; no state law of theirs is in the quiet-hours table.
const STATES: [(&str, &str); 56] = [
    ("AL", "Alabama"),
    ("AK", "Alaska"),
    ("AZ", "Arizona"),
    ("AR", "Arkansas"),
    ("CA", "California"),
    ("CO", "Colorado"),
    ("CT", "Connecticut"),
    ("DE", "Delaware"),
    ("DC", "District of Columbia"),
    ("FL", "Florida"),
    ("GA", "Georgia"),
    ("HI", "Hawaii"),
    ("ID", "Idaho"),
    ("IL", "Illinois"),
    ("IN", "Indiana"),
    ("IA", "Iowa"),
    ("KS", "Kansas"),
    ("KY", "Kentucky"),
    ("LA", "Louisiana"),
    ("ME", "Maine"),
    ("MD", "Maryland"),
    ("MA", "Massachusetts"),
    ("MI", "Michigan"),
    ("MN", "Minnesota"),
    ("MS", "Mississippi"),
    ("MO", "Missouri"),
    ("MT", "Montana"),
    ("NE", "Nebraska"),
    ("NV", "Nevada"),
    ("NH", "New Hampshire"),
    ("NJ", "New Jersey"),
    ("NM", "New Mexico"),
    ("NY", "New York"),
    ("NC", "North Carolina"),
    ("ND", "North Dakota"),
    ("OH", "Ohio"),
    ("OK", "Oklahoma"),
    ("OR", "Oregon"),
    ("PA", "Pennsylvania"),
    ("RI", "Rhode Island"),
    ("SC", "South Carolina"),
    ("SD", "South Dakota"),
    ("TN", "Tennessee"),
    ("TX", "Texas"),
    ("UT", "Utah"),
    ("VT", "Vermont"),
    ("VA", "Virginia"),
    ("WA", "Washington"),
    ("WV", "West Virginia"),
    ("WI", "Wisconsin"),
    ("WY", "Wyoming"),
    ("PR", "Puerto Rico"),
    ("VI", "U.S. Virgin Islands"),
    ("GU", "Guam"),
    ("MP", "Northern Mariana Islands"),
    ("AS", "American Samoa"),
];

/// Other spellings of state names seen in address data.
const STATE_ALIASES: [(&str, &str); 9] = [
    ("washington state", "WA"),
    ("washington dc", "DC"),
    ("washington d c", "DC"),
    ("dc", "DC"),
    ("d c", "DC"),
    ("virgin islands", "VI"),
    ("us virgin islands", "VI"),
    ("u s virgin islands", "VI"),
    ("commonwealth of puerto rico", "PR"),
];

/// A US state, DC or territory, by its USPS code (`FL`). Ordered as in the list above.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StateCode(u8);

impl StateCode {
    /// The state with this USPS code (any case): `"fl"` gives FL.
    pub fn from_code(code: &str) -> Option<StateCode> {
        STATES.iter().position(|(c, _)| c.eq_ignore_ascii_case(code.trim())).map(StateCode::at)
    }

    /// The state a code or name means, as people write them in addresses: `FL`, `Florida`,
    /// `florida`, `Washington State`, `Washington, D.C.`.
    pub fn parse(text: &str) -> Option<StateCode> {
        if let Some(s) = StateCode::from_code(text) {
            return Some(s);
        }
        let words: String = text
            .chars()
            .map(|c| if c.is_alphanumeric() { c.to_ascii_lowercase() } else { ' ' })
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if words.is_empty() {
            return None;
        }
        if let Some((_, code)) = STATE_ALIASES.iter().find(|(alias, _)| *alias == words) {
            return StateCode::from_code(code);
        }
        STATES
            .iter()
            .position(|(_, name)| name.to_ascii_lowercase().replace('.', "") == words)
            .map(StateCode::at)
    }

    fn at(index: usize) -> StateCode {
        // STATES has 56 entries: the index always fits.
        StateCode(u8::try_from(index).unwrap_or(u8::MAX))
    }

    /// The USPS code.
    pub fn as_str(&self) -> &'static str {
        STATES.get(usize::from(self.0)).map_or("??", |(c, _)| c)
    }

    /// The state's name.
    pub fn name(&self) -> &'static str {
        STATES.get(usize::from(self.0)).map_or("??", |(_, n)| n)
    }
}

impl fmt::Display for StateCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for StateCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StateCode({})", self.as_str())
    }
}

impl TryFrom<String> for StateCode {
    type Error = String;
    fn try_from(s: String) -> Result<StateCode, String> {
        StateCode::from_code(&s).ok_or_else(|| format!("{s:?} is not a US state code (FL, TX, ...)"))
    }
}

impl From<StateCode> for String {
    fn from(s: StateCode) -> String {
        s.as_str().to_owned()
    }
}

/// A country of the area-code table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Country {
    /// The US with its territories.
    Us,
    Canada,
}

/// How a recipient's zones were found, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocatedBy {
    /// The contact's IANA `timezone` in GHL.
    ContactTimezone,
    /// The contact's address (`state`, `country`).
    ContactState,
    /// The phone number's area code.
    AreaCode,
    /// Nothing about the contact placed them: the location's zone.
    LocationDefault,
}

/// Where a recipient may be. A send must be allowed in every one of `zones`.
#[derive(Debug, Clone, PartialEq)]
pub struct Whereabouts {
    /// One or more zones; empty only when nothing, not even the location's zone, was valid
    /// (then no time is allowed: see [`super::next_allowed`]).
    pub zones: Vec<TimeZone>,
    /// The US state whose rules apply, if known.
    pub state: Option<StateCode>,
    /// Where `zones` came from.
    pub source: LocatedBy,
}

impl Whereabouts {
    /// The recipient is in `zone` (valid IANA name) and `state`: for tests and the CLI.
    pub fn at(zone: &str, state: Option<StateCode>) -> Option<Whereabouts> {
        let zone = TimeZone::get(zone).ok()?;
        Some(Whereabouts { zones: vec![zone], state, source: LocatedBy::LocationDefault })
    }

    /// The zones' IANA names.
    pub fn zone_names(&self) -> Vec<String> {
        self.zones.iter().map(zone_name).collect()
    }
}

/// A zone's IANA name, or its offset when it has none.
pub(super) fn zone_name(zone: &TimeZone) -> String {
    zone.iana_name().map_or_else(|| format!("{zone:?}"), str::to_owned)
}

/// One row of the area-code table.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaCode {
    /// e.g. 305.
    pub code: u16,
    pub country: Country,
    /// The state or province code (`FL`; `NS/PE` for an area code shared by two provinces).
    pub region: String,
    /// The state, for a US area code.
    pub state: Option<StateCode>,
    /// Every zone a number with this area code may be in, one or more.
    pub zones: Vec<TimeZone>,
}

/// The area-code table, with every state's and province's zones derived from it.
#[derive(Debug, Clone)]
pub struct Tables {
    area_codes: HashMap<u16, AreaCode>,
    regions: HashMap<(Country, String), Vec<TimeZone>>,
}

impl Tables {
    /// The table compiled into the binary, parsed on first use.
    pub fn embedded() -> Result<&'static Tables, TableError> {
        static TABLES: OnceLock<Result<Tables, TableError>> = OnceLock::new();
        TABLES.get_or_init(|| Tables::parse(AREA_CODES_CSV)).as_ref().map_err(Clone::clone)
    }

    /// Parses an area-code table: `#` comments, the header `area_code,country,region,zones`,
    /// then one row per area code with its zones separated by spaces.
    pub fn parse(text: &str) -> Result<Tables, TableError> {
        let invalid =
            |line: usize, message: String| TableError::Invalid { file: AREA_CODES_FILE, line, message };
        let mut zone_cache: HashMap<&str, TimeZone> = HashMap::new();
        let mut area_codes = HashMap::new();
        let mut regions: BTreeMap<(Country, String), BTreeSet<String>> = BTreeMap::new();
        let mut zones_by_name: HashMap<String, TimeZone> = HashMap::new();
        let mut header = false;
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let row = raw.trim();
            if row.is_empty() || row.starts_with('#') {
                continue;
            }
            if !header {
                if row != "area_code,country,region,zones" {
                    return Err(invalid(
                        line,
                        format!("expected the header area_code,country,region,zones, found {row:?}"),
                    ));
                }
                header = true;
                continue;
            }
            let fields: Vec<&str> = row.split(',').map(str::trim).collect();
            let [code, country, region, zones] = fields[..] else {
                return Err(invalid(
                    line,
                    format!("expected 4 fields (area_code,country,region,zones), found {}", fields.len()),
                ));
            };
            let code = match code.parse::<u16>() {
                Ok(c) if (200..1000).contains(&c) => c,
                _ => {
                    return Err(invalid(
                        line,
                        format!("area code {code:?} is not three digits starting 2-9"),
                    ));
                }
            };
            let country = match country {
                "US" => Country::Us,
                "CA" => Country::Canada,
                other => return Err(invalid(line, format!("country {other:?} is not US or CA"))),
            };
            let state = match country {
                Country::Us => Some(
                    StateCode::from_code(region)
                        .ok_or_else(|| invalid(line, format!("{region:?} is not a US state code")))?,
                ),
                Country::Canada => None,
            };
            let mut tzs = Vec::new();
            for name in zones.split_whitespace() {
                let tz = match zone_cache.get(name) {
                    Some(tz) => tz.clone(),
                    None => {
                        let tz = TimeZone::get(name).map_err(|e| TableError::UnknownZone {
                            file: AREA_CODES_FILE,
                            line,
                            zone: name.to_owned(),
                            cause: e.to_string(),
                        })?;
                        zone_cache.insert(name, tz.clone());
                        tz
                    }
                };
                zones_by_name.insert(name.to_owned(), tz.clone());
                tzs.push(tz);
            }
            if tzs.is_empty() {
                return Err(invalid(line, format!("area code {code} has no time zone")));
            }
            for part in region.split('/').filter(|p| !p.is_empty()) {
                regions
                    .entry((country, part.to_owned()))
                    .or_default()
                    .extend(zones.split_whitespace().map(str::to_owned));
            }
            let row = AreaCode { code, country, region: region.to_owned(), state, zones: tzs };
            if area_codes.insert(code, row).is_some() {
                return Err(invalid(line, format!("area code {code} is listed twice")));
            }
        }
        if area_codes.is_empty() {
            return Err(invalid(1, "the table has no area codes".into()));
        }
        let regions = regions
            .into_iter()
            .map(|(k, names)| {
                let zones = names.iter().filter_map(|n| zones_by_name.get(n).cloned()).collect();
                (k, zones)
            })
            .collect();
        Ok(Tables { area_codes, regions })
    }

    /// The row of an area code.
    pub fn area_code(&self, code: u16) -> Option<&AreaCode> {
        self.area_codes.get(&code)
    }

    /// Every zone a state's or province's area codes may be in (e.g. FL: Chicago and
    /// New York), sorted by name.
    pub fn region_zones(&self, country: Country, region: &str) -> &[TimeZone] {
        self.regions.get(&(country, region.to_owned())).map_or(&[], Vec::as_slice)
    }

    /// Every row, in no particular order.
    pub fn area_codes(&self) -> impl Iterator<Item = &AreaCode> {
        self.area_codes.values()
    }

    /// Every distinct zone of the table, sorted by name.
    pub fn zones(&self) -> Vec<TimeZone> {
        let mut by_name: BTreeMap<String, TimeZone> = BTreeMap::new();
        for zone in self.area_codes.values().flat_map(|a| a.zones.iter()) {
            by_name.entry(zone_name(zone)).or_insert_with(|| zone.clone());
        }
        by_name.into_values().collect()
    }
}

/// The NANP area code of a phone number written in any common way (`+1 (305) 555-0100`,
/// `305.555.0100`, `13055550100`, `305-555-0100 ext 12`), or None for another country or a
/// number too short to say.
pub fn area_code_of(phone: &str) -> Option<u16> {
    // An extension is not part of the number.
    let lower = phone.to_ascii_lowercase();
    let number = lower.split(['x', '#', ',', ';']).next().unwrap_or("");
    let number = number.split("ext").next().unwrap_or("");
    let plus = number.trim_start().starts_with('+');
    let digits: Vec<u8> = number.bytes().filter(u8::is_ascii_digit).map(|b| b - b'0').collect();
    let national = match (plus, digits.len()) {
        (true, 11) if digits[0] == 1 => &digits[1..],
        (true, _) => return None,
        (false, 10) => &digits[..],
        (false, 11) if digits[0] == 1 => &digits[1..],
        _ => return None,
    };
    // NANP: area code and exchange both start with 2-9.
    if national[0] < 2 || national[3] < 2 {
        return None;
    }
    Some(u16::from(national[0]) * 100 + u16::from(national[1]) * 10 + u16::from(national[2]))
}

/// Zone names that say nothing about where a person is: GHL and imports leave them as
/// defaults, and nobody in the US lives in UTC.
const PLACEHOLDER_ZONES: [&str; 8] =
    ["UTC", "Etc/UTC", "GMT", "Etc/GMT", "Etc/Unknown", "Factory", "UCT", "Zulu"];

/// The contact's own zone, if it names a real place.
fn contact_zone(contact: &Contact) -> Option<TimeZone> {
    let name = contact.timezone.as_deref()?.trim();
    if name.is_empty() || PLACEHOLDER_ZONES.iter().any(|p| p.eq_ignore_ascii_case(name)) {
        return None;
    }
    TimeZone::get(name).ok()
}

/// The state or province of the contact's address.
fn address_region(contact: &Contact, tables: &Tables) -> Option<(Country, String)> {
    let state = contact.state.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let country = contact.country.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let country_words = country.map(|c| {
        c.chars().filter(|c| c.is_alphanumeric() || *c == ' ').collect::<String>().to_ascii_lowercase()
    });
    match country_words.as_deref() {
        // No country: a US state name or code is taken as one.
        None | Some("us" | "usa" | "united states" | "united states of america" | "america") => {
            if let Some(s) = state.and_then(StateCode::parse) {
                return Some((Country::Us, s.as_str().to_owned()));
            }
            None
        }
        // GHL stores a territory's ISO code as its country.
        Some(c @ ("pr" | "vi" | "gu" | "mp" | "as")) => {
            StateCode::from_code(c).map(|s| (Country::Us, s.as_str().to_owned()))
        }
        Some("ca" | "canada") => {
            let code = state?.to_ascii_uppercase();
            (!tables.region_zones(Country::Canada, &code).is_empty()).then_some((Country::Canada, code))
        }
        Some(_) => None,
    }
}

/// Where the recipient is: zones from the contact's IANA `timezone`, else its address's
/// state (narrowed to the area code's zones when the phone is from that same state), else the
/// phone's area code, else `location_zone`. The state comes from the address, else from the
/// area code, even when the zone came from `timezone`.
pub fn locate(contact: &Contact, location_zone: &str, tables: &Tables) -> Whereabouts {
    let phone = contact.phone.as_deref().and_then(area_code_of).and_then(|c| tables.area_code(c));
    let address = address_region(contact, tables);
    let address_state =
        address.as_ref().filter(|(c, _)| *c == Country::Us).and_then(|(_, s)| StateCode::from_code(s));
    let state = address_state.or_else(|| phone.and_then(|p| p.state));

    let (zones, source) = if let Some(zone) = contact_zone(contact) {
        (vec![zone], LocatedBy::ContactTimezone)
    } else if let Some((country, region)) = address.as_ref() {
        let same_region = phone.filter(|p| p.country == *country && p.region.split('/').any(|r| r == region));
        let zones = match same_region {
            Some(p) => p.zones.clone(),
            None => tables.region_zones(*country, region).to_vec(),
        };
        (zones, LocatedBy::ContactState)
    } else if let Some(p) = phone {
        (p.zones.clone(), LocatedBy::AreaCode)
    } else {
        (TimeZone::get(location_zone).ok().into_iter().collect(), LocatedBy::LocationDefault)
    };
    Whereabouts { zones, state, source }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables() -> &'static Tables {
        Tables::embedded().expect("the embedded area-code table parses")
    }

    fn contact(phone: Option<&str>, tz: Option<&str>, state: Option<&str>, country: Option<&str>) -> Contact {
        Contact {
            id: "c".into(),
            phone: phone.map(Into::into),
            timezone: tz.map(Into::into),
            state: state.map(Into::into),
            country: country.map(Into::into),
            ..Default::default()
        }
    }

    #[test]
    fn the_embedded_table_covers_every_state_and_territory() {
        let t = tables();
        for (code, _) in STATES {
            let zones = t.region_zones(Country::Us, code);
            assert!(!zones.is_empty(), "{code} has no area code in the table");
        }
        assert!(t.area_codes().count() > 400, "the table looks truncated");
        let names = |z: &[TimeZone]| z.iter().map(zone_name).collect::<Vec<_>>();
        assert_eq!(names(t.region_zones(Country::Us, "FL")), ["America/Chicago", "America/New_York"]);
        assert_eq!(names(t.region_zones(Country::Us, "HI")), ["Pacific/Honolulu"]);
        assert_eq!(names(&t.area_code(787).expect("787").zones), ["America/Puerto_Rico"]);
        assert_eq!(t.area_code(416).map(|a| (a.country, a.state)), Some((Country::Canada, None)));
    }

    #[test]
    fn area_codes_spanning_zones_give_all_of_them() {
        let t = tables();
        // The six of crates.md, plus 928 (the Navajo Nation keeps DST in Arizona).
        for (code, zone_a, zone_b) in [
            (208, "America/Boise", "America/Los_Angeles"),
            (986, "America/Boise", "America/Los_Angeles"),
            (605, "America/Chicago", "America/Denver"),
            (701, "America/Chicago", "America/Denver"),
            (775, "America/Boise", "America/Los_Angeles"),
            (907, "America/Adak", "America/Anchorage"),
            (928, "America/Denver", "America/Phoenix"),
        ] {
            let row = t.area_code(code).expect("listed");
            let names: Vec<String> = row.zones.iter().map(zone_name).collect();
            assert!(
                names.iter().any(|n| n == zone_a) && names.iter().any(|n| n == zone_b),
                "{code}: {names:?}"
            );
        }
    }

    #[test]
    fn phone_numbers_in_common_formats() {
        for (phone, code) in [
            ("+1 (305) 555-0100", Some(305)),
            ("+13055550100", Some(305)),
            ("13055550100", Some(305)),
            ("1-305-555-0100", Some(305)),
            ("(305) 555 0100", Some(305)),
            ("305.555.0100", Some(305)),
            ("305-555-0100 ext. 12", Some(305)),
            ("305-555-0100x12", Some(305)),
            ("+44 20 7946 0958", None),
            ("+1 305 555", None),
            ("555-0100", None),
            ("(105) 555-0100", None),
            ("(305) 155-0100", None),
            ("", None),
        ] {
            assert_eq!(area_code_of(phone), code, "{phone}");
        }
    }

    #[test]
    fn state_names_and_codes() {
        for (text, code) in [
            ("FL", Some("FL")),
            ("fl", Some("FL")),
            ("Florida", Some("FL")),
            (" new  york ", Some("NY")),
            ("Washington State", Some("WA")),
            ("Washington, D.C.", Some("DC")),
            ("District of Columbia", Some("DC")),
            ("Puerto Rico", Some("PR")),
            ("Ontario", None),
            ("XX", None),
            ("", None),
        ] {
            assert_eq!(StateCode::parse(text).map(|s| s.as_str()), code, "{text}");
        }
    }

    #[test]
    fn the_contacts_timezone_comes_first_and_the_address_gives_the_state() {
        let c = contact(Some("+1 212 555 0100"), Some("America/Chicago"), Some("Texas"), Some("US"));
        let w = locate(&c, "America/New_York", tables());
        assert_eq!(
            (w.zone_names(), w.state.map(|s| s.as_str()), w.source),
            (vec!["America/Chicago".to_owned()], Some("TX"), LocatedBy::ContactTimezone)
        );
        // No address: the state comes from the area code, the zone still from the contact.
        let c = contact(Some("+1 212 555 0100"), Some("America/Chicago"), None, None);
        assert_eq!(locate(&c, "America/New_York", tables()).state.map(|s| s.as_str()), Some("NY"));
    }

    #[test]
    fn a_placeholder_or_invalid_timezone_is_skipped() {
        for tz in ["UTC", "Etc/UTC", "GMT", "Not/AZone", "", "GMT-05:00"] {
            let c = contact(Some("(305) 555-0100"), Some(tz), None, None);
            let w = locate(&c, "America/Denver", tables());
            assert_eq!(
                (w.zone_names(), w.source),
                (vec!["America/New_York".to_owned()], LocatedBy::AreaCode),
                "{tz}"
            );
        }
    }

    #[test]
    fn the_address_state_gives_its_zones_narrowed_by_a_same_state_phone() {
        // Florida spans two zones; a Miami number says which.
        let c = contact(Some("305-555-0100"), None, Some("FL"), None);
        let w = locate(&c, "America/Denver", tables());
        assert_eq!(
            (w.zone_names(), w.source),
            (vec!["America/New_York".to_owned()], LocatedBy::ContactState)
        );
        // A New York number says nothing about where in Florida they live.
        let c = contact(Some("212-555-0100"), None, Some("Florida"), Some("United States"));
        let w = locate(&c, "America/Denver", tables());
        assert_eq!(w.zone_names(), ["America/Chicago", "America/New_York"]);
        assert_eq!(w.state.map(|s| s.as_str()), Some("FL"));
    }

    #[test]
    fn territories_canada_and_other_countries() {
        let c = contact(None, None, None, Some("PR"));
        let w = locate(&c, "America/New_York", tables());
        assert_eq!(
            (w.zone_names(), w.state.map(|s| s.as_str())),
            (vec!["America/Puerto_Rico".to_owned()], Some("PR"))
        );
        let c = contact(Some("+1 416 555 0100"), None, Some("ON"), Some("CA"));
        let w = locate(&c, "America/New_York", tables());
        assert_eq!(
            (w.zone_names(), w.state, w.source),
            (vec!["America/Toronto".to_owned()], None, LocatedBy::ContactState)
        );
        // A UK contact with a UK number: nothing places them but the location.
        let c = contact(Some("+44 20 7946 0958"), None, Some("London"), Some("GB"));
        let w = locate(&c, "America/Denver", tables());
        assert_eq!(
            (w.zone_names(), w.state, w.source),
            (vec!["America/Denver".to_owned()], None, LocatedBy::LocationDefault)
        );
    }

    #[test]
    fn an_area_code_spanning_zones_gives_both() {
        let c = contact(Some("(208) 555-0100"), None, None, None);
        let w = locate(&c, "America/New_York", tables());
        assert_eq!(w.source, LocatedBy::AreaCode);
        assert_eq!(w.state.map(|s| s.as_str()), Some("ID"));
        assert!(w.zones.len() >= 2, "{:?}", w.zone_names());
    }

    #[test]
    fn nothing_valid_gives_no_zone() {
        let c = contact(None, None, None, None);
        let w = locate(&c, "Not/AZone", tables());
        assert!(w.zones.is_empty());
        assert_eq!(w.source, LocatedBy::LocationDefault);
    }

    #[test]
    fn broken_tables_name_the_line() {
        let head = "# comment\narea_code,country,region,zones\n";
        for (body, line, needle) in [
            ("305,US,FL\n", 3, "expected 4 fields"),
            ("305,US,FL,America/New_York\n305,US,FL,America/New_York\n", 4, "listed twice"),
            ("105,US,FL,America/New_York\n", 3, "not three digits"),
            ("305,MX,FL,America/New_York\n", 3, "not US or CA"),
            ("305,US,XX,America/New_York\n", 3, "not a US state"),
            ("305,US,FL,\n", 3, "no time zone"),
            ("305,US,FL,America/Atlantis\n", 3, "America/Atlantis"),
        ] {
            let err = Tables::parse(&format!("{head}{body}")).expect_err(body).to_string();
            assert!(err.contains(&format!("line {line}:")) && err.contains(needle), "{err}");
        }
        let err = Tables::parse("area,code\n").expect_err("bad header").to_string();
        assert!(err.contains("line 1:") && err.contains("header"), "{err}");
        assert!(Tables::parse(head).is_err(), "an empty table is refused");
    }
}
