//! The end of the daemon's log, for `Request::LogTail` (the dashboard's System screen).
//!
//! Only the newest file is read, and only its last [`MAX_LOG_BYTES`]: a log of a busy month
//! is never read whole. The file may be written while it is read (the daemon logs as it
//! answers), so the read stops at the length seen when it began, and a last line without its
//! line end (one being written) is left out.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use leadline_shared::protocol::{LogTail, MAX_LOG_BYTES, MAX_LOG_LINE_CHARS, MAX_LOG_LINES};

/// The daemon's log files are `<prefix>.YYYY-MM-DD.log` (see `leadline_shared::logging`).
pub const LOG_PREFIX: &str = "leadlined";

/// The newest `<prefix>.*.log` in `dir`: the dates in the names sort like the days. `None`
/// when there is none, or no such directory.
pub fn newest_log(dir: &Path, prefix: &str) -> io::Result<Option<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let start = format!("{prefix}.");
    let mut newest: Option<(String, PathBuf)> = None;
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with(&start) || !name.ends_with(".log") || !entry.file_type()?.is_file() {
            continue;
        }
        if newest.as_ref().is_none_or(|(n, _)| name > *n) {
            newest = Some((name, entry.path()));
        }
    }
    Ok(newest.map(|(_, path)| path))
}

/// The last `lines` lines (at most [`MAX_LOG_LINES`]) of the newest log in `dir`, read from at
/// most the last `max_bytes` (at most [`MAX_LOG_BYTES`]) of it.
pub fn tail(dir: &Path, prefix: &str, lines: u32, max_bytes: u64) -> io::Result<LogTail> {
    let Some(path) = newest_log(dir, prefix)? else {
        return Ok(LogTail::default());
    };
    let mut file = File::open(&path)?;
    let mut tail = tail_of(&mut file, lines, max_bytes)?;
    tail.file = Some(path.display().to_string());
    Ok(tail)
}

/// The last lines of an open file (see [`tail`]).
pub fn tail_of(file: &mut File, lines: u32, max_bytes: u64) -> io::Result<LogTail> {
    let want = lines.min(MAX_LOG_LINES) as usize;
    let max_bytes = max_bytes.min(MAX_LOG_BYTES);
    // The length now: what is appended while this reads is left for the next request.
    let len = file.metadata()?.len();
    let start = len.saturating_sub(max_bytes);
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::with_capacity((len - start) as usize);
    file.take(len - start).read_to_end(&mut bytes)?;
    Ok(last_lines(&bytes, start > 0, want))
}

/// The last `want` whole lines of `bytes`. With `cut_at_start`, the bytes begin inside the
/// file, so their first line may be a part of one and is dropped. A last line without its
/// line end is being written: it is dropped too.
pub fn last_lines(bytes: &[u8], cut_at_start: bool, want: usize) -> LogTail {
    let mut body = bytes;
    let mut truncated = cut_at_start;
    if cut_at_start {
        match body.iter().position(|b| *b == b'\n') {
            Some(end) => body = &body[end + 1..],
            None => body = &[],
        }
    }
    match body.iter().rposition(|b| *b == b'\n') {
        Some(end) => body = &body[..end],
        None => body = &[],
    }
    let mut lines: Vec<String> = Vec::with_capacity(want);
    if want > 0 && !body.is_empty() {
        for line in body.rsplit(|b| *b == b'\n') {
            if lines.len() == want {
                truncated = true;
                break;
            }
            lines.push(clean(line));
        }
    } else if !body.is_empty() {
        truncated = true;
    }
    lines.reverse();
    LogTail { file: None, lines, truncated }
}

