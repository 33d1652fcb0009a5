//! The command line of `leadline`.

use clap::{Parser, Subcommand};
use leadline_daemon::cli::{DaemonCommand, GlobalArgs};

/// Leadline: a lead command center for real-estate agents on GoHighLevel.
///
/// With no command, opens the dashboard (starting the daemon if none answers).
#[derive(Debug, Parser)]
#[command(name = "leadline", version)]
pub struct Cli {
    #[command(flatten)]
    pub globals: GlobalArgs,
    /// The dashboard's colours: dark, light or high-contrast (default: the config's
    /// `[dashboard] theme`); NO_COLOR turns colours off
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The whole system on a seeded, simulated GHL location; needs no account or network
    Demo {
        /// Start the daemon only: print the socket path, then run until killed
        #[arg(long)]
        headless: bool,
        /// Contacts in the demo location
        #[arg(long, default_value_t = 300)]
        contacts: usize,
        /// Mean milliseconds between live events in the simulated location (new leads,
        /// replies, STOPs, deals moving)
        #[arg(long, default_value_t = 6_000, value_parser = clap::value_parser!(u64).range(50..))]
        activity_ms: u64,
    },
    /// Daemon, store, sync and rate-limit budget
    Status {
        #[arg(long)]
        json: bool,
    },
    /// A lead queue: speed-to-lead, hot, needs-reply, due, dormant, all, or a saved smart list
    Queue {
        name: String,
        /// How many leads, best first
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// Skip this many leads from the top (the next page starts at the last page's end)
        #[arg(long, default_value_t = 0)]
        offset: u64,
        #[arg(long)]
        json: bool,
    },
    /// The analytics figures: funnel, sources, speed-to-lead, forecast, follow-ups, agents,
    /// cohorts, calls
    Analytics {
        /// Leads that arrived in the last 7d, 30d, 90d, or all
        #[arg(long, default_value = "30d")]
        range: String,
        #[arg(long)]
        json: bool,
    },
    /// Leads by name, phone, email or tag, best match first (`leadline search 512 555`,
    /// `leadline search maria gonzalez`, `leadline search pre-approved`)
    Search {
        /// What to look for; several words must all match
        #[arg(required = true, num_args = 1..)]
        query: Vec<String>,
        /// How many leads at most (1–1000)
        #[arg(long, default_value_t = leadline_shared::protocol::DEFAULT_SEARCH_LIMIT)]
        limit: u32,
        /// Print the words searched for, how many leads match and the leads, as JSON
        #[arg(long)]
        json: bool,
    },
    /// One lead, with its score explanation and timeline
    Lead {
        /// The GHL contact id
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Draft a reply to the lead's last message (the AI assist when [assist] is on, else the
    /// local rules); the draft waits in the approval queue (`followups list`)
    Draft {
        /// The GHL contact id
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Sync with GHL now
    Sync {
        /// Wait until the sync is done, and fail if it fails
        #[arg(long)]
        wait: bool,
        /// A full sync (every record), not just what changed
        #[arg(long)]
        full: bool,
    },
    /// Add a tag to a lead (or remove it with --remove); pushed to GHL when it answers
    Tag {
        id: String,
        tag: String,
        #[arg(long)]
        remove: bool,
    },
    /// Add a note to a lead; pushed to GHL when it answers
    Note { id: String, text: String },
    /// Retry an edit GHL refused, or send an uncertain message again (its number is in
    /// `leadline lead ID`)
    Retry { seq: u64 },
    /// Text or email a lead, typed or from a template rendered for the lead. It goes through
    /// the op log and the same gates as every send: refused when DND is on or the lead opted
    /// out, held until the lead's allowed hours (in the lead's own zone)
    Send {
        /// The GHL contact id
        id: String,
        /// A text message
        #[arg(long, conflicts_with = "email")]
        sms: bool,
        /// An email
        #[arg(long)]
        email: bool,
        /// A template, rendered for the lead (its fields filled, the channel's rules applied)
        #[arg(long, conflicts_with = "body")]
        template: Option<String>,
        /// The text, sent as written
        #[arg(long)]
        body: Option<String>,
        /// The email's subject (a template's own when not given)
        #[arg(long)]
        subject: Option<String>,
    },
    /// The follow-up engine: the approval queue, what is planned, sent, failed or uncertain
    #[command(subcommand)]
    Followups(FollowupsCommand),
    /// The conversion model trained on the location's history: which model scores the leads
    /// and why, every version trained, or train one now
    #[command(subcommand)]
    Model(ModelCmd),
    /// Property listings that leads are matched against
    #[command(subcommand)]
    Listings(ListingsCommand),
    /// Run the daemon (same as `leadlined`)
    #[command(subcommand, hide = true)]
    Daemon(DaemonCommand),
}

/// `leadline model ...`.
#[derive(Debug, Subcommand)]
pub enum ModelCmd {
    /// Which model scores the leads (rules-v1 or gbdt-vN), why, and every model trained with
    /// its held-out AUC against rules-v1's
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Train on the closed deals now (as the nightly run does); a model that beats rules-v1
    /// and the current model on the held-out deals is promoted and every lead rescored
    Train {
        #[arg(long)]
        json: bool,
    },
}

/// `leadline listings ...`.
#[derive(Debug, Subcommand)]
pub enum ListingsCommand {
    /// Import listings from an MLS export: CSV or JSON with the RESO Data Dictionary names
    /// (ListingId, ListPrice, BedroomsTotal, BathroomsTotalInteger, LivingArea, City,
    /// PostalCode, PropertyType, StandardStatus, address fields). All or nothing: a bad row
    /// refuses the file and names its line. A listing already stored is updated
    Import {
        /// The CSV or JSON file
        file: std::path::PathBuf,
        /// Also remove the stored listings the file does not have
        #[arg(long)]
        replace: bool,
        #[arg(long)]
        json: bool,
    },
}

/// `leadline followups ...`.
#[derive(Debug, Subcommand)]
pub enum FollowupsCommand {
    /// Actions waiting for approval, planned, queued, failed or uncertain, soonest first
    List {
        /// Only one lead's
        #[arg(long)]
        lead: Option<String>,
        /// Only these states (comma-separated): awaiting_approval, scheduled, queued, sending,
        /// sent, done, failed, uncertain, skipped, cancelled
        #[arg(long, value_delimiter = ',')]
        state: Vec<String>,
        #[arg(long, default_value_t = 200)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// Approve an action waiting in the approval queue
    Approve {
        id: String,
        /// Send this text instead of the template's (merge fields such as {{first_name}} work;
        /// the template's rules still apply: length, opt-out text, email footer)
        #[arg(long)]
        text: Option<String>,
    },
    /// Skip a planned action
    Skip { id: String },
    /// Pause every automated action for a lead
    Pause { lead: String },
    /// Resume a paused lead
    Resume { lead: String },
    /// What the engine would send over the next days (nothing is sent)
    Simulate {
        #[arg(long)]
        days: u32,
        /// Start the virtual clock here (RFC 3339), instead of now
        #[arg(long)]
        from: Option<jiff::Timestamp>,
        #[arg(long)]
        json: bool,
    },
}
