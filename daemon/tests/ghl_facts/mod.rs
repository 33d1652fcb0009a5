//! The facts about GHL's API that the conformance test checks requests against, and how they
//! are extracted from GHL's official OpenAPI files.
//!
//! The official files (about 800 KB, not part of a clone) are reduced to what the test needs:
//! each operation's method, path template, `Version`, path, query and header parameters, and its
//! request body's fields, with the nested object schemas those fields name. The result is
//! committed as `daemon/tests/fixtures/ghl-api-facts.json`, so `cargo test --workspace` needs
//! nothing outside the repository.
//!
//! One extraction serves both users, so they cannot drift apart: the generator
//! (`daemon/examples/ghl_api_facts.rs`) writes the committed file with it, and the conformance
//! test converts the official files with it when they are present and compares.

// Included by the test and by the generator; each uses a different part.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The committed facts, relative to the daemon crate.
pub const FACTS_FILE: &str = "tests/fixtures/ghl-api-facts.json";

/// How to rebuild the committed facts; failure messages quote it.
pub const REGENERATE: &str = "cargo run -p leadline-daemon --example ghl_api_facts -- <dir of GHL's apps/*.json> \
                              (default: $GHL_OPENAPI_DIR)";

/// What the checker reads: every operation, and the request-body schemas by file and name.
#[derive(Debug, PartialEq)]
pub struct Api {
    pub operations: Vec<Operation>,
    pub schemas: BTreeMap<String, BTreeMap<String, Schema>>,
}

/// The committed file. Fields are declared in alphabetical order so that the output's keys are
/// sorted, like every map in it.
#[derive(Debug, Serialize, Deserialize)]
pub struct FactsFile {
    #[serde(rename = "_generated")]
    pub generated: String,
    pub excluded: String,
    pub inputs: Vec<Input>,
    pub operations: Vec<Operation>,
    /// Spec file name → schema name → schema. Names are the spec's component names; a schema
    /// written inline is named after where it sits (`"METHOD /path"` for a body,
    /// `"Parent.field"` for a field).
    pub schemas: BTreeMap<String, BTreeMap<String, Schema>>,
    pub source: Source,
}

/// One official file the facts were extracted from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Input {
    pub bytes: u64,
    /// Relative to the upstream repository's root, e.g. `apps/contacts.json`.
    pub path: String,
    pub sha256: String,
}

