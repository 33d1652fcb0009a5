//! Contacts (`Version: 2021-07-28`): search with `searchAfter`, CRUD, tags, notes and tasks.

use std::collections::BTreeSet;
use std::ops::Bound;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::{JsonBody, only_props, opt_str, opt_str_list, trace_id};
use crate::error::ApiError;
use crate::model::{Contact, CustomFieldValue, DndSetting, Note, Tag, Task};
use crate::server::Shared;
use crate::store::{ContactSort, Key, RecordKind, Store};
use crate::time::{iso_from_ms, ms_from_iso, ms_from_value};

/// The largest `pageLimit` GHL accepts.
pub const MAX_PAGE_LIMIT: u64 = 500;
/// How deep `page` paging reaches (beyond it, use `searchAfter`).
pub const MAX_PAGE_DEPTH: u64 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Dir {
    Asc,
    Desc,
}

#[derive(Debug, Clone, PartialEq)]
enum Op {
    Eq(Value),
    NotEq(Value),
    Contains(String),
    NotContains(String),
    Exists,
    NotExists,
    Range { lo: Option<i64>, hi: Option<i64> },
}

#[derive(Debug, Clone, PartialEq)]
enum Filter {
    Group { or: bool, items: Vec<Filter> },
    Cond { field: String, op: Op },
}

const STRING_FIELDS: &[&str] = &[
    "id",
    "firstName",
    "lastName",
    "name",
    "firstNameLowerCase",
    "lastNameLowerCase",
    "fullNameLowerCase",
    "email",
    "phone",
    "source",
    "assignedTo",
    "type",
    "city",
    "state",
    "country",
    "postalCode",
    "timezone",
    "companyName",
    "address1",
    "website",
];
const DATE_FIELDS: &[&str] = &["dateAdded", "dateUpdated", "lastActivity", "dateOfBirth"];

fn known_field(f: &str) -> bool {
    STRING_FIELDS.contains(&f)
        || DATE_FIELDS.contains(&f)
        || f == "tags"
        || f == "dnd"
        || f.starts_with("customFields.")
        || f.starts_with("customField.")
}

fn parse_filters(v: &Value, depth: usize) -> Result<Vec<Filter>, ApiError> {
    if depth > 3 {
        return Err(ApiError::invalid("filters are nested too deeply"));
    }
    let arr = v.as_array().ok_or_else(|| ApiError::invalid("filters must be an array"))?;
    arr.iter().map(|f| parse_filter(f, depth)).collect()
}

fn parse_filter(f: &Value, depth: usize) -> Result<Filter, ApiError> {
    let o = f.as_object().ok_or_else(|| ApiError::invalid("each filter must be an object"))?;
    if let Some(g) = o.get("group") {
        let or = match g.as_str().map(str::to_ascii_uppercase).as_deref() {
            Some("OR") => true,
            Some("AND") => false,
            _ => return Err(ApiError::invalid("group must be one of AND, OR")),
        };
        let items = parse_filters(o.get("filters").unwrap_or(&Value::Null), depth + 1)?;
        return Ok(Filter::Group { or, items });
    }
    let field = o
        .get("field")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::invalid("filter field should not be empty"))?;
    if !known_field(field) {
        return Err(ApiError::invalid(format!("filter field {field} is not supported")));
    }
    let operator = o
        .get("operator")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::invalid("filter operator should not be empty"))?;
    let value = o.get("value").cloned().unwrap_or(Value::Null);
    let text = |v: &Value| -> Result<String, ApiError> {
        match v {
            Value::String(s) => Ok(s.to_lowercase()),
            Value::Number(n) => Ok(n.to_string()),
            _ => Err(ApiError::invalid(format!("filter value for {operator} must be a string"))),
        }
    };
    let op = match operator {
        "eq" => Op::Eq(value),
        "not_eq" => Op::NotEq(value),
        "contains" => Op::Contains(text(&value)?),
        "not_contains" => Op::NotContains(text(&value)?),
        "exists" => Op::Exists,
        "not_exists" => Op::NotExists,
        "range" => {
            let r = value
                .as_object()
                .ok_or_else(|| ApiError::invalid("range value must be an object with gt, gte, lt or lte"))?;
            let mut lo = None;
            let mut hi = None;
            for (k, v) in r {
                let ms = ms_from_value(v).ok_or_else(|| {
                    ApiError::invalid(format!("range {k} must be epoch milliseconds or an ISO date"))
                })?;
                match k.as_str() {
                    "gt" => lo = Some(lo.map_or(ms + 1, |l: i64| l.max(ms + 1))),
                    "gte" => lo = Some(lo.map_or(ms, |l: i64| l.max(ms))),
                    "lt" => hi = Some(hi.map_or(ms - 1, |h: i64| h.min(ms - 1))),
                    "lte" => hi = Some(hi.map_or(ms, |h: i64| h.min(ms))),
                    other => {
                        return Err(ApiError::invalid(format!(
                            "range key {other} is not one of gt, gte, lt, lte"
                        )));
                    }
                }
            }
            if lo.is_none() && hi.is_none() {
                return Err(ApiError::invalid("range needs at least one of gt, gte, lt, lte"));
            }
            Op::Range { lo, hi }
        }
        other => {
            return Err(ApiError::invalid(format!(
                "operator {other} must be one of eq, not_eq, contains, not_contains, exists, not_exists, range"
            )));
        }
    };
    Ok(Filter::Cond { field: field.to_string(), op })
}

