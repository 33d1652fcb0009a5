//! What ratatui itself costs for a frame at 160×48 into `TestBackend`, with nothing of ours:
//! an empty draw (the buffer cleared and compared), one bordered block, and a screen full of
//! plain text. The floor under the dashboard's frame figures (docs/benchmarks.md).
//! `cargo run --release -p leadline-tui --example frame_floor`

use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::widgets::{Block, Paragraph};

/// Times 500 draws after 50 untimed ones; prints the median and p99.
fn time(label: &str, mut draw: impl FnMut(&mut Terminal<TestBackend>)) {
    let Ok(mut terminal) = Terminal::new(TestBackend::new(160, 48));
    for _ in 0..50 {
        draw(&mut terminal);
    }
    let mut times: Vec<Duration> = (0..500)
        .map(|_| {
            let started = Instant::now();
            draw(&mut terminal);
            started.elapsed()
        })
        .collect();
    times.sort_unstable();
    println!("{label}: p50 {} µs, p99 {} µs", times[250].as_micros(), times[495].as_micros());
}

fn main() {
    time("empty draw", |t| {
        let _ = t.draw(|_| {});
    });
    time("one bordered block", |t| {
        let _ = t.draw(|f| f.render_widget(Block::bordered(), f.area()));
    });
    let text: String = (0..48)
        .map(|i| format!("{i:>3} Maria Gonzalez   98 hot  Zillow        Contacted     39m ago   8h  and more words to the edge of a wide terminal\n"))
        .collect();
    time("a screen of plain text", |t| {
        let _ = t.draw(|f| f.render_widget(Paragraph::new(text.as_str()), f.area()));
    });
}
