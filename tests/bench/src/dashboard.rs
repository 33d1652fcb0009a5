//! The real dashboard in a real terminal (tmux), against the daemon holding the whole data set:
//! how long `G` on `all` takes to show the last lead, and the dashboard's resident memory after
//! scrolling through the queue. Skipped, with a note, where tmux is not installed.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use leadline_tui::dashboard::format::thousands;

use crate::ipc::status_kb;
use crate::stats::{Summary, summarize};

/// What the dashboard run measured.
pub struct DashboardFigures {
    /// From sending `G` to the screen showing the last row's number.
    pub jump_last: Summary,
    /// From sending `j` (or `k`) to the screen showing the selection moved: one key's latency.
    pub key: Summary,
    /// One `tmux capture-pane` alone: the floor under both figures above.
    pub capture: Summary,
    /// Peak and current RSS of the dashboard process, in kB, after the jumps and a scroll of
    /// many pages.
    pub peak_rss_kb: u64,
    pub rss_kb: u64,
}

/// A tmux server of the benchmark's own, so that nothing else's sessions are touched.
const SERVER: &str = "leadline-bench";
const SESSION: &str = "dash";

fn tmux(args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new("tmux").arg("-L").arg(SERVER).args(args).stderr(Stdio::null()).output()?;
    anyhow::ensure!(out.status.success(), "tmux {args:?} failed");
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn screen() -> anyhow::Result<String> {
    tmux(&["capture-pane", "-p", "-t", SESSION])
}

/// Waits until the screen shows `text`; returns when it did.
fn wait_for(text: &str, within: Duration) -> anyhow::Result<Instant> {
    let deadline = Instant::now() + within;
    loop {
        if screen()?.contains(text) {
            return Ok(Instant::now());
        }
        anyhow::ensure!(Instant::now() < deadline, "the dashboard never showed {text:?}:\n{}", screen()?);
        std::thread::sleep(Duration::from_micros(500));
    }
}

/// Runs the dashboard (this benchmark re-executed as `dashboard SOCKET`) in a 120x40 tmux
/// window on `all`, which holds `total` leads, and times `samples` jumps to its last row.
pub fn measure(socket: &Path, total: u64, samples: usize) -> anyhow::Result<Option<DashboardFigures>> {
    if Command::new("tmux").arg("-V").output().map(|o| !o.status.success()).unwrap_or(true) {
        eprintln!("tmux is not installed: no dashboard figures");
        return Ok(None);
    }
    let exe = std::env::current_exe()?;
    let command = format!("{} dashboard {}", exe.display(), socket.display());
    tmux(&["new-session", "-d", "-s", SESSION, "-x", "120", "-y", "40", &command])?;
    let result = (|| {
        let pid: u32 = tmux(&["display-message", "-p", "-t", SESSION, "#{pane_pid}"])?.trim().parse()?;
        let total = thousands(total);
        // `all` is the sixth tab.
        wait_for("of ", Duration::from_secs(30))?;
        tmux(&["send-keys", "-t", SESSION, "6"])?;
        let first = format!("1 of {total}");
        let last = format!("{total} of {total}");
        wait_for(&first, Duration::from_secs(10))?;
        let mut times = Vec::with_capacity(samples);
        for _ in 0..samples {
            let sent = Instant::now();
            tmux(&["send-keys", "-t", SESSION, "G"])?;
            times.push(wait_for(&last, Duration::from_secs(10))? - sent);
            // Home, not `g`: `g` begins the dashboard's `g …` sequences (`g g` is first-row).
            tmux(&["send-keys", "-t", SESSION, "Home"])?;
            wait_for(&first, Duration::from_secs(10))?;
        }
        // One key that changes the screen a little: the selection down and back up.
        let second = format!("2 of {total}");
        let mut keys = Vec::with_capacity(2 * samples);
        for _ in 0..samples {
            for (key, shows) in [("j", &second), ("k", &first)] {
                let sent = Instant::now();
                tmux(&["send-keys", "-t", SESSION, key])?;
                keys.push(wait_for(shows, Duration::from_secs(10))? - sent);
            }
        }
        let mut captures = Vec::with_capacity(samples);
        for _ in 0..samples {
            let started = Instant::now();
            screen()?;
            captures.push(started.elapsed());
        }
        // Scroll a long way down, page by page, as an agent working through the queue would.
        for _ in 0..50 {
            tmux(&["send-keys", "-t", SESSION, "-N", "20", "PageDown"])?;
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(300));
        Ok(DashboardFigures {
            jump_last: summarize(&mut times),
            key: summarize(&mut keys),
            capture: summarize(&mut captures),
            peak_rss_kb: status_kb(pid, "VmHWM:"),
            rss_kb: status_kb(pid, "VmRSS:"),
        })
    })();
    let _ = tmux(&["kill-server"]);
    result.map(Some)
}