enum Fv<'a> {
    None,
    S(&'a str),
    N(i64),
    B(bool),
    L(&'a [String]),
    V(&'a Value),
}

fn field_value<'a>(c: &'a Contact, f: &str) -> Fv<'a> {
    let s = |o: &'a Option<String>| o.as_deref().map_or(Fv::None, Fv::S);
    let d = |o: Option<&'a str>| o.and_then(ms_from_iso).map_or(Fv::None, Fv::N);
    match f {
        "id" => Fv::S(&c.id),
        "firstName" => s(&c.first_name),
        "lastName" => s(&c.last_name),
        "name" => s(&c.name),
        "firstNameLowerCase" => s(&c.first_name_lower_case),
        "lastNameLowerCase" => s(&c.last_name_lower_case),
        "fullNameLowerCase" => s(&c.full_name_lower_case),
        "email" => s(&c.email),
        "phone" => s(&c.phone),
        "source" => s(&c.source),
        "assignedTo" => s(&c.assigned_to),
        "type" => Fv::S(&c.kind),
        "city" => s(&c.city),
        "state" => s(&c.state),
        "country" => s(&c.country),
        "postalCode" => s(&c.postal_code),
        "timezone" => s(&c.timezone),
        "companyName" => s(&c.company_name),
        "address1" => s(&c.address1),
        "website" => s(&c.website),
        "dateAdded" => d(Some(&c.date_added)),
        "dateUpdated" => d(Some(&c.date_updated)),
        "lastActivity" => d(c.last_activity.as_deref()),
        "dateOfBirth" => d(c.date_of_birth.as_deref()),
        "tags" => Fv::L(&c.tags),
        "dnd" => Fv::B(c.dnd),
        _ => {
            let id = f.strip_prefix("customFields.").or_else(|| f.strip_prefix("customField.")).unwrap_or("");
            c.custom_fields.iter().find(|cf| cf.id == id).map_or(Fv::None, |cf| Fv::V(&cf.value))
        }
    }
}

fn digits(s: &str) -> String {
    let d: String = s.chars().filter(char::is_ascii_digit).collect();
    if d.len() > 10 { d[d.len() - 10..].to_string() } else { d }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_lowercase(),
        other => other.to_string(),
    }
}

fn eq_matches(fv: &Fv<'_>, field: &str, want: &Value) -> bool {
    match fv {
        Fv::None => want.is_null(),
        Fv::S(s) => {
            let w = value_text(want);
            if field == "phone" { !w.is_empty() && digits(s) == digits(&w) } else { s.to_lowercase() == w }
        }
        Fv::N(n) => ms_from_value(want) == Some(*n),
        Fv::B(b) => match want {
            Value::Bool(w) => w == b,
            Value::String(s) => s.eq_ignore_ascii_case(if *b { "true" } else { "false" }),
            _ => false,
        },
        Fv::L(list) => {
            let w = value_text(want);
            list.iter().any(|t| t.to_lowercase() == w)
        }
        Fv::V(v) => value_text(v) == value_text(want),
    }
}

fn contains_matches(fv: &Fv<'_>, needle: &str) -> bool {
    match fv {
        Fv::S(s) => s.to_lowercase().contains(needle),
        Fv::L(list) => list.iter().any(|t| t.to_lowercase().contains(needle)),
        Fv::V(v) => value_text(v).contains(needle),
        _ => false,
    }
}

fn matches(c: &Contact, f: &Filter) -> bool {
    match f {
        Filter::Group { or: true, items } => items.iter().any(|i| matches(c, i)),
        Filter::Group { or: false, items } => items.iter().all(|i| matches(c, i)),
        Filter::Cond { field, op } => {
            let fv = field_value(c, field);
            match op {
                Op::Eq(v) => eq_matches(&fv, field, v),
                Op::NotEq(v) => !eq_matches(&fv, field, v),
                Op::Contains(n) => contains_matches(&fv, n),
                Op::NotContains(n) => !contains_matches(&fv, n),
                Op::Exists => match fv {
                    Fv::None => false,
                    Fv::S(s) => !s.is_empty(),
                    Fv::L(l) => !l.is_empty(),
                    _ => true,
                },
                Op::NotExists => match fv {
                    Fv::None => true,
                    Fv::S(s) => s.is_empty(),
                    Fv::L(l) => l.is_empty(),
                    _ => false,
                },
                Op::Range { lo, hi } => {
                    let n = match fv {
                        Fv::N(n) => Some(n),
                        Fv::V(v) => v.as_f64().map(|f| f as i64),
                        Fv::S(s) => s.parse::<i64>().ok(),
                        _ => None,
                    };
                    n.is_some_and(|n| lo.is_none_or(|l| n >= l) && hi.is_none_or(|h| n <= h))
                }
            }
        }
    }
}

fn query_matches(c: &Contact, q: &str) -> bool {
    let name = c.full_name_lower_case.as_deref().unwrap_or("");
    let email = c.email_lower_case.as_deref().unwrap_or("");
    if name.contains(q) || email.contains(q) {
        return true;
    }
    let qd = digits(q);
    qd.len() >= 3 && c.phone.as_deref().is_some_and(|p| digits(p).contains(&qd))
}

/// The search body, validated.
#[derive(Debug)]
struct Search {
    limit: usize,
    page: Option<u64>,
    after: Option<Key>,
    sort: ContactSort,
    dir: Dir,
    filters: Vec<Filter>,
    query: Option<String>,
}

