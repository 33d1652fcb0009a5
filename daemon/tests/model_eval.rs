//! `leadlined model eval` end to end: the real binary on a small CSV committed beside the tests.
//!
//! `fixtures/leads.csv` is generated with a known signal (300 leads: source, reply time with a
//! `-1` "never replied" sentinel, message count, pre-approval, month; converted yes/no), so a
//! model that learns anything scores well above a coin toss on it.

use std::path::PathBuf;
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn eval(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_leadlined"))
        .args(["model", "eval"])
        .args(args)
        .output()
        .expect("leadlined runs")
}

/// `model eval` on the committed leads, predicting `converted = yes`, with `extra` flags.
fn eval_leads(extra: &[&str]) -> Output {
    let csv = fixture("leads.csv");
    let mut args =
        vec!["--csv", csv.to_str().expect("utf-8 path"), "--target", "converted", "--positive", "yes"];
    args.extend_from_slice(extra);
    eval(&args)
}

#[test]
fn json_report_holds_the_contract_keys_for_both_models() {
    let out = eval_leads(&["--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    for key in ["auc", "pr_auc", "logloss", "train_s", "predict_rows_per_s"] {
        assert!(report[key].is_number(), "{key} missing in {report}");
    }
    assert_eq!(report["rows"], 300);
    assert_eq!(report["test_rows"], 60, "every5 tests index 4, 9, ...");
    let models = report["models"].as_array().expect("models");
    assert_eq!(
        models.iter().map(|m| m["model"].as_str().unwrap_or("")).collect::<Vec<_>>(),
        ["gbdt", "logistic"]
    );
    for m in models {
        let auc = m["auc"].as_f64().expect("auc");
        assert!(auc > 0.65, "{} learned nothing: auc {auc}", m["model"]);
        assert!(m["max_explain_error"].as_f64().expect("explain error") < 1e-6, "{m}");
    }
    assert!(models[0]["max_diff_vs_crate"].as_f64().expect("diff") < 1e-9, "{}", models[0]);
    let columns = report["columns"].to_string();
    assert!(columns.contains("reply_minutes: numeric; -1 is a sentinel"), "{columns}");
    assert!(columns.contains("month: month names"), "{columns}");
}

#[test]
fn text_report_prints_each_key_and_drop_and_time_split_work() {
    let out = eval_leads(&["--drop", "month,pre_approved", "--split", "time", "--model", "logistic"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    for key in ["model: logistic", "auc: ", "pr_auc: ", "logloss: ", "train_s: ", "predict_rows_per_s: "] {
        assert!(text.contains(key), "{key} missing in\n{text}");
    }
    assert!(text.contains("rows: 300 (240 train, 60 test, split time)"), "{text}");
    assert!(!text.contains("model: gbdt"));
    assert!(!text.contains("month"), "a dropped column is not read: {text}");
}

#[test]
fn bad_input_exits_2_naming_file_line_or_column() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let bad = dir.path().join("broken.csv");
    std::fs::write(&bad, "a;b;y\n1;2;yes\n3;4\n").expect("writes");
    let out = eval(&["--csv", bad.to_str().expect("utf-8 path"), "--target", "y", "--positive", "yes"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.csv, line 3") && err.contains("2 fields where the header has 3"), "{err}");

    let csv = fixture("leads.csv");
    let out = eval(&["--csv", csv.to_str().expect("utf-8 path"), "--target", "sold", "--positive", "yes"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no column \"sold\"") && err.contains("converted"), "{err}");

    let out =
        eval(&["--csv", csv.to_str().expect("utf-8 path"), "--target", "converted", "--positive", "Yes"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Values seen: no, yes"));

    let missing = dir.path().join("nope.csv");
    let out = eval(&["--csv", missing.to_str().expect("utf-8 path"), "--target", "y", "--positive", "yes"]);
    assert_eq!(out.status.code(), Some(2));
}
