//! Property listings: reading an MLS export (CSV or JSON with the RESO Data Dictionary names)
//! and the prepared set the daemon matches leads against.
//!
//! [`parse`] is pure (the text and the file's name, for errors only). An import is all or
//! nothing: one unreadable row refuses the file, and the error names every bad line (up to
//! [`MAX_ERRORS`]) with what to fix, so nothing is dropped silently.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

use leadline_shared::protocol::Listing;

use crate::engine::matching::ListingSet;
use crate::store::{Db, StoreError};

/// Bad rows named in one error.
pub const MAX_ERRORS: usize = 10;

/// Why listings could not be imported. Messages say what to fix.
#[derive(Debug, thiserror::Error)]
pub enum ListingError {
    #[error("cannot read {file}: {reason}; check the path and its permissions")]
    Read { file: String, reason: String },
    #[error("{file}: {reason}")]
    Format { file: String, reason: String },
    #[error(
        "{file}: {count} listing(s) cannot be read, so none were imported:\n{list}\nFix those rows and import the file again"
    )]
    Rows { file: String, count: usize, list: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ListingError {
    /// Whether the file is at fault rather than the daemon.
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, ListingError::Store(_))
    }
}

/// Reads a listings file: JSON when it ends in `.json` or starts with `[` or `{`, else CSV
/// (or any delimited text).
pub fn read(path: &Path) -> Result<Vec<Listing>, ListingError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| ListingError::Read { file: file.clone(), reason: e.to_string() })?;
    parse(&text, &file)
}

/// Parses a listings file's text (see [`read`]).
pub fn parse(text: &str, file: &str) -> Result<Vec<Listing>, ListingError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let json = file.to_ascii_lowercase().ends_with(".json") || text.trim_start().starts_with(['[', '{']);
    let rows = if json { json_rows(text, file)? } else { csv_rows(text, file)? };
    listings_of(rows, file)
}

/// One row: its line and its fields by (normalised) column name.
struct Row {
    line: usize,
    fields: HashMap<String, String>,
}

/// Column names compared without case, spaces or underscores: `ListPrice`, `list_price`
/// and `List Price` are one column.
fn norm(name: &str) -> String {
    name.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

fn csv_rows(text: &str, file: &str) -> Result<Vec<Row>, ListingError> {
    let table = crate::model::csv::parse(text, file)
        .map_err(|e| ListingError::Format { file: file.to_owned(), reason: e.to_string() })?;
    let header: Vec<String> = table.header.iter().map(String::as_str).map(norm).collect();
    Ok(table
        .rows
        .into_iter()
        .zip(table.lines)
        .map(|(values, line)| Row { line, fields: header.iter().cloned().zip(values).collect() })
        .collect())
}

fn json_rows(text: &str, file: &str) -> Result<Vec<Row>, ListingError> {
    let format = |reason: String| ListingError::Format { file: file.to_owned(), reason };
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format(format!("line {}: not valid JSON ({e})", e.line())))?;
    // A plain array, or a RESO Web API answer (`{"value": [...]}`).
    let (items, key) = match value {
        serde_json::Value::Array(items) => (items, None),
        serde_json::Value::Object(mut o) => {
            match ["value", "listings"].into_iter().find(|k| o.get(*k).is_some_and(|v| v.is_array())) {
                Some(k) => match o.remove(k) {
                    Some(serde_json::Value::Array(items)) => (items, Some(k)),
                    _ => (Vec::new(), Some(k)),
                },
                None => {
                    return Err(format(
                    "expected an array of listings, or an object with a \"value\" array (a RESO Web API answer)".into(),
                ));
                }
            }
        }
        _ => return Err(format("expected an array of listings".into())),
    };
    let lines = element_lines(text, key);
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let line = lines.get(i).copied().unwrap_or(0);
            let serde_json::Value::Object(map) = item else {
                return Err(format(format!("line {line}: listing {} is not an object", i + 1)));
            };
            let fields = map
                .into_iter()
                .filter_map(|(k, v)| {
                    let text = match v {
                        serde_json::Value::Null => return None,
                        serde_json::Value::String(s) => s,
                        other => other.to_string(),
                    };
                    Some((norm(&k), text))
                })
                .collect();
            Ok(Row { line, fields })
        })
        .collect()
}