fn parse_search(sh: &Shared, body: &Value) -> Result<Search, ApiError> {
    let Some(o) = body.as_object() else {
        return Err(ApiError::unprocessable(&[
            "locationId should not be empty",
            "pageLimit must be a number conforming to the specified constraints",
        ]));
    };
    let mut errs: Vec<String> = Vec::new();
    match o.get("locationId") {
        Some(Value::String(s)) if !s.is_empty() => {}
        _ => errs.push("locationId should not be empty".into()),
    }
    let limit = match o.get("pageLimit") {
        Some(Value::Number(n)) => match n.as_u64() {
            Some(0) => {
                errs.push("pageLimit must not be less than 1".into());
                0
            }
            Some(v) if v > MAX_PAGE_LIMIT => {
                errs.push(format!("pageLimit must not be greater than {MAX_PAGE_LIMIT}"));
                0
            }
            Some(v) => v as usize,
            None => {
                errs.push("pageLimit must be a number conforming to the specified constraints".into());
                0
            }
        },
        _ => {
            errs.push("pageLimit must be a number conforming to the specified constraints".into());
            0
        }
    };
    if !errs.is_empty() {
        let refs: Vec<&str> = errs.iter().map(String::as_str).collect();
        return Err(ApiError::unprocessable(&refs));
    }
    sh.check_location(o.get("locationId").and_then(Value::as_str), "locationId")?;
    only_props(o, &["locationId", "pageLimit", "page", "searchAfter", "filters", "sort", "query"])?;
    let page = match o.get("page") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_u64() {
            Some(p) if p >= 1 => Some(p),
            _ => return Err(ApiError::invalid("page must not be less than 1")),
        },
    };
    let after = match o.get("searchAfter") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) if a.is_empty() => None,
        Some(Value::Array(a)) if a.len() == 2 => {
            let ms = ms_from_value(&a[0]).ok_or_else(|| {
                ApiError::invalid("searchAfter[0] must be the sort value of the last contact")
            })?;
            let id = a[1]
                .as_str()
                .ok_or_else(|| ApiError::invalid("searchAfter[1] must be the id of the last contact"))?;
            Some((ms, id.to_string()))
        }
        Some(_) => {
            return Err(ApiError::invalid(
                "searchAfter must be the searchAfter array of the last contact of the previous page",
            ));
        }
    };
    if page.is_some() && after.is_some() {
        return Err(ApiError::invalid("page and searchAfter cannot be used together"));
    }
    if let Some(p) = page
        && p * limit as u64 > MAX_PAGE_DEPTH
    {
        return Err(ApiError::bad_request(format!(
            "page paging reaches at most {MAX_PAGE_DEPTH} records; use searchAfter to go further"
        )));
    }
    let (sort, dir) = match o.get("sort") {
        None | Some(Value::Null) => (ContactSort::DateAdded, Dir::Desc),
        Some(s) => {
            let first = match s {
                Value::Array(a) if a.len() == 1 => &a[0],
                Value::Array(a) if a.is_empty() => &Value::Null,
                Value::Object(_) => s,
                _ => {
                    return Err(ApiError::invalid("sort must be an array with one {field, direction}"));
                }
            };
            if first.is_null() {
                (ContactSort::DateAdded, Dir::Desc)
            } else {
                let field = match first.get("field").and_then(Value::as_str) {
                    Some("dateAdded") => ContactSort::DateAdded,
                    Some("dateUpdated") => ContactSort::DateUpdated,
                    other => {
                        return Err(ApiError::invalid(format!(
                            "sort field {} is not supported (use dateAdded or dateUpdated)",
                            other.unwrap_or("(missing)")
                        )));
                    }
                };
                let dir = match first
                    .get("direction")
                    .and_then(Value::as_str)
                    .map(str::to_ascii_lowercase)
                    .as_deref()
                {
                    None | Some("desc") => Dir::Desc,
                    Some("asc") => Dir::Asc,
                    Some(other) => {
                        return Err(ApiError::invalid(format!("sort direction {other} must be asc or desc")));
                    }
                };
                (field, dir)
            }
        }
    };
    let filters = match o.get("filters") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => parse_filters(v, 0)?,
    };
    let query = match o.get("query") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.chars().count() > 75 => {
            return Err(ApiError::invalid("query must be shorter than or equal to 75 characters"));
        }
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(s.trim().to_lowercase()),
        Some(_) => return Err(ApiError::invalid("query must be a string")),
    };
    Ok(Search { limit, page, after, sort, dir, filters, query })
}

/// The bounds a top-level range filter on the sort field puts on the index scan.
fn index_bounds(s: &Search) -> (Option<i64>, Option<i64>) {
    let name = match s.sort {
        ContactSort::DateAdded => "dateAdded",
        ContactSort::DateUpdated => "dateUpdated",
    };
    let mut lo: Option<i64> = None;
    let mut hi: Option<i64> = None;
    for f in &s.filters {
        if let Filter::Cond { field, op: Op::Range { lo: l, hi: h } } = f
            && field == name
        {
            if let Some(l) = l {
                lo = Some(lo.map_or(*l, |x| x.max(*l)));
            }
            if let Some(h) = h {
                hi = Some(hi.map_or(*h, |x| x.min(*h)));
            }
        }
    }
    (lo, hi)
}

