//! Reading any delimited text file: the separator is detected, fields may be quoted.
//!
//! Pure: [`parse`] takes the text and the file's name (for errors only), so it is tested on
//! strings. Every error names the file, the line and what to fix.

use std::path::Path;

use super::ModelError;

/// A parsed file: the header and the data rows, all as text.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Column names from the header row, unquoted and trimmed.
    pub header: Vec<String>,
    /// The data rows, each as long as the header.
    pub rows: Vec<Vec<String>>,
    /// The line each data row starts on, for errors about a row's values.
    pub lines: Vec<usize>,
    /// The separator found: `,`, `;`, `\t` or `|`.
    pub separator: char,
}

impl Table {
    /// The index of the column named `name`, or an error listing the columns there are.
    pub fn column(&self, name: &str, file: &str) -> Result<usize, ModelError> {
        self.header.iter().position(|h| h == name).ok_or_else(|| ModelError::NoSuchColumn {
            file: file.to_owned(),
            name: name.to_owned(),
            columns: self.header.join(", "),
        })
    }
}

/// Reads and parses a file (see [`parse`]).
pub fn read(path: &Path) -> Result<Table, ModelError> {
    let file = path.display().to_string();
    let bytes =
        std::fs::read(path).map_err(|e| ModelError::Read { file: file.clone(), reason: e.to_string() })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        // Lines are counted up to the bad byte so the user can find it.
        let at = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        ModelError::Csv {
            file: file.clone(),
            line,
            reason: "the file is not UTF-8 text; save it as UTF-8".into(),
        }
    })?;
    parse(&text, &file)
}

/// The separators tried, most common first.
const SEPARATORS: [char; 4] = [',', ';', '\t', '|'];

/// Picks the separator that splits the header into the most fields outside quotes.
///
/// The header decides because it is the one line every such file has, and column names rarely
/// hold separators; a tie keeps the earlier (more common) one.
fn detect_separator(header: &str) -> char {
    let mut best = (',', 0);
    for sep in SEPARATORS {
        let mut quoted = false;
        let mut n = 0;
        for c in header.chars() {
            match c {
                '"' => quoted = !quoted,
                c if c == sep && !quoted => n += 1,
                _ => {}
            }
        }
        if n > best.1 {
            best = (sep, n);
        }
    }
    best.0
}

/// Splits text into records of fields (RFC 4180: `""` is a quote inside a quoted field, and a
/// quoted field may span lines). Returns each record with the line it starts on.
fn records(text: &str, sep: char, file: &str) -> Result<Vec<(usize, Vec<String>)>, ModelError> {
    let mut out = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut line = 1;
    let mut start_line = 1;
    let mut quoted = false;
    // True once a field began with a quote: text after its closing quote is an error.
    let mut was_quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.trim().is_empty() && !was_quoted => {
                field.clear();
                quoted = true;
                was_quoted = true;
            }
            '"' => {
                return Err(ModelError::Csv {
                    file: file.to_owned(),
                    line,
                    reason: format!(
                        "a quote inside the unquoted field {field:?}; quote the whole field and double the quote (\"\")"
                    ),
                });
            }
            c if c == sep => {
                fields.push(finish(&mut field, was_quoted));
                was_quoted = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                fields.push(finish(&mut field, was_quoted));
                was_quoted = false;
                if !(fields.len() == 1 && fields[0].is_empty()) {
                    out.push((start_line, std::mem::take(&mut fields)));
                }
                fields.clear();
                line += 1;
                start_line = line;
            }
            _ if was_quoted => {
                if !c.is_whitespace() {
                    return Err(ModelError::Csv {
                        file: file.to_owned(),
                        line,
                        reason: format!("text after a closing quote ({c:?}); quote the whole field"),
                    });
                }
            }
            _ => field.push(c),
        }
    }
    if quoted {
        return Err(ModelError::Csv {
            file: file.to_owned(),
            line: start_line,
            reason: "a quoted field is never closed; add the closing quote".into(),
        });
    }
    if !field.is_empty() || !fields.is_empty() || was_quoted {
        fields.push(finish(&mut field, was_quoted));
        out.push((start_line, fields));
    }
    Ok(out)
}

/// Ends a field: unquoted fields are trimmed (spaces after a separator are common), quoted ones
/// are kept as written.
fn finish(field: &mut String, was_quoted: bool) -> String {
    let f = std::mem::take(field);
    if was_quoted { f } else { f.trim().to_owned() }
}