/// The line each element of the listings array starts on: the top-level array, or the one
/// under `key` in the top-level object. A small scan that knows strings and nesting.
fn element_lines(text: &str, key: Option<&str>) -> Vec<usize> {
    let mut lines = Vec::new();
    let (mut line, mut depth) = (1usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    let mut string_start = 0;
    let mut last_key: Option<&str> = None;
    // The depth of the array's elements once found, and whether an element is due.
    let mut target: Option<usize> = None;
    let mut expect = false;
    for (i, c) in text.char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => {
                    in_string = false;
                    if depth == 1 {
                        last_key = Some(&text[string_start + 1..i]);
                    }
                }
                '\n' => line += 1,
                _ => {}
            }
            continue;
        }
        if c == '\n' {
            line += 1;
            continue;
        }
        if c.is_whitespace() {
            continue;
        }
        if expect && Some(depth) == target && c != ']' {
            lines.push(line);
            expect = false;
        }
        match c {
            '"' => {
                in_string = true;
                string_start = i;
            }
            '[' | '{' => {
                depth += 1;
                let is_target = target.is_none()
                    && c == '['
                    && match key {
                        None => depth == 1,
                        Some(k) => depth == 2 && last_key == Some(k),
                    };
                if is_target {
                    target = Some(depth);
                    expect = true;
                }
            }
            ']' | '}' => {
                if Some(depth) == target && c == ']' {
                    break;
                }
                depth = depth.saturating_sub(1);
            }
            ',' if Some(depth) == target => expect = true,
            _ => {}
        }
    }
    lines
}