fn scan<'a>(
    idx: &'a BTreeSet<Key>,
    lo: Option<i64>,
    hi: Option<i64>,
    after: Option<&Key>,
    dir: Dir,
) -> Box<dyn Iterator<Item = &'a Key> + 'a> {
    let mut start: Bound<Key> = lo.map_or(Bound::Unbounded, |l| Bound::Included((l, String::new())));
    let mut end: Bound<Key> =
        hi.map_or(Bound::Unbounded, |h| Bound::Excluded((h.saturating_add(1), String::new())));
    if let Some(a) = after {
        match dir {
            Dir::Asc => {
                let tighter = match &start {
                    Bound::Included(k) => a >= k,
                    _ => true,
                };
                if tighter {
                    start = Bound::Excluded(a.clone());
                }
            }
            Dir::Desc => {
                let tighter = match &end {
                    Bound::Excluded(k) => a < k,
                    _ => true,
                };
                if tighter {
                    end = Bound::Excluded(a.clone());
                }
            }
        }
    }
    if let (Bound::Included(s) | Bound::Excluded(s), Bound::Included(e) | Bound::Excluded(e)) = (&start, &end)
        && s > e
    {
        return Box::new(std::iter::empty());
    }
    let r = idx.range((start, end));
    match dir {
        Dir::Asc => Box::new(r),
        Dir::Desc => Box::new(r.rev()),
    }
}

fn search_item(store: &Store, c: &Contact, key: &Key) -> Value {
    let mut v = store.render(RecordKind::Contact, &c.id, c);
    if let Some(o) = v.as_object_mut() {
        o.insert("searchAfter".into(), json!([key.0, key.1]));
    }
    v
}

/// `POST /contacts/search`.
pub async fn search(State(sh): State<Arc<Shared>>, body: JsonBody) -> Result<Json<Value>, ApiError> {
    let s = parse_search(&sh, &body.0)?;
    let store = sh.read();
    // Searches see the index, which lags behind writes (see `search_index`).
    let view = store.search_view(sh.now_ms());
    let idx = view.by(s.sort);
    let (lo, hi) = index_bounds(&s);
    let pass = |c: &Contact| {
        s.filters.iter().all(|f| matches(c, f)) && s.query.as_deref().is_none_or(|q| query_matches(c, q))
    };
    let skip = s.page.map_or(0, |p| (p as usize - 1) * s.limit);
    let mut out = Vec::with_capacity(s.limit);
    let mut skipped = 0usize;
    for key in scan(idx, lo, hi, s.after.as_ref(), s.dir) {
        let Some(c) = view.contact(&key.1) else {
            continue;
        };
        if !pass(c) {
            continue;
        }
        if skipped < skip {
            skipped += 1;
            continue;
        }
        out.push(search_item(&store, c, key));
        if out.len() >= s.limit {
            break;
        }
    }
    let total = if s.filters.is_empty() && s.query.is_none() {
        view.len()
    } else {
        scan(idx, lo, hi, None, Dir::Asc).filter_map(|k| view.contact(&k.1)).filter(|c| pass(c)).count()
    };
    Ok(Json(json!({"contacts": out, "total": total, "traceId": trace_id()})))
}

fn contact_or_404<'a>(store: &'a Store, id: &str) -> Result<&'a Contact, ApiError> {
    store.contact(id).ok_or_else(|| ApiError::not_found("Contact not found"))
}

/// `GET /contacts/{contactId}`.
pub async fn get_one(State(sh): State<Arc<Shared>>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let store = sh.read();
    let c = contact_or_404(&store, &id)?;
    Ok(Json(json!({"contact": store.render(RecordKind::Contact, &id, c)})))
}

const WRITABLE: &[&str] = &[
    "firstName",
    "lastName",
    "name",
    "email",
    "phone",
    "address1",
    "city",
    "state",
    "postalCode",
    "website",
    "timezone",
    "dnd",
    "dndSettings",
    "inboundDndSettings",
    "tags",
    "customFields",
    "source",
    "dateOfBirth",
    "country",
    "companyName",
    "assignedTo",
    "gender",
];

/// What an update changed, for webhooks.
#[derive(Debug, Default)]
struct Changes {
    dnd: bool,
    tags: bool,
}

