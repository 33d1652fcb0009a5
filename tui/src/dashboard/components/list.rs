//! A list as every list looks: the rows of the visible window under a header, the selected row
//! marked and highlighted, in columns laid out by constraints.
//!
//! It draws what ratatui's `Table` draws (one-line rows, one cell between columns, the
//! highlight symbol's column always kept or, for a plain list, never), cell for cell (the
//! tests check it against `Table`), but through [`paint`](super::paint): the lists fill most
//! of every screen, and `Table` put each character through ratatui's general text path and
//! each cell under five styles, most of them empty.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Widget};

use super::paint;
use crate::dashboard::theme::Theme;

/// What marks the selected row, in a column of its own that is always kept.
pub const HIGHLIGHT_SYMBOL: &str = "▶ ";

/// The cells between two columns.
const COLUMN_SPACING: u16 = 1;

/// One row of a list: a line for each column, and a style for the whole row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListRow<'a> {
    cells: Vec<Line<'a>>,
    style: Style,
}

impl<'a> ListRow<'a> {
    /// A row of `cells`, one a column (more cells than columns are not drawn).
    pub fn new<T: Into<Line<'a>>>(cells: impl IntoIterator<Item = T>) -> Self {
        ListRow { cells: cells.into_iter().map(Into::into).collect(), style: Style::default() }
    }

    /// The row with `style` under its cells' own.
    #[must_use]
    pub fn style(self, style: impl Into<Style>) -> Self {
        ListRow { style: style.into(), ..self }
    }
}

/// Draws `rows` (the visible window, or more: the window then follows `selected`) under
/// `header` in `block`, the `selected` one (its index among `rows`) highlighted and marked.
#[allow(clippy::too_many_arguments, reason = "each list's parts differ; a struct would only rename them")]
pub fn draw_list<'a>(
    th: Theme,
    frame: &mut Frame,
    area: Rect,
    rows: impl IntoIterator<Item = ListRow<'a>>,
    widths: impl IntoIterator<Item = Constraint>,
    header: ListRow<'a>,
    block: Block<'a>,
    selected: Option<usize>,
) {
    let selection = Selection { row: selected, style: th.selected(), symbol: Some(HIGHLIGHT_SYMBOL) };
    draw(frame, area, rows, widths, &header.style(th.header()), &block, &selection);
}

/// Draws `rows` under `header` (in the header's own style) in `block`, with no row selected
/// and no column kept for the mark: a table of figures, or a list whose rows show the
/// selection in their own style.
pub fn draw_plain_list<'a>(
    frame: &mut Frame,
    area: Rect,
    rows: impl IntoIterator<Item = ListRow<'a>>,
    widths: impl IntoIterator<Item = Constraint>,
    header: ListRow<'a>,
    block: Block<'a>,
) {
    let selection = Selection { row: None, style: Style::default(), symbol: None };
    draw(frame, area, rows, widths, &header, &block, &selection);
}

/// Either list into the frame.
fn draw<'a>(
    frame: &mut Frame,
    area: Rect,
    rows: impl IntoIterator<Item = ListRow<'a>>,
    widths: impl IntoIterator<Item = Constraint>,
    header: &ListRow<'a>,
    block: &Block<'a>,
    selection: &Selection,
) {
    let rows: Vec<ListRow<'a>> = rows.into_iter().collect();
    let columns = Vec::from_iter(widths);
    render(frame.buffer_mut(), area, &rows, &columns, header, block, selection);
}

/// Which row is selected and how it shows.
struct Selection {
    /// Its index among the rows given.
    row: Option<usize>,
    /// Patched over the whole row.
    style: Style,
    /// Drawn before it, in a column of its own kept on every row; none: no such column.
    symbol: Option<&'static str>,
}

/// A list into a buffer.
fn render(
    buf: &mut ratatui::buffer::Buffer,
    area: Rect,
    rows: &[ListRow<'_>],
    widths: &[Constraint],
    header: &ListRow<'_>,
    block: &Block<'_>,
    selection: &Selection,
) {
    block.render(area, buf);
    let inner = block.inner(area);
    if inner.is_empty() {
        return;
    }
    let selected = selection.row.filter(|_| !rows.is_empty()).map(|s| s.min(rows.len() - 1));
    let symbol = Line::from(selection.symbol.unwrap_or_default());
    let symbol_width = u16::try_from(symbol.width()).unwrap_or(u16::MAX);
    let [_, columns_area] = Layout::horizontal([Constraint::Length(symbol_width), Constraint::Fill(0)])
        .areas(Rect::new(0, 0, inner.width, 1));
    let columns = Layout::horizontal(widths.iter().copied())
        .flex(Flex::Start)
        .spacing(COLUMN_SPACING)
        .split(columns_area);
    let header_height = inner.height.min(1);
    let header_area = Rect { height: header_height, ..inner };
    let rows_area = Rect { y: inner.y + header_height, height: inner.height - header_height, ..inner };

    let cells = |buf: &mut ratatui::buffer::Buffer, row: &ListRow<'_>, row_area: Rect| {
        for (column, cell) in columns.iter().zip(&row.cells) {
            paint::line(buf, Rect { x: row_area.x + column.x, width: column.width, ..row_area }, cell);
        }
    };
    paint::style(buf, header_area, header.style);
    cells(buf, header, header_area);

    let (start, end) = visible(rows.len(), selected, rows_area.height);
    let mut selected_area = None;
    for (i, row) in rows.iter().enumerate().take(end).skip(start) {
        let y = rows_area.y + (i - start) as u16;
        let row_area = Rect { y, height: (y + 1).min(rows_area.bottom()).saturating_sub(y), ..rows_area };
        paint::style(buf, row_area, row.style);
        if selected == Some(i) && symbol_width > 0 {
            let symbol_area = Rect { width: symbol_width, ..row_area };
            paint::style(buf, symbol_area, row.style);
            paint::line(buf, symbol_area, &symbol);
        }
        if selected == Some(i) {
            selected_area = Some(row_area);
        }
        cells(buf, row, row_area);
    }
    if let Some(row_area) = selected_area {
        paint::style(buf, row_area, selection.style);
    }
}