/// Where the official files come from, as `SOURCE.md` beside `apps/` records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    pub commit: String,
    pub committed: String,
    pub licence: String,
    pub repository: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operation {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub body: Option<Body>,
    /// The spec file, e.g. `contacts.json`.
    pub file: String,
    /// Header parameter → required.
    pub headers: BTreeMap<String, bool>,
    /// Upper case.
    pub method: String,
    /// The template, e.g. `/contacts/{contactId}`.
    pub path: String,
    pub path_params: Vec<String>,
    /// Query parameter → required.
    pub query: BTreeMap<String, bool>,
    /// The values the `Version` header may take; `None` when the spec declares no `Version`.
    pub version: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Body {
    pub content_types: Vec<String>,
    pub required: bool,
    /// The body's schema in `schemas[file]`; `None` when the body is not an object (an array).
    pub schema: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema {
    /// Field → what its value must follow, for the fields the spec lists.
    pub fields: BTreeMap<String, Field>,
    /// Fields not listed are allowed too: the schema has `additionalProperties`, is a
    /// `oneOf`/`anyOf`, or lists no properties at all.
    #[serde(skip_serializing_if = "is_false", default)]
    pub open: bool,
    pub required: Vec<String>,
}

/// A field whose value is an object with listed fields (`object`) or an array of such objects
/// (`items`) names their schema, so the checker can descend into it; any other field is `{}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub items: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub object: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Api {
    pub fn schema(&self, file: &str, name: &str) -> Option<&Schema> {
        self.schemas.get(file)?.get(name)
    }
}

impl FactsFile {
    pub fn parse(text: &str) -> Result<FactsFile, String> {
        serde_json::from_str(text).map_err(|e| format!("the facts file is not valid: {e}"))
    }

    pub fn api(&self) -> Api {
        Api { operations: self.operations.clone(), schemas: self.schemas.clone() }
    }

    /// The committed form: one line per input, operation and schema, so a change to the spec
    /// shows as a readable diff.
    pub fn render(&self) -> Result<String, String> {
        let value = serde_json::to_value(self).map_err(|e| e.to_string())?;
        let Value::Object(top) = value else { return Err("facts are not an object".into()) };
        let line = |v: &Value| serde_json::to_string(v).map_err(|e| e.to_string());
        let mut out = String::from("{\n");
        let last = top.len().saturating_sub(1);
        for (i, (key, v)) in top.iter().enumerate() {
            let _ = write!(out, "{}: ", line(&Value::String(key.clone()))?);
            match v {
                Value::Array(items) => {
                    out.push_str("[\n");
                    let rows: Result<Vec<String>, String> = items.iter().map(line).collect();
                    out.push_str(&rows?.join(",\n"));
                    out.push_str("\n]");
                }
                // `schemas`: one line per schema, under one line per file.
                Value::Object(files) if key == "schemas" => {
                    out.push_str("{\n");
                    let mut blocks = Vec::new();
                    for (file, schemas) in files {
                        let Value::Object(schemas) = schemas else { return Err("schemas by file".into()) };
                        let mut rows = Vec::new();
                        for (name, s) in schemas {
                            rows.push(format!("{}: {}", line(&Value::String(name.clone()))?, line(s)?));
                        }
                        blocks.push(format!(
                            "{}: {{\n{}\n}}",
                            line(&Value::String(file.clone()))?,
                            rows.join(",\n")
                        ));
                    }
                    out.push_str(&blocks.join(",\n"));
                    out.push_str("\n}");
                }
                other => out.push_str(&line(other)?),
            }
            out.push_str(if i == last { "\n" } else { ",\n" });
        }
        out.push_str("}\n");
        Ok(out)
    }
}

/// Where the official `apps/*.json` are: `GHL_OPENAPI_DIR`, when set. Never a path guessed
/// outside the repository, so a test runs the same on every machine; `None` when unset (a
/// plain clone).
pub fn official_dir() -> Result<Option<PathBuf>, String> {
    let Some(dir) = std::env::var_os("GHL_OPENAPI_DIR") else {
        return Ok(None);
    };
    let dir = PathBuf::from(dir);
    // Set on purpose, so a wrong value is an error rather than a silent skip.
    if !dir.is_dir() {
        return Err(format!("GHL_OPENAPI_DIR is {}, which is not a directory", dir.display()));
    }
    Ok(Some(dir))
}

/// The official files the facts cover: `apps/*.json`, sorted. `apps/v3/` is left out on
/// purpose (see `EXCLUDED`).
fn spec_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| format!("cannot list {}: {e}", dir.display()))?.path();
        if path.is_file() && path.extension().is_some_and(|e| e == "json") {
            files.push(path);
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(format!("no *.json files in {}", dir.display()));
    }
    Ok(files)
}

pub const EXCLUDED: &str = "apps/v3/*.json: the v3 API (header Version: v3) repeats most v2 paths with other \
                            fields; Leadline's client speaks v2, so only apps/*.json are covered";

pub const GENERATED: &str = "Generated by `cargo run -p leadline-daemon --example ghl_api_facts` from GHL's \
                             official OpenAPI files (source, inputs); do not edit. How to regenerate: \
                             docs/ghl-sim.md, section \"Conformance with GHL's OpenAPI files\".";

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// The SHA-256 and size of each official file.
pub fn inputs(dir: &Path) -> Result<Vec<Input>, String> {
    let mut out = Vec::new();
    for path in spec_files(dir)? {
        let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &bytes);
        let sha256 = digest.as_ref().iter().fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        });
        out.push(Input { bytes: bytes.len() as u64, path: format!("apps/{}", file_name(&path)), sha256 });
    }
    Ok(out)
}

/// The provenance recorded in `SOURCE.md` beside `apps/`.
pub fn source(dir: &Path) -> Result<Source, String> {
    let file = dir.join("../SOURCE.md");
    let text = std::fs::read_to_string(&file).map_err(|e| {
        format!("cannot read {} ({e}); the provenance of the official files is taken from it", file.display())
    })?;
    let find = |after: &str, open: &str, close: &str| -> Result<String, String> {
        let rest = &text[text.find(after).ok_or_else(|| format!("{}: no {after:?}", file.display()))?..];
        let start =
            rest.find(open).ok_or_else(|| format!("{}: no {open:?} after {after:?}", file.display()))?
                + open.len();
        let len = rest[start..]
            .find(close)
            .ok_or_else(|| format!("{}: no {close:?} after {after:?}", file.display()))?;
        Ok(rest[start..start + len].to_owned())
    };
    Ok(Source {
        repository: format!("https://github.com/{}", find("public GitHub repository", "**", "**")?),
        commit: snapshot_commit(&text).ok_or_else(|| format!("{}: no snapshot commit", file.display()))?,
        committed: find("Snapshot commit", "(committed ", ")")?,
        licence: find("Creative Commons", "**", "**")
            .map(|l| format!("{l} (LICENSE in that repository; its package.json says ISC)"))?,
    })
}