fn apply_contact_fields(
    store_fields: &[crate::model::CustomFieldDef],
    c: &mut Contact,
    o: &Map<String, Value>,
) -> Result<Changes, ApiError> {
    let mut ch = Changes::default();
    macro_rules! set_str {
        ($key:literal, $field:ident) => {
            if o.contains_key($key) {
                c.$field = opt_str(o, $key)?;
            }
        };
    }
    set_str!("firstName", first_name);
    set_str!("lastName", last_name);
    set_str!("email", email);
    set_str!("phone", phone);
    set_str!("address1", address1);
    set_str!("city", city);
    set_str!("state", state);
    set_str!("postalCode", postal_code);
    set_str!("website", website);
    set_str!("timezone", timezone);
    set_str!("source", source);
    set_str!("dateOfBirth", date_of_birth);
    set_str!("country", country);
    set_str!("companyName", company_name);
    set_str!("assignedTo", assigned_to);
    if let Some(n) = opt_str(o, "name")? {
        if o.get("firstName").is_none() && o.get("lastName").is_none() {
            let mut parts = n.splitn(2, ' ');
            c.first_name = parts.next().map(str::to_string);
            c.last_name = parts.next().map(str::to_string);
        }
        c.name = Some(n);
    }
    if let Some(v) = o.get("dnd") {
        let b = v.as_bool().ok_or_else(|| ApiError::invalid("dnd must be a boolean value"))?;
        ch.dnd |= b != c.dnd;
        c.dnd = b;
    }
    if let Some(v) = o.get("dndSettings").filter(|v| !v.is_null()) {
        let m = v.as_object().ok_or_else(|| ApiError::invalid("dndSettings must be an object"))?;
        for (channel, setting) in m {
            if !["Call", "Email", "SMS", "WhatsApp", "GMB", "FB", "RCS"].contains(&channel.as_str()) {
                return Err(ApiError::invalid(format!(
                    "dndSettings.{channel} is not a channel (Call, Email, SMS, WhatsApp, GMB, FB)"
                )));
            }
            let s: DndSetting = serde_json::from_value(setting.clone()).map_err(|_| {
                ApiError::invalid(format!("dndSettings.{channel}.status should not be empty"))
            })?;
            if !["active", "inactive", "permanent"].contains(&s.status.as_str()) {
                return Err(ApiError::invalid(format!(
                    "dndSettings.{channel}.status must be one of active, inactive, permanent"
                )));
            }
            ch.dnd |= c.dnd_settings.get(channel) != Some(&s);
            c.dnd_settings.insert(channel.clone(), s);
        }
    }
    if let Some(tags) = opt_str_list(o, "tags")? {
        // PUT overwrites all tags (documented).
        ch.tags |= tags != c.tags;
        c.tags = tags;
    }
    if let Some(v) = o.get("customFields").filter(|v| !v.is_null()) {
        let arr = v.as_array().ok_or_else(|| ApiError::invalid("customFields must be an array"))?;
        for item in arr {
            let id = item
                .get("id")
                .and_then(Value::as_str)
                .map(str::to_string)
                .or_else(|| {
                    let key = item.get("key").and_then(Value::as_str)?;
                    let key =
                        if key.starts_with("contact.") { key.to_string() } else { format!("contact.{key}") };
                    store_fields.iter().find(|f| f.field_key == key).map(|f| f.id.clone())
                })
                .ok_or_else(|| ApiError::bad_request("customFields items need an existing id or key"))?;
            if !store_fields.iter().any(|f| f.id == id) {
                return Err(ApiError::bad_request(format!("Custom field {id} not found")));
            }
            let value = item.get("field_value").or_else(|| item.get("value")).cloned().unwrap_or(Value::Null);
            c.custom_fields.retain(|f| f.id != id);
            if !value.is_null() && value != "" {
                c.custom_fields.push(CustomFieldValue { id, value });
            }
        }
    }
    Ok(ch)
}

fn ensure_location_tags(store: &mut Store, tags: &[String]) {
    for t in tags {
        if !store.tags.iter().any(|x| x.name.eq_ignore_ascii_case(t)) {
            let id = store.new_id();
            let location_id = store.location.id.clone();
            store.tags.push(Tag { id, name: t.clone(), location_id });
        }
    }
}

/// `PUT /contacts/{contactId}` → `{succeded, contact}`.
pub async fn update(
    State(sh): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    let o = body.object(&[])?;
    only_props(o, WRITABLE)?;
    let now = sh.now_ms();
    let mut store = sh.write();
    let mut draft = contact_or_404(&store, &id)?.clone();
    let fields = store.custom_fields.clone();
    let ch = apply_contact_fields(&fields, &mut draft, o)?;
    ensure_location_tags(&mut store, &draft.tags);
    let updated = store
        .update_contact(&id, now, |c| *c = draft)
        .ok_or_else(|| ApiError::not_found("Contact not found"))?;
    drop(store);
    sh.webhooks.contact_event("ContactUpdate", &updated, now);
    if ch.dnd {
        sh.webhooks.contact_dnd_event(&updated, now);
    }
    if ch.tags {
        sh.webhooks.contact_event("ContactTagUpdate", &updated, now);
    }
    Ok(Json(json!({"succeded": true, "contact": updated})))
}

/// `POST /contacts/` → 201 `{contact}`. Duplicates (same email or phone) are refused, as a
/// location with "Allow Duplicate Contact" off does.
pub async fn create(State(sh): State<Arc<Shared>>, body: JsonBody) -> Result<Response, ApiError> {
    let o = body.object(&["locationId"])?;
    sh.check_location(o.get("locationId").and_then(Value::as_str), "locationId")?;
    let mut allowed = WRITABLE.to_vec();
    allowed.push("locationId");
    only_props(o, &allowed)?;
    let now = sh.now_ms();
    let iso = iso_from_ms(now);
    let mut store = sh.write();
    let id = store.new_id();
    let mut c = Contact {
        id,
        location_id: sh.cfg.location_id.clone(),
        name: None,
        first_name: None,
        last_name: None,
        first_name_lower_case: None,
        last_name_lower_case: None,
        full_name_lower_case: None,
        email: None,
        email_lower_case: None,
        phone: None,
        timezone: None,
        company_name: None,
        dnd: false,
        dnd_settings: Default::default(),
        kind: "lead".into(),
        source: None,
        assigned_to: None,
        address1: None,
        city: None,
        state: None,
        country: None,
        postal_code: None,
        website: None,
        tags: Vec::new(),
        date_of_birth: None,
        date_added: iso.clone(),
        date_updated: iso,
        last_activity: None,
        custom_fields: Vec::new(),
        additional_emails: Vec::new(),
        attachments: Vec::new(),
        attribution_source: None,
    };
    let fields = store.custom_fields.clone();
    apply_contact_fields(&fields, &mut c, o)?;
    c.refresh_derived();
    let email = c.email_lower_case.clone();
    let phone = c.phone.as_deref().map(digits);
    if let Some(dup) = store.all_contacts().find(|x| {
        email.is_some() && x.email_lower_case == email
            || phone
                .as_ref()
                .is_some_and(|p| !p.is_empty() && x.phone.as_deref().map(digits).as_ref() == Some(p))
    }) {
        let field = if email.is_some() && dup.email_lower_case == email { "email" } else { "phone" };
        return Ok((
            StatusCode::BAD_REQUEST,
            Json(json!({
                "statusCode": 400,
                "message": "This location does not allow duplicated contacts.",
                "meta": {"contactId": dup.id, "matchingField": field}
            })),
        )
            .into_response());
    }
    ensure_location_tags(&mut store, &c.tags);
    store.insert_contact(c.clone(), now);
    drop(store);
    sh.webhooks.contact_event("ContactCreate", &c, now);
    Ok((StatusCode::CREATED, Json(json!({"contact": c}))).into_response())
}

