//! Message templates (issue #9): the texts and emails the follow-up sequences send, with merge
//! fields, and the rules every message keeps (business-rules.md §1e, crm-landscape.md §4).
//!
//! Templates are TOML files of `[[template]]` tables (several per file). The shipped ones are
//! [`DEFAULTS`], embedded from `config/templates/`; a user's `templates/*.toml` beside the
//! config file replace them by id. [`load`] checks everything it can without a lead (syntax,
//! keys, merge field names, braces, whether an SMS can fit at all) and names the file, line and
//! column of each problem. [`TemplateSet::render`] fills a template for one lead and applies
//! the SMS rules (limit, truncation keeping the closing sentence, opt-out text, first-message
//! introduction, spam guard) or the email rules (unsubscribe line and postal address); a
//! rendered message never holds `{{` or `}}`. The format and rules are in `docs/templates.md`.
//!
//! Pure apart from [`load`] reading the user's directory: no store, no clock, no network.

mod fields;
mod file;
mod render;
pub mod sms;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use fields::{FIELDS, Field, MergeContext, merge_text};
pub use render::{MessageRules, RenderError, Rendered, RulesError};

use fields::{Piece, SyntaxProblem};

/// The shipped templates, embedded: (file name, text). Pass to [`load`].
pub const DEFAULTS: &[(&str, &str)] = &[
    ("first_touch.toml", include_str!("../../../../config/templates/first_touch.toml")),
    ("reengage.toml", include_str!("../../../../config/templates/reengage.toml")),
    ("cadence.toml", include_str!("../../../../config/templates/cadence.toml")),
    ("nurture.toml", include_str!("../../../../config/templates/nurture.toml")),
    ("winback.toml", include_str!("../../../../config/templates/winback.toml")),
    ("hot_lead.toml", include_str!("../../../../config/templates/hot_lead.toml")),
    ("optout.toml", include_str!("../../../../config/templates/optout.toml")),
];

/// How a message is sent (shared with the dashboard's Compose).
pub use leadline_shared::domain::Channel;

/// Where a template was defined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Shipped with Leadline (`config/templates/<file>`).
    Builtin { file: String },
    /// The user's override directory.
    User { path: PathBuf },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Builtin { file } => write!(f, "built-in templates/{file}"),
            Origin::User { path } => write!(f, "{}", path.display()),
        }
    }
}

/// A template text as written, and split into literal text and merge fields.
#[derive(Debug, Clone, PartialEq)]
struct Text {
    source: String,
    pieces: Vec<Piece>,
}

/// One loaded template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    /// What workflows name it by, e.g. `instant_response`.
    pub id: String,
    /// Bumped whenever the text changes; a send records the id and version it used.
    pub version: u32,
    pub channel: Channel,
    pub description: Option<String>,
    /// SMS only: whether the opt-out text may be added (false for the opt-out confirmation).
    pub optout_footer: bool,
    pub origin: Origin,
    /// Line and column of the template's `id`, for messages about it.
    line: usize,
    column: usize,
    subject: Option<Text>,
    body: Text,
}

impl Template {
    /// The subject as written (emails).
    pub fn subject(&self) -> Option<&str> {
        self.subject.as_ref().map(|t| t.source.as_str())
    }

    /// The body as written, merge fields unfilled.
    pub fn body(&self) -> &str {
        &self.body.source
    }

    fn info(&self) -> TemplateInfo {
        TemplateInfo {
            id: self.id.clone(),
            version: self.version,
            channel: self.channel,
            description: self.description.clone(),
            origin: self.origin.clone(),
        }
    }
}

/// A line of the template list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TemplateInfo {
    pub id: String,
    pub version: u32,
    pub channel: Channel,
    pub description: Option<String>,
    pub origin: Origin,
}

/// The loaded templates, by id.
#[derive(Debug, Clone, Default)]
pub struct TemplateSet {
    by_id: BTreeMap<String, Template>,
}

impl TemplateSet {
    /// A template by id.
    pub fn get(&self, id: &str) -> Option<&Template> {
        self.by_id.get(id)
    }

    /// Every template, by id: id, version, channel, description and where it came from.
    pub fn list(&self) -> Vec<TemplateInfo> {
        self.by_id.values().map(Template::info).collect()
    }