/// Parses delimited text with a header row. `file` names the source in errors.
///
/// Blank lines are skipped. A row with more or fewer fields than the header is an error that
/// names its line, since guessing which field is missing would shift every column after it.
pub fn parse(text: &str, file: &str) -> Result<Table, ModelError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first = text.lines().find(|l| !l.trim().is_empty()).ok_or_else(|| ModelError::Csv {
        file: file.to_owned(),
        line: 1,
        reason: "the file is empty; it needs a header row and data rows".into(),
    })?;
    let separator = detect_separator(first);
    let mut records = records(text, separator, file)?.into_iter();
    let Some((header_line, header)) = records.next() else {
        return Err(ModelError::Csv { file: file.to_owned(), line: 1, reason: "no header row".into() });
    };
    if header.len() < 2 {
        return Err(ModelError::Csv {
            file: file.to_owned(),
            line: header_line,
            reason: "the header has one column; the file needs a target and at least one feature, \
                     separated by ',' ';' tab or '|'"
                .into(),
        });
    }
    let mut seen = std::collections::HashSet::new();
    for h in &header {
        if h.is_empty() || !seen.insert(h.as_str()) {
            return Err(ModelError::Csv {
                file: file.to_owned(),
                line: header_line,
                reason: format!("the header's column names must be unique and not empty ({h:?}); rename it"),
            });
        }
    }
    let mut rows = Vec::new();
    let mut lines = Vec::new();
    for (line, fields) in records {
        if fields.len() != header.len() {
            return Err(ModelError::Csv {
                file: file.to_owned(),
                line,
                reason: format!(
                    "{} fields where the header has {} (separator {:?}); fix the row or quote fields that hold the separator",
                    fields.len(),
                    header.len(),
                    separator
                ),
            });
        }
        rows.push(fields);
        lines.push(line);
    }
    if rows.is_empty() {
        return Err(ModelError::Csv {
            file: file.to_owned(),
            line: header_line,
            reason: "a header but no data rows".into(),
        });
    }
    Ok(Table { header, rows, lines, separator })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err_line(r: Result<Table, ModelError>) -> usize {
        match r {
            Err(ModelError::Csv { line, .. }) => line,
            other => panic!("expected a CSV error, got {other:?}"),
        }
    }

    #[test]
    fn semicolons_and_quotes_as_in_the_bank_file() {
        let t = parse("\"age\";\"job\";\"y\"\n58;\"management\";\"no\"\n44;\"tech; ops\";\"yes\"\n", "f")
            .expect("parses");
        assert_eq!(t.separator, ';');
        assert_eq!(t.header, ["age", "job", "y"]);
        assert_eq!(t.rows[1], ["44", "tech; ops", "yes"]);
    }

    #[test]
    fn commas_crlf_escaped_quotes_and_multiline_fields() {
        let text = "a,b,c\r\n1,\"say \"\"hi\"\"\",x\r\n\r\n2,\"two\nlines\",y\r\n3, spaced ,z";
        let t = parse(text, "f").expect("parses");
        assert_eq!(t.separator, ',');
        assert_eq!(t.rows.len(), 3);
        assert_eq!(t.rows[0][1], "say \"hi\"");
        assert_eq!(t.rows[1][1], "two\nlines");
        assert_eq!(t.lines, [2, 4, 6]);
        assert_eq!(t.rows[2][1], "spaced");
    }

    #[test]
    fn tabs_are_detected() {
        let t = parse("a\tb\n1\t2\n", "f").expect("parses");
        assert_eq!(t.separator, '\t');
        assert_eq!(t.rows, [["1", "2"]]);
    }

    #[test]
    fn a_short_row_names_its_line() {
        // Line 4: the blank line 3 still counts.
        assert_eq!(err_line(parse("a,b\n1,2\n\n3\n", "f")), 4);
    }

    #[test]
    fn an_unclosed_quote_names_the_line_it_opened_on() {
        assert_eq!(err_line(parse("a,b\n1,2\n3,\"oops\n4,5\n", "f")), 3);
    }

    #[test]
    fn a_stray_quote_is_an_error() {
        assert_eq!(err_line(parse("a,b\n1,x\"y\n", "f")), 2);
    }

    #[test]
    fn empty_header_only_and_duplicate_names_are_errors() {
        assert_eq!(err_line(parse("", "f")), 1);
        assert_eq!(err_line(parse("a,b\n", "f")), 1);
        assert_eq!(err_line(parse("a,a\n1,2\n", "f")), 1);
    }

    #[test]
    fn the_error_message_names_file_and_line() {
        let e = parse("a,b\n1\n", "leads.csv").expect_err("fails").to_string();
        assert!(e.contains("leads.csv") && e.contains("line 2"), "{e}");
    }
}