/// `DELETE /contacts/{contactId}` → `{succeded: true}`.
pub async fn delete(State(sh): State<Arc<Shared>>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let now = sh.now_ms();
    let c = sh.write().delete_contact(&id, now).ok_or_else(|| ApiError::not_found("Contact not found"))?;
    sh.webhooks.contact_event("ContactDelete", &c, now);
    Ok(Json(json!({"succeded": true})))
}

fn tags_body(body: &JsonBody) -> Result<Vec<String>, ApiError> {
    let o = body.object(&["tags"])?;
    only_props(o, &["tags"])?;
    opt_str_list(o, "tags")?.ok_or_else(|| ApiError::invalid("tags should not be empty"))
}

/// `POST /contacts/{contactId}/tags` → 201 `{tags}` (all the contact's tags).
pub async fn add_tags(
    State(sh): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let add = tags_body(&body)?;
    let now = sh.now_ms();
    let mut store = sh.write();
    contact_or_404(&store, &id)?;
    ensure_location_tags(&mut store, &add);
    let c = store
        .update_contact(&id, now, |c| {
            for t in &add {
                if !c.tags.iter().any(|x| x.eq_ignore_ascii_case(t)) {
                    c.tags.push(t.clone());
                }
            }
        })
        .ok_or_else(|| ApiError::not_found("Contact not found"))?;
    drop(store);
    sh.webhooks.contact_event("ContactTagUpdate", &c, now);
    Ok((StatusCode::CREATED, Json(json!({"tags": c.tags}))).into_response())
}

/// `DELETE /contacts/{contactId}/tags` (body `{tags}`) → `{tags}` (what remains).
pub async fn remove_tags(
    State(sh): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    let remove = tags_body(&body)?;
    let now = sh.now_ms();
    let c = sh
        .write()
        .update_contact(&id, now, |c| {
            c.tags.retain(|t| !remove.iter().any(|r| r.eq_ignore_ascii_case(t)));
        })
        .ok_or_else(|| ApiError::not_found("Contact not found"))?;
    sh.webhooks.contact_event("ContactTagUpdate", &c, now);
    Ok(Json(json!({"tags": c.tags})))
}

// ---- notes ----

/// `GET /contacts/{contactId}/notes` → `{notes}` (no paging, as in GHL).
pub async fn list_notes(
    State(sh): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let store = sh.read();
    contact_or_404(&store, &id)?;
    Ok(Json(json!({"notes": store.notes(&id)})))
}

const NOTE_PROPS: &[&str] = &["body", "userId", "title", "color", "pinned"];

/// `POST /contacts/{contactId}/notes` → 201 `{note}`.
pub async fn create_note(
    State(sh): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let o = body.object(&["body"])?;
    only_props(o, NOTE_PROPS)?;
    let now = sh.now_ms();
    let mut store = sh.write();
    contact_or_404(&store, &id)?;
    let note = Note {
        id: store.new_id(),
        body: opt_str(o, "body")?.unwrap_or_default(),
        user_id: opt_str(o, "userId")?,
        date_added: iso_from_ms(now),
        contact_id: id.clone(),
        title: opt_str(o, "title")?,
        color: opt_str(o, "color")?,
        pinned: o.get("pinned").and_then(Value::as_bool).unwrap_or(false),
    };
    store.notes_mut(&id).push(note.clone());
    store.update_contact(&id, now, |_| {});
    drop(store);
    sh.webhooks.emit(
        "NoteCreate",
        json!({"id": note.id, "body": note.body, "contactId": note.contact_id, "dateAdded": note.date_added}),
        now,
    );
    Ok((StatusCode::CREATED, Json(json!({"note": note}))).into_response())
}