/// A line as the screen may show it: valid UTF-8, no carriage return or other control
/// characters (a terminal must not be steered by a log), at most [`MAX_LOG_LINE_CHARS`].
fn clean(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(line);
    let mut out = String::with_capacity(text.len().min(MAX_LOG_LINE_CHARS));
    for (i, c) in text.chars().enumerate() {
        if i + 1 == MAX_LOG_LINE_CHARS {
            out.push('…');
            break;
        }
        out.push(if c.is_control() { ' ' } else { c });
    }
    out
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).expect("write");
        }
        dir
    }

    #[test]
    fn the_newest_file_of_the_daemon_is_read() {
        let dir = dir_with(&[
            ("leadlined.2026-11-30.log", "old\n"),
            ("leadlined.2026-12-01.log", "one\ntwo\nthree\n"),
            ("leadline.2026-12-02.log", "the dashboard's own log\n"),
            ("notes.txt", "x\n"),
        ]);
        let tail = tail(dir.path(), LOG_PREFIX, 2, MAX_LOG_BYTES).expect("tail");
        assert_eq!(tail.lines, ["two", "three"]);
        assert!(tail.truncated);
        assert!(tail.file.expect("a file").ends_with("leadlined.2026-12-01.log"));
        let all = super::tail(dir.path(), LOG_PREFIX, 10, MAX_LOG_BYTES).expect("tail");
        assert_eq!(all.lines, ["one", "two", "three"]);
        assert!(!all.truncated);
    }

    #[test]
    fn no_log_yet_is_an_empty_tail() {
        let dir = dir_with(&[]);
        assert_eq!(tail(dir.path(), LOG_PREFIX, 10, MAX_LOG_BYTES).expect("tail"), LogTail::default());
        let missing = dir.path().join("logs");
        assert_eq!(tail(&missing, LOG_PREFIX, 10, MAX_LOG_BYTES).expect("tail"), LogTail::default());
    }

    #[test]
    fn only_the_last_bytes_are_read_and_a_cut_line_is_dropped() {
        let mut text = String::new();
        for i in 0..10_000 {
            text.push_str(&format!("line {i:05} of a long log\n"));
        }
        let dir = dir_with(&[("leadlined.2026-12-01.log", &text)]);
        // 100 bytes hold about four lines of 26 bytes: the first, cut, is left out.
        let tail = tail(dir.path(), LOG_PREFIX, 500, 100).expect("tail");
        assert_eq!(
            tail.lines,
            ["line 09997 of a long log", "line 09998 of a long log", "line 09999 of a long log"]
        );
        assert!(tail.truncated);
        // The bounds hold whatever is asked.
        let tail = super::tail(dir.path(), LOG_PREFIX, u32::MAX, u64::MAX).expect("tail");
        assert_eq!(tail.lines.len(), MAX_LOG_LINES as usize);
        assert_eq!(tail.lines.last().map(String::as_str), Some("line 09999 of a long log"));
    }

    #[test]
    fn a_line_being_written_is_left_for_later() {
        let dir = dir_with(&[]);
        let path = dir.path().join("leadlined.2026-12-01.log");
        let mut writer = std::fs::OpenOptions::new().create(true).append(true).open(&path).expect("open");
        writer.write_all(b"first\nsecond\nthird, half wri").expect("write");
        writer.flush().expect("flush");
        let tail = tail(dir.path(), LOG_PREFIX, 10, MAX_LOG_BYTES).expect("tail");
        assert_eq!(tail.lines, ["first", "second"]);
        writer.write_all(b"tten\nfourth\n").expect("write");
        writer.flush().expect("flush");
        let tail = super::tail(dir.path(), LOG_PREFIX, 10, MAX_LOG_BYTES).expect("tail");
        assert_eq!(tail.lines, ["first", "second", "third, half written", "fourth"]);
    }

    #[test]
    fn lines_are_cleaned_and_bounded() {
        let long = "x".repeat(5_000);
        let mut bytes = format!("a\x1b[31mred\r\n{long}\n").into_bytes();
        bytes.extend_from_slice(b"\xff\n");
        let tail = last_lines(&bytes, false, 10);
        assert_eq!(tail.lines[0], "a [31mred ");
        assert_eq!(tail.lines[1].chars().count(), MAX_LOG_LINE_CHARS);
        assert!(tail.lines[1].ends_with('…'));
        assert_eq!(tail.lines[2], "\u{fffd}");
        assert!(last_lines(b"no line end", false, 10).lines.is_empty());
        assert!(last_lines(b"a\nb\n", false, 0).lines.is_empty());
    }
}