/// The first 40-hex-digit word in backquotes on the line naming the snapshot commit.
fn snapshot_commit(text: &str) -> Option<String> {
    let line = text.lines().find(|l| l.contains("Snapshot commit"))?;
    line.split('`').find(|w| w.len() == 40 && w.bytes().all(|b| b.is_ascii_hexdigit())).map(str::to_owned)
}

/// Extracts every operation of `dir/*.json` and the request-body schemas they use.
pub fn extract(dir: &Path) -> Result<Api, String> {
    let mut api = Api { operations: Vec::new(), schemas: BTreeMap::new() };
    for path in spec_files(dir)? {
        let file = file_name(&path);
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let doc: Value =
            serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
        let mut spec = SpecFile { file: &file, doc: &doc, schemas: BTreeMap::new() };
        spec.operations(&mut api.operations)?;
        if !spec.schemas.is_empty() {
            api.schemas.insert(file.clone(), spec.schemas);
        }
    }
    api.operations.sort_by(|a, b| (&a.path, &a.method, &a.file).cmp(&(&b.path, &b.method, &b.file)));
    Ok(api)
}

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch", "head", "options", "trace"];

struct SpecFile<'a> {
    file: &'a str,
    doc: &'a Value,
    schemas: BTreeMap<String, Schema>,
}

