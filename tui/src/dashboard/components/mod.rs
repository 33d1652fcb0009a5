//! The dashboard's components. Each draws one part of the screen from the read-only [`App`];
//! keys are resolved once by the keymap and handled by the `App`, so components hold no state
//! of their own and the modality of the help overlay and the text prompt is the `App`'s rule.
//!
//! [`App`]: super::app::App

pub mod analytics;
pub mod compose;
pub mod deal;
pub mod detail;
pub mod followups;
pub mod help;
pub mod intel;
pub mod list;
pub mod paint;
pub mod palette;
pub mod prompt;
pub mod queue_table;
pub mod search;
pub mod status_bar;
pub mod system;
pub mod tabs;
pub mod tasks;

use crate::dashboard::theme::Theme;
use ratatui::text::{Line, Span};

pub use list::{ListRow, draw_list, draw_plain_list};

/// The width of the mark column shown while rows are marked.
pub const MARK_WIDTH: u16 = 1;

/// The mark column's cell: `●` on a marked row.
pub fn mark_cell(th: Theme, marked: bool) -> Line<'static> {
    if marked { Line::from(Span::styled("●", th.mark())) } else { Line::from(" ") }
}

/// Truncates `s` to `max` characters, marking the cut with `…`.
pub fn ellipsize(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    if max == 0 {
        return String::new();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// Word-wraps `text` into at most `max_lines` lines of `width` characters, the last one cut
/// with `…` if the text goes on.
pub fn wrap(text: &str, width: usize, max_lines: usize) -> Vec<String> {
    if width == 0 || max_lines == 0 {
        return Vec::new();
    }
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let needed = current.chars().count() + usize::from(!current.is_empty()) + word.chars().count();
        if !current.is_empty() && needed > width {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    if !current.is_empty() {
        lines.push(current);
    }
    if lines.len() > max_lines {
        let rest = lines.split_off(max_lines - 1).join(" ");
        lines.push(rest);
    }
    lines.into_iter().map(|l| ellipsize(&l, width)).collect()
}

/// The text on one line: runs of whitespace, line breaks included, become one space.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ellipsize_marks_the_cut() {
        assert_eq!(ellipsize("hello", 5), "hello");
        assert_eq!(ellipsize("hello world", 6), "hello…");
        assert_eq!(ellipsize("héllo", 2), "h…");
        assert_eq!(ellipsize("xy", 0), "");
    }
}
