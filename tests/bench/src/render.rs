//! One dashboard frame with every lead loaded, into `TestBackend` at 160×48.

use std::time::{Duration, Instant};

use leadline_shared::domain::LeadSummary;
use leadline_tui::dashboard::{App, render};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::stats::{Summary, summarize};

/// Times `samples` frames, moving the selection so each frame differs.
pub fn frames(rows: &[LeadSummary], samples: usize) -> Summary {
    let mut app = App::with_rows(jiff::Timestamp::now(), rows.to_vec());
    app.resize(160, 48);
    let Ok(mut terminal) = Terminal::new(TestBackend::new(160, 48));
    let mut times: Vec<Duration> = Vec::with_capacity(samples);
    for i in 0..samples + 10 {
        let _ = app.handle_action(if i % 50 == 0 {
            leadline_tui::dashboard::Action::PageDown
        } else {
            leadline_tui::dashboard::Action::NextRow
        });
        let started = Instant::now();
        let _ = terminal.draw(|f| render(&app, f));
        if i >= 10 {
            times.push(started.elapsed());
        }
    }
    summarize(&mut times)
}