impl<'a> SpecFile<'a> {
    /// Follows `$ref`s within the file. The request parts never point into other files (only
    /// responses do, at `../common/`); one that did is an error rather than a silent pass.
    fn resolve(&self, mut v: &'a Value) -> Result<&'a Value, String> {
        for _ in 0..32 {
            let Some(r) = v.get("$ref").and_then(Value::as_str) else { return Ok(v) };
            let pointer = r
                .strip_prefix('#')
                .ok_or_else(|| format!("{}: $ref {r} points into another file", self.file))?;
            v = self.doc.pointer(pointer).ok_or_else(|| format!("{}: $ref {r} leads nowhere", self.file))?;
        }
        Err(format!("{}: a $ref cycle", self.file))
    }

    fn operations(&mut self, out: &mut Vec<Operation>) -> Result<(), String> {
        let Some(paths) = self.doc.get("paths").and_then(Value::as_object) else {
            return Err(format!("{}: no paths", self.file));
        };
        for (template, item) in paths {
            for method in METHODS {
                let Some(op) = item.get(*method) else { continue };
                let op = self.operation(template, method, item, op)?;
                out.push(op);
            }
        }
        Ok(())
    }

    fn operation(
        &mut self,
        template: &str,
        method: &str,
        item: &'a Value,
        op: &'a Value,
    ) -> Result<Operation, String> {
        let at = format!("{} {} {template}", self.file, method.to_ascii_uppercase());
        // Path-level parameters apply too; an operation's own one of the same name and place wins.
        let mut params: BTreeMap<(String, String), &Value> = BTreeMap::new();
        for list in [item.get("parameters"), op.get("parameters")].into_iter().flatten() {
            for p in list.as_array().into_iter().flatten() {
                let p = self.resolve(p)?;
                let (Some(name), Some(place)) = (p["name"].as_str(), p["in"].as_str()) else {
                    return Err(format!("{at}: a parameter without name or in"));
                };
                params.insert((place.to_owned(), name.to_owned()), p);
            }
        }
        let mut operation = Operation {
            body: None,
            file: self.file.to_owned(),
            headers: BTreeMap::new(),
            method: method.to_ascii_uppercase(),
            path: template.to_owned(),
            path_params: Vec::new(),
            query: BTreeMap::new(),
            version: None,
        };
        for ((place, name), p) in &params {
            let required = p["required"] == true;
            match place.as_str() {
                "query" => {
                    operation.query.insert(name.clone(), required);
                }
                "path" => operation.path_params.push(name.clone()),
                "header" => {
                    operation.headers.insert(name.clone(), required);
                    if name.eq_ignore_ascii_case("version") {
                        operation.version = Some(version_values(p, &at)?);
                    }
                }
                _ => {}
            }
        }
        if let Some(rb) = op.get("requestBody") {
            let rb = self.resolve(rb)?;
            let content = rb["content"].as_object().ok_or_else(|| format!("{at}: a body without content"))?;
            let content_types: Vec<String> = content.keys().cloned().collect();
            // The client sends JSON; a form-only operation's fields are still the ones to check.
            let chosen = content.get("application/json").or_else(|| content.values().next());
            let schema = match chosen.map(|c| &c["schema"]) {
                Some(s) if !s.is_null() => {
                    self.object_schema(s, &format!("{} {template}", operation.method))?
                }
                _ => None,
            };
            operation.body = Some(Body { content_types, required: rb["required"] == true, schema });
        }
        Ok(operation)
    }

    /// The name of `raw`'s schema in `self.schemas` (adding it and the object schemas below
    /// it), or `None` when `raw` is not an object with listed fields. `inline` names it when it
    /// is not a component.
    fn object_schema(&mut self, raw: &'a Value, inline: &str) -> Result<Option<String>, String> {
        let name = component_name(raw).unwrap_or_else(|| inline.to_owned());
        let resolved = self.merged(raw)?;
        let is_object =
            resolved.properties.is_some() || resolved.open || self.resolve(raw)?["type"] == "object";
        if !is_object {
            return Ok(None);
        }
        if self.schemas.contains_key(&name) {
            return Ok(Some(name));
        }
        // Inserted before the fields are filled, so a schema that contains itself ends.
        self.schemas.insert(name.clone(), Schema::default());
        let mut schema = Schema {
            fields: BTreeMap::new(),
            open: resolved.open || resolved.properties.is_none(),
            required: resolved.required.into_iter().collect(),
        };
        for (field, prop) in resolved.properties.unwrap_or_default() {
            let child = format!("{name}.{field}");
            let mut f = Field::default();
            let prop_resolved = self.resolve(prop)?;
            if prop_resolved["type"] == "array" && !prop_resolved["items"].is_null() {
                let items = &prop_resolved["items"];
                if self.merged(items)?.properties.is_some() {
                    f.items = self.object_schema(items, &format!("{child}[]"))?;
                }
            } else if self.merged(prop)?.properties.is_some() {
                f.object = self.object_schema(prop, &child)?;
            }
            schema.fields.insert(field, f);
        }
        self.schemas.insert(name.clone(), schema);
        Ok(Some(name))
    }

    /// `raw` with its `$ref`s followed and its `allOf` members merged.
    fn merged(&self, raw: &'a Value) -> Result<Merged<'a>, String> {
        let v = self.resolve(raw)?;
        let mut m = Merged { properties: None, required: BTreeSet::new(), open: false };
        if let Some(props) = v.get("properties").and_then(Value::as_object) {
            m.properties = Some(props.iter().map(|(k, p)| (k.clone(), p)).collect());
        }
        m.required.extend(
            v["required"].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned),
        );
        if v.get("additionalProperties").is_some_and(|a| *a != false)
            || v.get("oneOf").is_some()
            || v.get("anyOf").is_some()
        {
            m.open = true;
        }
        for member in v["allOf"].as_array().into_iter().flatten() {
            let sub = self.merged(member)?;
            if let Some(props) = sub.properties {
                m.properties.get_or_insert_with(BTreeMap::new).extend(props);
            }
            m.required.extend(sub.required);
            m.open |= sub.open;
        }
        Ok(m)
    }
}

struct Merged<'a> {
    properties: Option<BTreeMap<String, &'a Value>>,
    required: BTreeSet<String>,
    open: bool,
}

/// `X` for `{"$ref": "#/components/schemas/X"}`, also when wrapped in a one-member `allOf`
/// (how NestJS writes a field of a named type).
fn component_name(raw: &Value) -> Option<String> {
    let r = match raw.get("$ref") {
        Some(r) => r,
        None => match raw.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
            Some([only]) => only.get("$ref")?,
            _ => return None,
        },
    };
    r.as_str()?.strip_prefix("#/components/schemas/").map(str::to_owned)
}

/// The `Version` values: the schema's `enum`, else its `example`.
fn version_values(p: &Value, at: &str) -> Result<Vec<String>, String> {
    let from_enum: Vec<String> = p["schema"]["enum"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    if !from_enum.is_empty() {
        return Ok(from_enum);
    }
    [&p["schema"]["example"], &p["example"]]
        .into_iter()
        .find_map(Value::as_str)
        .map(|v| vec![v.to_owned()])
        .ok_or_else(|| format!("{at}: a Version header with neither enum nor example"))
}