    /// Fills template `id` for one lead and applies the channel's rules. `first_touch`: this
    /// is the first message Leadline sends this lead, so it must name the agent and the
    /// business and (SMS) carry the opt-out text. An error means the message must not be sent.
    pub fn render(
        &self,
        id: &str,
        ctx: &MergeContext,
        rules: &MessageRules,
        first_touch: bool,
    ) -> Result<Rendered, RenderError> {
        let template = self.get(id).ok_or_else(|| RenderError::UnknownTemplate { id: id.to_owned() })?;
        render::render(template, ctx, rules, first_touch)
    }

    /// Renders the agent's edit of template `id`'s body (merge fields allowed) under the same
    /// rules as the template itself: the subject, the first-touch introduction, the SMS length
    /// and opt-out text, the email footer. An error means the edit must not be sent.
    pub fn render_edited(
        &self,
        id: &str,
        body: &str,
        ctx: &MergeContext,
        rules: &MessageRules,
        first_touch: bool,
    ) -> Result<Rendered, RenderError> {
        let template = self.get(id).ok_or_else(|| RenderError::UnknownTemplate { id: id.to_owned() })?;
        let pieces = fields::parse(body).map_err(|e| RenderError::BadEdit {
            template: id.to_owned(),
            problem: field_problem(&e.problem),
        })?;
        let mut edited = template.clone();
        edited.body = Text { source: body.to_owned(), pieces };
        render::render(&edited, ctx, rules, first_touch)
    }

    /// What [`render`](Self::render) would produce, for the dashboard and CLI (use
    /// [`MergeContext::sample`] when there is no lead). The same checks run: a missing field, an
    /// unknown custom key or a text that cannot fit is an error here too. `notes` in the
    /// result say what the rules changed.
    pub fn preview(
        &self,
        id: &str,
        ctx: &MergeContext,
        rules: &MessageRules,
        first_touch: bool,
    ) -> Result<Rendered, RenderError> {
        self.render(id, ctx, rules, first_touch)
    }
}

/// Why the templates could not be loaded. Each names the file and says how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error(
        "cannot read templates from {path}: {source}. Check that the directory and its .toml files are readable, or remove them"
    )]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{file}:{line}:{column}: {problem}")]
    Invalid { file: String, line: usize, column: usize, problem: Problem },
    #[error(transparent)]
    Rules(#[from] RulesError),
}

impl TemplateError {
    /// The problem, for an invalid file.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            TemplateError::Invalid { problem, .. } => Some(problem),
            _ => None,
        }
    }
}

/// What is wrong at one spot of a template file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error(
        "not valid TOML: {0}. Fix the syntax here (text in \"double quotes\", long text in \"\"\"triple quotes\"\"\")"
    )]
    Syntax(String),
    #[error("unknown key `{0}` at the top of the file: a template file holds only [[template]] tables")]
    NotTemplate(String),
    #[error("`template` must be a list of tables: start each template with its own [[template]] line")]
    NotArray,
    #[error(
        "unknown key `{0}`: a template has id, version, channel, subject (email), body, description and optout_footer (SMS)"
    )]
    UnknownKey(String),
    #[error("this template has no `{0}`: add it (see docs/templates.md)")]
    MissingKey(&'static str),
    #[error("`{key}` must be {expected}")]
    WrongType { key: &'static str, expected: &'static str },
    #[error(
        "id `{0}` is not valid: use lowercase letters, digits and `_`, starting with a letter (e.g. reengage_24h)"
    )]
    BadId(String),
    #[error(
        "version {0} is not valid: use a whole number from 1, and raise it whenever the text changes (each send records id and version)"
    )]
    BadVersion(String),
    #[error("channel `{0}` is not known: use \"sms\" or \"email\"")]
    BadChannel(String),
    #[error("an SMS has no subject: remove `subject`, or set channel = \"email\"")]
    SubjectOnSms,
    #[error("an email needs a subject: add subject = \"...\"")]
    NoSubject,
    #[error(
        "`optout_footer` is for SMS only: every email ends with the unsubscribe text and the postal address (CAN-SPAM)"
    )]
    FooterOnEmail,
    #[error("`{0}` is empty: write the message text")]
    Empty(&'static str),
    #[error("{}", field_problem(.0))]
    Field(SyntaxProblem),
    #[error(
        "this SMS can never fit [messages] sms_max_chars = {limit}: its closing sentence and the opt-out text take {needed} characters even with everything before them cut. Shorten the last sentence"
    )]
    NeverFits { needed: usize, limit: usize },
    #[error("id `{id}` is already used at line {line} of this file: give each template its own id")]
    DuplicateId { id: String, line: usize },
    #[error("id `{id}` is also defined in {other}: keep one of them")]
    DuplicateElsewhere { id: String, other: String },
    #[error(
        "`{id}` replaces a built-in {was} template with another channel: keep channel = \"{was}\", or give yours a new id and point the workflow at it"
    )]
    ChannelChanged { id: String, was: Channel },
}