/// `GET /contacts/{contactId}/notes/{id}` → `{note}`.
pub async fn get_note(
    State(sh): State<Arc<Shared>>,
    Path((cid, nid)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let store = sh.read();
    contact_or_404(&store, &cid)?;
    let n = store
        .notes(&cid)
        .iter()
        .find(|n| n.id == nid)
        .ok_or_else(|| ApiError::not_found("Note not found"))?;
    Ok(Json(json!({"note": n})))
}

/// `PUT /contacts/{contactId}/notes/{id}` → `{note}`.
pub async fn update_note(
    State(sh): State<Arc<Shared>>,
    Path((cid, nid)): Path<(String, String)>,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    let o = body.object(&[])?;
    only_props(o, NOTE_PROPS)?;
    let now = sh.now_ms();
    let mut store = sh.write();
    contact_or_404(&store, &cid)?;
    let (body_s, user, title, color) =
        (opt_str(o, "body")?, opt_str(o, "userId")?, opt_str(o, "title")?, opt_str(o, "color")?);
    let n = store
        .notes_mut(&cid)
        .iter_mut()
        .find(|n| n.id == nid)
        .ok_or_else(|| ApiError::not_found("Note not found"))?;
    if let Some(b) = body_s {
        n.body = b;
    }
    if user.is_some() {
        n.user_id = user;
    }
    if title.is_some() {
        n.title = title;
    }
    if color.is_some() {
        n.color = color;
    }
    if let Some(p) = o.get("pinned").and_then(Value::as_bool) {
        n.pinned = p;
    }
    let n = n.clone();
    store.update_contact(&cid, now, |_| {});
    drop(store);
    sh.webhooks.emit(
        "NoteUpdate",
        json!({"id": n.id, "body": n.body, "contactId": n.contact_id, "dateAdded": n.date_added}),
        now,
    );
    Ok(Json(json!({"note": n})))
}

/// `DELETE /contacts/{contactId}/notes/{id}` → `{succeded: true}`.
pub async fn delete_note(
    State(sh): State<Arc<Shared>>,
    Path((cid, nid)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let now = sh.now_ms();
    let mut store = sh.write();
    contact_or_404(&store, &cid)?;
    let notes = store.notes_mut(&cid);
    let before = notes.len();
    notes.retain(|n| n.id != nid);
    if notes.len() == before {
        return Err(ApiError::not_found("Note not found"));
    }
    store.update_contact(&cid, now, |_| {});
    drop(store);
    sh.webhooks.emit("NoteDelete", json!({"id": nid, "contactId": cid}), now);
    Ok(Json(json!({"succeded": true})))
}

// ---- workflows ----

/// `POST /contacts/{contactId}/workflow/{workflowId}` (add-contact-to-workflow), body
/// `CreateWorkflowDto` (`eventStartTime`, optional) → `{succeded: true}`. The spec lists no
/// workflows endpoint, so any workflow id is taken.
pub async fn add_to_workflow(
    State(sh): State<Arc<Shared>>,
    Path((cid, wid)): Path<(String, String)>,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    let o = body.object(&[])?;
    only_props(o, &["eventStartTime"])?;
    let start = match o.get("eventStartTime") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            ms_from_value(v)
                .map(iso_from_ms)
                .ok_or_else(|| ApiError::invalid("eventStartTime must be a valid ISO 8601 date string"))?,
        ),
    };
    let now = sh.now_ms();
    let mut store = sh.write();
    contact_or_404(&store, &cid)?;
    store.enrollments.push(crate::store::Enrollment {
        contact_id: cid,
        workflow_id: wid,
        event_start_time: start,
        at_ms: now,
    });
    Ok(Json(json!({"succeded": true})))
}

// ---- tasks ----

const TASK_PROPS: &[&str] = &["title", "body", "dueDate", "completed", "assignedTo"];

/// `GET /contacts/{contactId}/tasks` → `{tasks}`.
pub async fn list_tasks(
    State(sh): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let store = sh.read();
    contact_or_404(&store, &id)?;
    Ok(Json(json!({"tasks": store.tasks(&id)})))
}

fn due_date(o: &Map<String, Value>) -> Result<Option<String>, ApiError> {
    match o.get("dueDate") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => ms_from_value(v)
            .map(|ms| Some(iso_from_ms(ms)))
            .ok_or_else(|| ApiError::invalid("dueDate must be a valid ISO 8601 date string")),
    }
}

/// `POST /contacts/{contactId}/tasks` → 201 `{task}`.
pub async fn create_task(
    State(sh): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let o = body.object(&["title", "dueDate"])?;
    only_props(o, TASK_PROPS)?;
    let completed = match o.get("completed") {
        Some(Value::Bool(b)) => *b,
        _ => return Err(ApiError::invalid("completed must be a boolean value")),
    };
    let due = due_date(o)?.unwrap_or_default();
    let now = sh.now_ms();
    let mut store = sh.write();
    contact_or_404(&store, &id)?;
    let task = Task {
        id: store.new_id(),
        title: opt_str(o, "title")?.unwrap_or_default(),
        body: opt_str(o, "body")?,
        assigned_to: opt_str(o, "assignedTo")?,
        due_date: due,
        completed,
        contact_id: id.clone(),
    };
    store.tasks_mut(&id).push(task.clone());
    store.update_contact(&id, now, |_| {});
    drop(store);
    // As reported (issue #332), TaskCreate arrives without contactId and body.
    sh.webhooks.emit(
        "TaskCreate",
        json!({"id": task.id, "assignedTo": task.assigned_to, "title": task.title,
               "dateAdded": iso_from_ms(now), "dueDate": task.due_date}),
        now,
    );
    Ok((StatusCode::CREATED, Json(json!({"task": task}))).into_response())
}

