//! `leadline`'s commands against a real daemon: the JSON contracts of product.md and exit codes.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use leadline_integration::*;
use serde_json::Value;

fn json(out: &std::process::Output) -> Value {
    assert!(out.status.success(), "failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn json_outputs_keep_their_contract() {
    let dir = short_tempdir();
    let dataset = write_dataset(dir.path(), 80);
    let daemon = Daemon::start(dir.path(), &["--import", dataset.to_str().unwrap()]);

    let status = json(&daemon.leadline(&["status", "--json"]));
    for key in ["version", "protocol", "pid"] {
        assert!(!status["daemon"][key].is_null(), "daemon.{key}");
    }
    for key in ["contacts", "opportunities", "messages"] {
        assert!(status["counts"][key].is_u64(), "counts.{key}");
    }
    for key in ["state", "last_success", "pending_ops", "failed_ops"] {
        assert!(status["sync"].get(key).is_some(), "sync.{key}");
    }

    let all = json(&daemon.leadline(&["queue", "all", "--limit", "80", "--json"]));
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 80);
    for lead in all {
        assert!(lead["id"].is_string() && lead["name"].is_string());
        assert!(lead["score"].as_u64().unwrap() <= 100);
        assert!(["hot", "warm", "cold"].contains(&lead["temperature"].as_str().unwrap()));
    }
    let hot = json(&daemon.leadline(&["queue", "hot", "--json"]));
    assert!(hot.as_array().unwrap().iter().all(|l| l["temperature"] == "hot"));

    let id = all[0]["id"].as_str().unwrap();
    let lead = json(&daemon.leadline(&["lead", id, "--json"]));
    assert_eq!(lead["id"], id);
    assert!(lead["score"].is_u64() && lead["temperature"].is_string());
    let explanation = lead["explanation"].as_array().unwrap();
    let sum: f64 = explanation.iter().map(|c| c["contribution"].as_f64().unwrap()).sum();
    assert!((sum - lead["score"].as_f64().unwrap()).abs() < 1e-6, "explanation adds up to the score");
    assert!(explanation.iter().all(|c| c["feature"].is_string()));
    assert!(lead["qualification"].is_object() && lead["timeline"].is_array());
    // The composite priority that orders `all`, with its parts as of the answer.
    assert!(lead["priority"].as_u64().unwrap() <= 100);
    let parts = &lead["priority_breakdown"];
    for key in ["priority", "probability", "value", "value_from", "expected", "urgency", "speed"] {
        assert!(!parts[key].is_null(), "priority_breakdown.{key}: {parts}");
    }
    let priorities: Vec<u64> = all.iter().map(|l| l["priority"].as_u64().unwrap()).collect();
    assert!(priorities.windows(2).all(|w| w[0] >= w[1]), "all is in priority order: {priorities:?}");
}

#[test]
fn bad_input_exits_2_and_no_daemon_exits_1() {
    let dir = short_tempdir();
    let daemon = Daemon::start(dir.path(), &[]);
    let unknown = daemon.leadline(&["lead", "no-such-id"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("queue all"));
    assert_eq!(daemon.leadline(&["queue", "no-such-list"]).status.code(), Some(2));
    assert_eq!(daemon.leadline(&["queue", "hot", "--limit", "999999"]).status.code(), Some(2));
    assert_eq!(daemon.leadline(&["frobnicate"]).status.code(), Some(2));

    let nobody = short_tempdir();
    let out = Command::new(bin("leadline"))
        .arg("--socket")
        .arg(nobody.path().join("none.sock"))
        .arg("--data-dir")
        .arg(nobody.path())
        .args(["status"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no daemon answers"));
}

#[test]
fn demo_headless_prints_the_socket_then_serves_leads() {
    let dir = short_tempdir();
    let socket = dir.path().join("demo.sock");
    let mut demo = Command::new(bin("leadline"))
        .arg("--socket")
        .arg(&socket)
        .args(["demo", "--headless", "--contacts", "150"])
        .env_remove("LEADLINE_CONFIG")
        .env_remove("LEADLINE_DATA_DIR")
        .env("LEADLINE_DATA_DIR", dir.path().join("unused"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(demo.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert_eq!(first.trim_end(), socket.to_str().unwrap());

    let out = Command::new(bin("leadline"))
        .arg("--socket")
        .arg(&socket)
        .args(["queue", "hot", "--json"])
        .output()
        .unwrap();
    let leads: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!leads.is_empty(), "the demo has hot leads");

    rustix::process::kill_process(rustix::process::Pid::from_child(&demo), rustix::process::Signal::TERM)
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while demo.try_wait().unwrap().is_none() {
        assert!(std::time::Instant::now() < deadline, "demo did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
    let stderr = {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut demo.stderr.take().unwrap(), &mut s).unwrap();
        s
    };
    assert!(demo.wait().unwrap().success(), "demo exit: {stderr}");
    // The demo stops its daemon before it exits.
    assert!(!socket.exists(), "the demo's daemon removed its socket");
}

#[test]
fn a_bad_keymap_is_refused_before_anything_starts() {
    let dir = short_tempdir();
    std::fs::write(dir.path().join("config.toml"), "").unwrap();
    std::fs::write(dir.path().join("keymap.toml"), "[keys]\n\"x\" = \"launch-rockets\"\n").unwrap();
    let socket = dir.path().join("s.sock");
    let out = Command::new(bin("leadline"))
        .arg("--config")
        .arg(dir.path().join("config.toml"))
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("--socket")
        .arg(&socket)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("launch-rockets") && stderr.contains("known actions"), "{stderr}");
    assert!(!socket.exists(), "no daemon was started");
}