/// The rows shown, `start..end`, of `len` one-line rows in `height` lines: from the first,
/// scrolled down only as far as the selected row needs (as `Table` does from offset 0).
fn visible(len: usize, selected: Option<usize>, height: u16) -> (usize, usize) {
    let height = usize::from(height);
    let end = len.min(height);
    match selected {
        // Past the window only when there are more rows than lines: the selected row becomes
        // the last line.
        Some(selected) if selected >= end => (selected + 1 - height, selected + 1),
        _ => (0, end),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use ratatui::buffer::Buffer;
    use ratatui::style::{Color, Stylize};
    use ratatui::text::Span;
    use ratatui::widgets::{Cell, HighlightSpacing, Row, StatefulWidget, Table, TableState};

    use super::*;

    fn canvas(area: Rect) -> Buffer {
        let mut buf = Buffer::empty(area);
        for (i, cell) in buf.content.iter_mut().enumerate() {
            cell.set_char(char::from(b'a' + (i % 26) as u8));
        }
        buf
    }

    fn styles() -> impl Strategy<Value = Style> {
        prop_oneof![
            3 => Just(Style::default()),
            1 => Just(Style::default().fg(Color::Red)),
            1 => Just(Style::default().bg(Color::Blue).bold()),
        ]
    }

    fn lines() -> impl Strategy<Value = Line<'static>> {
        let text = prop_oneof![4 => "[ -~]{0,14}", 1 => "[ -~é—…●日]{0,6}"];
        let span = (text, styles()).prop_map(|(t, s)| Span::styled(t, s));
        let alignment = prop_oneof![Just(None), Just(Some(ratatui::layout::Alignment::Right))];
        (proptest::collection::vec(span, 0..3), alignment).prop_map(|(spans, alignment)| {
            let mut line = Line::from(spans);
            line.alignment = alignment;
            line
        })
    }

    fn rows() -> impl Strategy<Value = ListRow<'static>> {
        (proptest::collection::vec(lines(), 0..6), styles())
            .prop_map(|(cells, style)| ListRow::new(cells).style(style))
    }

    fn constraints() -> impl Strategy<Value = Vec<Constraint>> {
        let one = prop_oneof![(1u16..4).prop_map(Constraint::Fill), (0u16..16).prop_map(Constraint::Length)];
        proptest::collection::vec(one, 1..6)
    }

    fn table_row<'a>(row: &ListRow<'a>) -> Row<'a> {
        Row::new(row.cells.iter().cloned().map(Cell::from)).style(row.style)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        #[test]
        fn a_list_is_drawn_as_ratatuis_table_draws_it(
            rows in proptest::collection::vec(rows(), 0..12),
            header in rows(),
            widths in constraints(),
            selected in proptest::option::of(0usize..14),
            (width, height) in (0u16..60, 0u16..12),
            bordered in any::<bool>(),
            marked in any::<bool>(),
        ) {
            let frame = Rect::new(1, 1, 62, 14);
            let area = Rect::new(2, 2, width, height);
            let block = if bordered { Block::bordered().title("list".bold()) } else { Block::new() };
            let highlight = Style::default().bg(Color::Yellow).fg(Color::Black);
            let mut ours = canvas(frame);
            let selection =
                Selection { row: selected, style: highlight, symbol: marked.then_some(HIGHLIGHT_SYMBOL) };
            render(&mut ours, area, &rows, &widths, &header, &block, &selection);
            let table = Table::new(rows.iter().map(table_row), widths.clone())
                .header(table_row(&header))
                .block(block)
                .row_highlight_style(highlight);
            let table = if marked {
                table.highlight_symbol(HIGHLIGHT_SYMBOL).highlight_spacing(HighlightSpacing::Always)
            } else {
                table.highlight_spacing(HighlightSpacing::Never)
            };
            let mut theirs = canvas(frame);
            StatefulWidget::render(&table, area, &mut theirs, &mut TableState::new().with_selected(selected));
            prop_assert_eq!(ours, theirs);
        }
    }
}
