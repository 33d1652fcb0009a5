//! Text and styles written into the frame's buffer exactly as ratatui's widgets write them, but
//! with printable ASCII put straight into the cells.
//!
//! ratatui sends every character through grapheme segmentation, a width lookup and a
//! bounds-checked index, and every style, even an empty one, through a loop over the cells it
//! covers. A screen full of plain text cost about as much as our busiest screens
//! (`docs/benchmarks.md`), so the lists, which fill most of every screen, are written here.
//! Text that is not all printable ASCII takes ratatui's own path, so wide characters, combining
//! marks and control characters behave as everywhere else; the tests check both paths against
//! ratatui's widgets, cell for cell.

use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Widget};

/// Patches `style` onto every cell of `area` (as `Buffer::set_style`); an empty style changes
/// nothing and is skipped.
pub fn style(buf: &mut Buffer, area: Rect, style: Style) {
    if style == Style::default() {
        return;
    }
    let area = buf.area.intersection(area);
    if area.is_empty() {
        return;
    }
    let width = usize::from(area.width);
    for y in area.top()..area.bottom() {
        let start = buf.index_of(area.x, y);
        for cell in &mut buf.content[start..start + width] {
            cell.set_style(style);
        }
    }
}

/// Whether `s` is all printable ASCII: one cell a byte, each byte its own grapheme.
fn printable(s: &str) -> bool {
    s.bytes().all(|b| (0x20..0x7f).contains(&b))
}

/// Writes `line` into the first row of `area`, as rendering ratatui's `Line` widget there does:
/// aligned within the area, the end cut off when it does not fit (or, for a right- or
/// centre-aligned line, the start too).
pub fn line(buf: &mut Buffer, area: Rect, line: &Line<'_>) {
    if !line.spans.iter().all(|span| printable(&span.content)) {
        line.render(area, buf);
        return;
    }
    let area = area.intersection(buf.area);
    let width: usize = line.spans.iter().map(|span| span.content.len()).sum();
    if area.is_empty() || width == 0 {
        return;
    }
    let area = Rect { height: 1, ..area };
    self::style(buf, area, line.style);
    let room = usize::from(area.width);
    let (indent, mut skip) = match (line.alignment, width <= room) {
        (Some(Alignment::Center), true) => ((room - width) / 2, 0),
        (Some(Alignment::Right), true) => (room - width, 0),
        (Some(Alignment::Center), false) => (0, (width - room) / 2),
        (Some(Alignment::Right), false) => (0, width - room),
        (Some(Alignment::Left) | None, _) => (0, 0),
    };
    let start = buf.index_of(area.x, area.y);
    let mut cells = buf.content[start + indent..start + room].iter_mut();
    for span in &line.spans {
        let bytes = span.content.as_bytes();
        let shown = bytes.get(skip..).unwrap_or_default();
        skip = skip.saturating_sub(bytes.len());
        for (&byte, cell) in shown.iter().zip(cells.by_ref()) {
            cell.set_char(char::from(byte)).set_style(span.style);
        }
    }
}

/// Writes `line` from (`x`, `y`) in at most `max_width` cells, as `Buffer::set_line` does: its
/// spans one after the other, in the line's style patched with each span's, the cells after
/// it left alone.
pub fn set_line(buf: &mut Buffer, x: u16, y: u16, line: &Line<'_>, max_width: u16) {
    let inside = buf.area.contains(ratatui::layout::Position { x, y });
    if !inside || !line.spans.iter().all(|span| printable(&span.content)) {
        buf.set_line(x, y, line, max_width);
        return;
    }
    let room = usize::from(max_width.min(buf.area.right() - x));
    let start = buf.index_of(x, y);
    let mut cells = buf.content[start..start + room].iter_mut();
    for span in &line.spans {
        let style = line.style.patch(span.style);
        for (&byte, cell) in span.content.as_bytes().iter().zip(cells.by_ref()) {
            cell.set_char(char::from(byte)).set_style(style);
        }
    }
}

