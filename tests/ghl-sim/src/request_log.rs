//! `--request-log FILE`: one JSON line per request:
//! `{"method","path","query","headers","body","status"}` with the bearer token redacted.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::Mutex;

use axum::http::HeaderMap;
use serde_json::{Map, Value, json};

/// An append-only JSON-lines request log.
#[derive(Debug)]
pub struct RequestLog {
    out: Mutex<BufWriter<File>>,
}

impl RequestLog {
    /// Opens (creates or appends to) the log file.
    pub fn open(path: &Path) -> io::Result<Self> {
        let f = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Self { out: Mutex::new(BufWriter::new(f)) })
    }

    /// Appends one entry and flushes it.
    pub fn write(&self, entry: &Value) {
        let Ok(mut out) = self.out.lock() else {
            return;
        };
        let ok = serde_json::to_writer(&mut *out, entry).is_ok()
            && out.write_all(b"\n").is_ok()
            && out.flush().is_ok();
        if !ok {
            tracing::warn!("could not write to the request log");
        }
    }
}

/// Headers as a JSON object (lower-case names), with `Authorization` redacted to `Bearer ***`.
pub fn redacted_headers(headers: &HeaderMap) -> Value {
    let mut m = Map::new();
    for (name, value) in headers {
        let v = if name == axum::http::header::AUTHORIZATION {
            let raw = value.to_str().unwrap_or("");
            match raw.split_once(' ') {
                Some((scheme, _)) => format!("{scheme} ***"),
                None => "***".to_string(),
            }
        } else {
            String::from_utf8_lossy(value.as_bytes()).into_owned()
        };
        m.insert(name.as_str().to_string(), json!(v));
    }
    Value::Object(m)
}

/// A body for the log: parsed JSON if it is JSON, else the text, else null.
pub fn body_value(body: &[u8]) -> Value {
    if body.is_empty() {
        return Value::Null;
    }
    serde_json::from_slice(body).unwrap_or_else(|_| json!(String::from_utf8_lossy(body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_the_token() {
        let mut h = HeaderMap::new();
        h.insert("authorization", "Bearer secret-token".parse().expect("valid"));
        h.insert("version", "2021-07-28".parse().expect("valid"));
        let v = redacted_headers(&h);
        assert_eq!(v["authorization"], "Bearer ***");
        assert_eq!(v["version"], "2021-07-28");
        assert!(!v.to_string().contains("secret"));
    }

    #[test]
    fn writes_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("log.jsonl");
        let log = RequestLog::open(&p).expect("opens");
        log.write(&json!({"method": "GET"}));
        log.write(&json!({"method": "POST", "body": body_value(br#"{"a":1}"#)}));
        let text = std::fs::read_to_string(&p).expect("reads");
        let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).expect("json line")).collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1]["body"]["a"], 1);
    }
}