/// `GET /contacts/{contactId}/tasks/{taskId}` → `{task}`.
pub async fn get_task(
    State(sh): State<Arc<Shared>>,
    Path((cid, tid)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let store = sh.read();
    contact_or_404(&store, &cid)?;
    let t = store
        .tasks(&cid)
        .iter()
        .find(|t| t.id == tid)
        .ok_or_else(|| ApiError::not_found("Task not found"))?;
    Ok(Json(json!({"task": t})))
}

fn edit_task(sh: &Shared, cid: &str, tid: &str, f: impl FnOnce(&mut Task)) -> Result<Task, ApiError> {
    let now = sh.now_ms();
    let mut store = sh.write();
    contact_or_404(&store, cid)?;
    let t = store
        .tasks_mut(cid)
        .iter_mut()
        .find(|t| t.id == tid)
        .ok_or_else(|| ApiError::not_found("Task not found"))?;
    let was = t.completed;
    f(t);
    let t = t.clone();
    store.update_contact(cid, now, |_| {});
    drop(store);
    if t.completed && !was {
        sh.webhooks.emit(
            "TaskComplete",
            json!({"id": t.id, "assignedTo": t.assigned_to, "body": t.body, "contactId": t.contact_id,
                   "title": t.title, "dueDate": t.due_date}),
            now,
        );
    }
    Ok(t)
}

/// `PUT /contacts/{contactId}/tasks/{taskId}` → `{task}`.
pub async fn update_task(
    State(sh): State<Arc<Shared>>,
    Path((cid, tid)): Path<(String, String)>,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    let o = body.object(&[])?;
    only_props(o, TASK_PROPS)?;
    let title = opt_str(o, "title")?;
    let text = opt_str(o, "body")?;
    let assigned = opt_str(o, "assignedTo")?;
    let due = due_date(o)?;
    let completed = match o.get("completed") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => return Err(ApiError::invalid("completed must be a boolean value")),
    };
    let t = edit_task(&sh, &cid, &tid, |t| {
        if let Some(v) = title {
            t.title = v;
        }
        if text.is_some() {
            t.body = text;
        }
        if assigned.is_some() {
            t.assigned_to = assigned;
        }
        if let Some(d) = due {
            t.due_date = d;
        }
        if let Some(c) = completed {
            t.completed = c;
        }
    })?;
    Ok(Json(json!({"task": t})))
}

/// `PUT /contacts/{contactId}/tasks/{taskId}/completed` (`{completed}`) → `{task}`.
pub async fn complete_task(
    State(sh): State<Arc<Shared>>,
    Path((cid, tid)): Path<(String, String)>,
    body: JsonBody,
) -> Result<Json<Value>, ApiError> {
    let o = body.object(&["completed"])?;
    only_props(o, &["completed"])?;
    let completed = o
        .get("completed")
        .and_then(Value::as_bool)
        .ok_or_else(|| ApiError::invalid("completed must be a boolean value"))?;
    let t = edit_task(&sh, &cid, &tid, |t| t.completed = completed)?;
    Ok(Json(json!({"task": t})))
}

/// `DELETE /contacts/{contactId}/tasks/{taskId}` → `{succeded: true}`.
pub async fn delete_task(
    State(sh): State<Arc<Shared>>,
    Path((cid, tid)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let now = sh.now_ms();
    let mut store = sh.write();
    contact_or_404(&store, &cid)?;
    let tasks = store.tasks_mut(&cid);
    let before = tasks.len();
    tasks.retain(|t| t.id != tid);
    if tasks.len() == before {
        return Err(ApiError::not_found("Task not found"));
    }
    store.update_contact(&cid, now, |_| {});
    drop(store);
    sh.webhooks.emit("TaskDelete", json!({"id": tid, "contactId": cid}), now);
    Ok(Json(json!({"succeded": true})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_filters() {
        let f = parse_filters(
            &json!([
                {"field": "dateUpdated", "operator": "range", "value": {"gt": 1000, "lte": "1970-01-01T00:00:05.000Z"}},
                {"group": "OR", "filters": [
                    {"field": "tags", "operator": "eq", "value": "Hot Lead"},
                    {"field": "email", "operator": "exists"}
                ]}
            ]),
            0,
        )
        .expect("valid filters");
        assert_eq!(
            f[0],
            Filter::Cond { field: "dateUpdated".into(), op: Op::Range { lo: Some(1001), hi: Some(5000) } }
        );
        assert!(parse_filters(&json!([{"field": "nope", "operator": "eq"}]), 0).is_err());
        assert!(parse_filters(&json!([{"field": "email", "operator": "like"}]), 0).is_err());
        assert!(
            parse_filters(&json!([{"field": "dateAdded", "operator": "range", "value": {}}]), 0).is_err()
        );
    }

    #[test]
    fn scans_respect_cursor_and_bounds() {
        let idx: BTreeSet<Key> = (0..10).map(|i| (i * 10, format!("c{i}"))).collect();
        let asc: Vec<i64> =
            scan(&idx, Some(20), Some(60), Some(&(30, "c3".into())), Dir::Asc).map(|k| k.0).collect();
        assert_eq!(asc, vec![40, 50, 60]);
        let desc: Vec<i64> =
            scan(&idx, Some(20), None, Some(&(50, "c5".into())), Dir::Desc).map(|k| k.0).collect();
        assert_eq!(desc, vec![40, 30, 20]);
        assert_eq!(scan(&idx, Some(80), Some(10), None, Dir::Asc).count(), 0);
    }

    #[test]
    fn phone_eq_ignores_format() {
        let fv = Fv::S("+12145550123");
        assert!(eq_matches(&fv, "phone", &json!("(214) 555-0123")));
        assert!(!eq_matches(&fv, "phone", &json!("")));
    }
}
