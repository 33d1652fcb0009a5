//! `leadline demo` in a real terminal (tmux), driven by real key presses as a new user would:
//! find a lead by name with `/`, open it, tag it, read the funnel on Analytics, and quit. The
//! text on screen is checked at each step, and the tag is checked in the daemon's store.
//!
//! tmux is the terminal. Where it is not installed the test says so and passes without
//! running: `scripts/test-tools.sh` installs it, and `.ci/run` calls that script first.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use leadline_integration::{bin, short_tempdir};

/// A tmux server of this test's own (`-L`), so that no other session is touched.
struct Tmux {
    server: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux").arg("-L").arg(&self.server).args(args).stdin(Stdio::null()).output().unwrap()
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "demo"]).stdout).into_owned()
    }

    /// Presses keys, as `tmux send-keys` names them ("Enter", "Escape", or literal text with
    /// `-l`).
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "demo"];
        args.extend_from_slice(keys);
        assert!(self.run(&args).status.success(), "send-keys {keys:?}");
    }

    fn type_text(&self, text: &str) {
        assert!(self.run(&["send-keys", "-t", "demo", "-l", text]).status.success(), "type {text:?}");
    }

    /// Waits until the screen shows every one of `texts`, and returns it.
    fn wait_for(&self, texts: &[&str], what: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let screen = self.screen();
            if texts.iter().all(|t| screen.contains(t)) {
                return screen;
            }
            assert!(Instant::now() < deadline, "{what}: the screen never showed {texts:?}:\n{screen}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn session_alive(&self) -> bool {
        self.run(&["has-session", "-t", "demo"]).status.success()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

fn tmux_installed() -> bool {
    Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success())
}

/// Runs `leadline` against the demo's socket.
fn leadline(home: &Path, socket: &Path, args: &[&str]) -> serde_json::Value {
    let out = Command::new(bin("leadline"))
        .arg("--socket")
        .arg(socket)
        .args(args)
        .env("HOME", home)
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_DATA_HOME")
        .env_remove("LEADLINE_CONFIG")
        .env_remove("LEADLINE_DATA_DIR")
        .env_remove("LEADLINE_SOCKET")
        .output()
        .unwrap();
    assert!(out.status.success(), "leadline {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_new_user_finds_a_lead_tags_it_reads_the_funnel_and_quits() {
    if !tmux_installed() {
        eprintln!("tmux is not installed: skipped (scripts/test-tools.sh installs it)");
        return;
    }
    let dir = short_tempdir();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let socket = dir.path().join("s.sock");
    let tmux = Tmux { server: format!("leadline-e2e-{}", std::process::id()) };
    // A quiet location (one live event a minute), so that the rows stay where the test reads
    // them; the terminal is the smallest the dashboard is made for.
    let command = format!(
        "env -u XDG_CONFIG_HOME -u XDG_DATA_HOME -u LEADLINE_CONFIG -u LEADLINE_DATA_DIR \
         HOME={home} TERM=xterm-256color {leadline} --socket {socket} demo --activity-ms 60000",
        home = home.display(),
        leadline = bin("leadline").display(),
        socket = socket.display(),
    );
    let started =
        tmux.run(&["new-session", "-d", "-s", "demo", "-x", "80", "-y", "24", &command]).status.success();
    assert!(started, "tmux could not start the demo");
    tmux.wait_for(&["1 New", "6 All"], "the dashboard opens on its queues");

    // A lead of the demo location, as the daemon has it.
    let all = leadline(&home, &socket, &["queue", "all", "--limit", "1", "--json"]);
    let lead = &all.as_array().unwrap()[0];
    let (id, name) = (lead["id"].as_str().unwrap(), lead["name"].as_str().unwrap());
    let last_name = name.split_whitespace().last().unwrap();

    // `/`, the last name: the lead is among the matches.
    tmux.keys(&["/"]);
    tmux.wait_for(&["Search"], "/ opens the search");
    tmux.type_text(last_name);
    let screen = tmux.wait_for(&[&format!("> {last_name}"), name], "the search finds the lead");
    assert!(screen.contains("match"), "the search says how many match:\n{screen}");

    // Down to the lead (the first match may be another lead of that name) and open it.
    let rank = {
        let rows: Vec<&str> = screen
            .lines()
            .filter(|l| l.starts_with('│') && !l.starts_with("│>") && l.contains(last_name))
            .collect();
        rows.iter().position(|l| l.contains(name)).unwrap()
    };
    for _ in 0..rank {
        tmux.keys(&["Down"]);
    }
    tmux.keys(&["Enter"]);
    tmux.wait_for(&[&format!("┌ {name}"), "Why this score"], "enter opens the lead");

    // `t`, a tag, enter: the tag is on the lead at once, as a pending edit.
    tmux.keys(&["t"]);
    tmux.wait_for(&["tag"], "t asks for the tag");
    tmux.type_text("e2e-tmux");
    tmux.keys(&["Enter"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let detail = leadline(&home, &socket, &["lead", id, "--json"]);
        let tags = detail["lead"]["tags"].as_array().or_else(|| detail["tags"].as_array()).cloned();
        if tags.unwrap_or_default().iter().any(|t| t == "e2e-tmux") {
            break;
        }
        assert!(Instant::now() < deadline, "the tag never reached the store: {detail}");
        std::thread::sleep(Duration::from_millis(100));
    }

    // Back, then Analytics: the funnel is on screen.
    tmux.keys(&["Escape"]);
    tmux.keys(&["Escape"]);
    tmux.keys(&["8"]);
    tmux.wait_for(&["Analytics", "Funnel"], "8 opens Analytics");

    // `q` quits, and the demo stops with it.
    tmux.keys(&["q"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while tmux.session_alive() {
        assert!(Instant::now() < deadline, "q did not end the demo:\n{}", tmux.screen());
        std::thread::sleep(Duration::from_millis(100));
    }
}