/// Writes `lines` into `area`, in `block` if one is given, as ratatui's
/// `Paragraph::new(lines).style(style).block(block)` does (no wrapping, no scrolling): a line
/// per row from the top, each cut at the area's width, `style` under every cell and the line's
/// own style under its characters only.
pub fn paragraph(buf: &mut Buffer, area: Rect, lines: &[Line<'_>], style: Style, block: Option<&Block<'_>>) {
    let area = area.intersection(buf.area);
    self::style(buf, area, style);
    let inner = match block {
        Some(block) => {
            block.render(area, buf);
            block.inner(area)
        }
        None => area,
    };
    if inner.is_empty() {
        return;
    }
    let room = inner.width;
    for (line, y) in lines.iter().zip(inner.top()..inner.bottom()) {
        let row = Rect { y, height: 1, ..inner };
        if !line.spans.iter().all(|span| printable(&span.content)) {
            Paragraph::new(line.clone()).style(style).render(row, buf);
            continue;
        }
        let width: usize = line.spans.iter().map(|span| span.content.len()).sum();
        let width = u16::try_from(width).unwrap_or(u16::MAX).min(room);
        let indent = match line.alignment {
            Some(Alignment::Center) => (room / 2).saturating_sub(width / 2),
            Some(Alignment::Right) => room - width,
            Some(Alignment::Left) | None => 0,
        };
        let start = buf.index_of(inner.x, y);
        let mut cells = buf.content[start + usize::from(indent)..start + usize::from(room)].iter_mut();
        let mut left = usize::from(width);
        for span in &line.spans {
            let style = line.style.patch(span.style);
            let shown = &span.content.as_bytes()[..span.content.len().min(left)];
            left -= shown.len();
            for (&byte, cell) in shown.iter().zip(cells.by_ref()) {
                cell.set_char(char::from(byte)).set_style(style);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use ratatui::style::{Color, Modifier, Stylize};
    use ratatui::text::Span;

    use super::*;

    /// A buffer with something in every cell, so a cell left alone shows.
    fn canvas(area: Rect) -> Buffer {
        let mut buf = Buffer::empty(area);
        for (i, cell) in buf.content.iter_mut().enumerate() {
            cell.set_char(char::from(b'a' + (i % 26) as u8)).set_fg(Color::Indexed((i % 7) as u8));
        }
        buf
    }

    fn styles() -> impl Strategy<Value = Style> {
        prop_oneof![
            Just(Style::default()),
            Just(Style::default().fg(Color::Red)),
            Just(Style::default().bg(Color::Blue).bold()),
            Just(Style::default().remove_modifier(Modifier::BOLD).fg(Color::Green)),
        ]
    }

    fn texts() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => "[ -~]{0,12}",
            1 => "[ -~éß—…●▶日本\u{301}\t\n]{0,8}",
        ]
    }

    fn lines() -> impl Strategy<Value = Line<'static>> {
        let span = (texts(), styles()).prop_map(|(text, style)| Span::styled(text, style));
        let alignment = prop_oneof![
            Just(None),
            Just(Some(Alignment::Left)),
            Just(Some(Alignment::Center)),
            Just(Some(Alignment::Right))
        ];
        (proptest::collection::vec(span, 0..4), styles(), alignment).prop_map(|(spans, style, alignment)| {
            let mut line = Line::from(spans).style(style);
            line.alignment = alignment;
            line
        })
    }

    fn areas() -> impl Strategy<Value = Rect> {
        (0u16..14, 0u16..4, 0u16..16, 0u16..3)
            .prop_map(|(x, y, width, height)| Rect::new(x, y, width, height))
    }

    proptest! {
        #[test]
        fn a_paragraph_is_written_as_ratatui_writes_it(
            lines in proptest::collection::vec(lines(), 0..6),
            style in styles(),
            area in areas(),
            bordered in any::<bool>(),
        ) {
            let frame = Rect::new(2, 1, 20, 4);
            let area = Rect { height: area.height * 2, ..area };
            let block = Block::bordered().title("t");
            let block = bordered.then_some(&block);
            let mut ours = canvas(frame);
            super::paragraph(&mut ours, area, &lines, style, block);
            let mut paragraph = Paragraph::new(lines.clone()).style(style);
            if let Some(block) = block {
                paragraph = paragraph.block(block.clone());
            }
            let mut theirs = canvas(frame);
            paragraph.render(area, &mut theirs);
            prop_assert_eq!(ours, theirs);
        }

        #[test]
        fn a_line_is_set_as_the_buffer_sets_it(line in lines(), x in 2u16..24, y in 1u16..5, max in 0u16..24) {
            let frame = Rect::new(2, 1, 20, 4);
            let mut ours = canvas(frame);
            let mut theirs = canvas(frame);
            super::set_line(&mut ours, x, y, &line, max);
            if frame.contains(ratatui::layout::Position { x, y }) {
                theirs.set_line(x, y, &line, max);
            }
            prop_assert_eq!(ours, theirs);
        }

        #[test]
        fn a_line_is_written_as_ratatui_writes_it(line in lines(), area in areas()) {
            let frame = Rect::new(2, 1, 20, 4);
            let mut ours = canvas(frame);
            let mut theirs = canvas(frame);
            super::line(&mut ours, area, &line);
            (&line).render(area, &mut theirs);
            prop_assert_eq!(ours, theirs);
        }

        #[test]
        fn a_style_is_patched_as_ratatui_patches_it(style in styles(), area in areas()) {
            let frame = Rect::new(2, 1, 20, 4);
            let mut ours = canvas(frame);
            let mut theirs = canvas(frame);
            super::style(&mut ours, area, style);
            theirs.set_style(area, style);
            prop_assert_eq!(ours, theirs);
        }
    }

    #[test]
    fn a_right_aligned_line_too_long_keeps_its_end() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 4, 1));
        let line = Line::from(vec![Span::raw("ab"), "cdef".red()]).alignment(Alignment::Right);
        let area = buf.area;
        super::line(&mut buf, area, &line);
        assert_eq!(buf, Buffer::with_lines([Line::from(vec!["cdef".red()])]));
    }
}
