//! The compliance gates: pure rules applied to a send when it is planned and again at the
//! moment of sending (issue #9, item 3).
//!
//! - [`locate`]: where the recipient is (time zones and US state), from the contact's time
//!   zone and address, else the phone's area code, else the location's default zone.
//! - [`next_allowed`] / [`is_allowed`]: the quiet-hours window, the most restrictive of the
//!   federal (TCPA) and state windows, in every zone the recipient may be in.
//! - [`cap_allows`]: the state caps (FL, OK) and the per-contact loop lock;
//!   [`ChannelLimiter`]: the global per-channel limits.
//! - [`opt_out`] / [`opt_in`]: reading STOP (and its many wordings) and START in replies.
//! - [`channel_blocked`]: GHL's DND.
//! - [`check`]: every gate in order, giving a [`Verdict`] with a [`Reason`] to record.
//!
//! The tables are data compiled into the binary: `config/compliance/us-area-codes.csv`,
//! `quiet-hours.toml` and `opt-words.toml` (see `docs/compliance.md`). Nothing here does IO or
//! reads the clock: the time is always an argument. None of it is legal advice.

mod caps;
mod gate;
mod locate;
mod opt_out;
mod rules;
mod window;

pub use caps::{ChannelLimiter, ChannelLimits, Deferral, LoopLock, RecentSend, cap_allows, history_needed};
pub use gate::{Channel, GateContext, OptOutRecord, PlannedSend, Reason, Verdict, channel_blocked, check};
pub use locate::{AreaCode, Country, LocatedBy, StateCode, Tables, Whereabouts, area_code_of, locate};
pub use opt_out::{Language, OptOut, OptWords, opt_in, opt_out};
pub use rules::{Cap, Regime, Rules};
pub use window::{DayWindow, WeekWindows, is_allowed, next_allowed, next_in_hours};

/// A compliance table that cannot be used. The tables are compiled in, so this is a build
/// mistake: the message names the file and line to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    /// A line of a table is wrong.
    #[error(
        "{file} line {line}: {message}. The table is compiled into leadlined: fix that line, \
         then rebuild and run `cargo test -p leadline-daemon --lib engine::compliance`"
    )]
    Invalid {
        /// The table's path in the repository.
        file: &'static str,
        /// 1-based.
        line: usize,
        message: String,
    },
    /// A table names a time zone this machine's time zone database lacks.
    #[error(
        "{file} line {line}: time zone {zone:?} is not in this machine's time zone database \
         ({cause}); install the tzdata package (or point TZDIR at a zoneinfo directory), or \
         fix the name"
    )]
    UnknownZone { file: &'static str, line: usize, zone: String, cause: String },
}

/// Parses the three embedded tables: call at start, so a broken table stops the daemon with
/// the file and line to fix instead of surfacing at the first send.
pub fn embedded_tables() -> Result<(&'static Tables, &'static Rules, &'static OptWords), TableError> {
    Ok((Tables::embedded()?, Rules::embedded()?, OptWords::embedded()?))
}

/// The 1-based line of a byte offset in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).map_or(1, |head| head.matches('\n').count() + 1)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_embedded_tables_parse() {
        if let Err(e) = super::embedded_tables() {
            panic!("{e}");
        }
    }
}