fn listings_of(rows: Vec<Row>, file: &str) -> Result<Vec<Listing>, ListingError> {
    const KNOWN: [&str; 8] = [
        "listprice",
        "bedroomstotal",
        "bathroomstotalinteger",
        "livingarea",
        "city",
        "postalcode",
        "propertytype",
        "standardstatus",
    ];
    if let Some(first) = rows.first()
        && !KNOWN.iter().any(|k| first.fields.contains_key(*k))
    {
        return Err(ListingError::Format {
            file: file.to_owned(),
            reason: "none of the RESO Data Dictionary fields is there (ListPrice, BedroomsTotal, BathroomsTotalInteger, LivingArea, City, PostalCode, PropertyType, StandardStatus); name the columns as an MLS export does".into(),
        });
    }
    let mut errors = Vec::new();
    let mut listings = Vec::with_capacity(rows.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    for row in rows {
        match listing_of(&row) {
            Ok(listing) => {
                if let Some(first) = seen.insert(listing.listing_id.clone(), row.line) {
                    errors.push(format!(
                        "  line {}: ListingId {:?} is also on line {first}; each listing once",
                        row.line, listing.listing_id
                    ));
                }
                listings.push(listing);
            }
            Err(reason) => errors.push(format!("  line {}: {reason}", row.line)),
        }
    }
    if errors.is_empty() {
        return Ok(listings);
    }
    let count = errors.len();
    let mut list = errors.into_iter().take(MAX_ERRORS).collect::<Vec<_>>().join("\n");
    if count > MAX_ERRORS {
        list.push_str(&format!("\n  … and {} more", count - MAX_ERRORS));
    }
    Err(ListingError::Rows { file: file.to_owned(), count, list })
}

fn listing_of(row: &Row) -> Result<Listing, String> {
    let text =
        |name: &str| row.fields.get(name).map(|s| s.trim()).filter(|s| !s.is_empty()).map(str::to_owned);
    let number = |name: &str, shown: &str| -> Result<Option<f64>, String> {
        let Some(raw) = text(name) else { return Ok(None) };
        let clean: String = raw.chars().filter(|c| !matches!(c, '$' | ',' | ' ')).collect();
        match clean.parse::<f64>() {
            Ok(n) if n.is_finite() && n >= 0.0 => Ok(Some(n)),
            _ => Err(format!("{shown} {raw:?} is not a number; write it as digits, e.g. 425000")),
        }
    };
    let whole = |name: &str, shown: &str| -> Result<Option<u32>, String> {
        match number(name, shown)? {
            Some(n) if n.fract() == 0.0 && n <= 1_000.0 => Ok(Some(n as u32)),
            Some(n) => Err(format!("{shown} {n} is not a whole number; write e.g. 3")),
            None => Ok(None),
        }
    };
    let listing_id = text("listingid").or_else(|| text("listingkey")).ok_or_else(|| {
        "no ListingId (or ListingKey); every listing needs one so that a new import updates it".to_owned()
    })?;
    let street = text("unparsedaddress").or_else(|| {
        let parts: Vec<String> =
            ["streetnumber", "streetdirprefix", "streetname", "streetsuffix", "unitnumber"]
                .iter()
                .filter_map(|k| text(k))
                .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    });
    Ok(Listing {
        listing_id,
        list_price: number("listprice", "ListPrice")?,
        bedrooms: whole("bedroomstotal", "BedroomsTotal")?,
        bathrooms: whole("bathroomstotalinteger", "BathroomsTotalInteger")?,
        living_area: number("livingarea", "LivingArea")?,
        street,
        city: text("city"),
        state: text("stateorprovince"),
        postal_code: text("postalcode"),
        subdivision: text("subdivisionname"),
        property_type: text("propertysubtype").or_else(|| text("propertytype")),
        status: text("standardstatus"),
    })
}

/// The listings prepared for matching, loaded from the store on first use and replaced after
/// each import, so a lead's matches never read the store.
#[derive(Debug, Default)]
pub struct ListingBook {
    set: RwLock<Option<Arc<ListingSet>>>,
}

impl ListingBook {
    /// The prepared listings (read from the store the first time).
    pub fn get(&self, db: &Db) -> Result<Arc<ListingSet>, StoreError> {
        if let Some(set) = self.set.read().unwrap_or_else(|p| p.into_inner()).as_ref() {
            return Ok(set.clone());
        }
        self.reload(db)
    }

    /// Reads the listings from the store again (after an import).
    pub fn reload(&self, db: &Db) -> Result<Arc<ListingSet>, StoreError> {
        let set = Arc::new(ListingSet::new(db.listings()?));
        *self.set.write().unwrap_or_else(|p| p.into_inner()) = Some(set.clone());
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "ListingId,ListPrice,BedroomsTotal,BathroomsTotalInteger,LivingArea,StreetNumber,StreetName,StreetSuffix,City,StateOrProvince,PostalCode,SubdivisionName,PropertyType,PropertySubType,StandardStatus\n\
        L1,\"$425,000\",3,2,1850,12,Elm,St,Plano,TX,75024,Willow Bend,Residential,Single Family Residence,Active\n\
        L2,310000,2,2,1100,,,,Frisco,TX,75034,,Residential,Condominium,Pending\n";

    #[test]
    fn a_reso_csv_is_read_with_its_addresses_and_sub_types() {
        let l = parse(CSV, "mls.csv").expect("parse");
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].listing_id, "L1");
        assert_eq!(l[0].list_price, Some(425_000.0));
        assert_eq!((l[0].bedrooms, l[0].bathrooms), (Some(3), Some(2)));
        assert_eq!(l[0].street.as_deref(), Some("12 Elm St"));
        assert_eq!(l[0].property_type.as_deref(), Some("Single Family Residence"));
        assert_eq!(l[0].address(), "12 Elm St, Plano TX 75024");
        assert_eq!(l[1].street, None);
        assert_eq!(l[1].status.as_deref(), Some("Pending"));
    }

    #[test]
    fn bad_rows_refuse_the_file_naming_each_line_and_the_fix() {
        let text = "ListingId,ListPrice,BedroomsTotal\nL1,400000,3\n,300000,2\nL3,lots,2\nL4,1,2.5\nL1,5,1\n";
        let err = parse(text, "/tmp/feed.csv").expect_err("bad rows").to_string();
        assert!(
            err.starts_with("/tmp/feed.csv: 4 listing(s) cannot be read, so none were imported"),
            "{err}"
        );
        assert!(err.contains("line 3: no ListingId"), "{err}");
        assert!(err.contains("line 4: ListPrice \"lots\" is not a number"), "{err}");
        assert!(err.contains("line 5: BedroomsTotal 2.5 is not a whole number"), "{err}");
        assert!(err.contains("line 6: ListingId \"L1\" is also on line 2"), "{err}");
        let err = parse("Name,Price\nx,1\n", "f.csv").expect_err("no RESO columns").to_string();
        assert!(err.contains("none of the RESO Data Dictionary fields"), "{err}");
    }

    #[test]
    fn json_arrays_and_web_api_answers_are_read_and_errors_name_the_line() {
        let text = r#"[
  {"ListingId": "J1", "ListPrice": 500000, "BedroomsTotal": 4, "City": "Katy"},
  {"ListingKey": "J2", "ListPrice": null, "City": "Cypress", "UnparsedAddress": "9 Oak Ln"}
]"#;
        let l = parse(text, "feed.json").expect("parse");
        assert_eq!(l.len(), 2);
        assert_eq!((l[0].list_price, l[0].bedrooms), (Some(500_000.0), Some(4)));
        assert_eq!((l[1].listing_id.as_str(), l[1].street.as_deref()), ("J2", Some("9 Oak Ln")));

        let text = "{\"@odata.context\": \"x\", \"value\": [\n  {\"ListingId\": \"A\", \"City\": \"Plano\"},\n  {\"ListingId\": \"B\",\n   \"BedroomsTotal\": \"three\"}\n]}";
        let err = parse(text, "api.json").expect_err("bad").to_string();
        assert!(err.contains("line 3: BedroomsTotal \"three\" is not a number"), "{err}");

        let err = parse("[{\"ListingId\": 1,]", "broken.json").expect_err("syntax").to_string();
        assert!(err.starts_with("broken.json: line 1: not valid JSON"), "{err}");
    }
}