fn field_problem(p: &SyntaxProblem) -> String {
    let known = FIELDS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ");
    match p {
        SyntaxProblem::Unclosed => "`{{` is not closed: end the merge field with `}}`".to_owned(),
        SyntaxProblem::UnopenedClose => {
            "`}}` closes nothing: start the merge field with `{{`, or remove it".to_owned()
        }
        SyntaxProblem::SingleBrace(c) => format!(
            "a single `{c}`: merge fields take two braces, as in {{{{first_name}}}}, and a message has no other braces"
        ),
        SyntaxProblem::UnknownField { name, suggestion } => {
            let hint =
                suggestion.as_ref().map(|s| format!(" (did you mean {{{{{s}}}}}?)")).unwrap_or_default();
            format!(
                "unknown merge field {{{{{name}}}}}{hint}. The fields are {known}, and custom.<key> for a custom field (e.g. {{{{custom.budget}}}})"
            )
        }
        SyntaxProblem::BadName { name } => format!(
            "`{{{{{name}}}}}` is not a merge field: write {{{{first_name}}}}, {{{{first_name|fallback}}}} or {{{{custom.key}}}} (key in lowercase, as GHL's fieldKey without `contact.`)"
        ),
        SyntaxProblem::BadFallback => {
            "a merge field takes one fallback after one `|`, as in {{first_name|there}}".to_owned()
        }
    }
}

/// Loads the templates: `defaults` (normally [`DEFAULTS`]), then every `*.toml` in `user_dir`
/// (in name order), whose templates replace the defaults with the same id. A missing
/// `user_dir` is no error. `rules` gives the SMS limit and opt-out text that every SMS template
/// must be able to fit.
pub fn load(
    defaults: &[(&str, &str)],
    user_dir: Option<&Path>,
    rules: &MessageRules,
) -> Result<TemplateSet, TemplateError> {
    rules.check()?;
    let mut by_id: BTreeMap<String, Template> = BTreeMap::new();
    for (name, text) in defaults {
        let origin = Origin::Builtin { file: (*name).to_owned() };
        for template in file::parse(&origin, text, rules)? {
            if let Some(other) = by_id.get(&template.id) {
                return Err(elsewhere(&template, &other.origin));
            }
            by_id.insert(template.id.clone(), template);
        }
    }
    let Some(dir) = user_dir else {
        return Ok(TemplateSet { by_id });
    };
    let mut from_user: BTreeMap<String, Origin> = BTreeMap::new();
    for path in user_files(dir)? {
        let text = std::fs::read_to_string(&path)
            .map_err(|source| TemplateError::Read { path: path.clone(), source })?;
        let origin = Origin::User { path };
        for template in file::parse(&origin, &text, rules)? {
            if let Some(other) = from_user.get(&template.id) {
                return Err(elsewhere(&template, other));
            }
            if let Some(builtin) = by_id.get(&template.id)
                && builtin.channel != template.channel
            {
                return Err(
                    template.error(Problem::ChannelChanged { id: template.id.clone(), was: builtin.channel })
                );
            }
            from_user.insert(template.id.clone(), origin.clone());
            by_id.insert(template.id.clone(), template);
        }
    }
    Ok(TemplateSet { by_id })
}

fn elsewhere(template: &Template, other: &Origin) -> TemplateError {
    template.error(Problem::DuplicateElsewhere { id: template.id.clone(), other: other.to_string() })
}

impl Template {
    fn error(&self, problem: Problem) -> TemplateError {
        TemplateError::Invalid {
            file: self.origin.to_string(),
            line: self.line,
            column: self.column,
            problem,
        }
    }
}

/// The `*.toml` files of the override directory, in name order. Hidden files (editors' lock
/// and backup files) are skipped.
fn user_files(dir: &Path) -> Result<Vec<PathBuf>, TemplateError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(TemplateError::Read { path: dir.to_owned(), source }),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| TemplateError::Read { path: dir.to_owned(), source })?;
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if hidden || path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let meta =
            std::fs::metadata(&path).map_err(|source| TemplateError::Read { path: path.clone(), source })?;
        if meta.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests;
