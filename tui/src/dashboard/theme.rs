//! The dashboard's colours: one [`Theme`] that every component asks for its styles, so no
//! component picks a colour itself. Components name what a thing *is* (a [`Tone`]: muted,
//! good, bad…, or a role: the selected row, the active tab, the banner) and the theme decides
//! how it looks.
//!
//! Three palettes (`dark`, today's look; `light`, for light terminals; `high-contrast`), and no
//! colour at all when `NO_COLOR` is set (<https://no-color.org>): then only modifiers (bold,
//! reversed, underlined) remain, so the selection and the active tab still show.

use std::fmt;
use std::str::FromStr;

use leadline_shared::domain::Temperature;
use ratatui::style::{Color, Modifier, Style};

/// A palette by name, as the config (`[dashboard] theme`) and `--theme` write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ThemeName {
    /// Light text on a dark terminal (the default).
    #[default]
    Dark,
    /// Dark text on a light terminal.
    Light,
    /// Bright colours and strong selection, for low vision or washed-out screens.
    HighContrast,
}

impl ThemeName {
    /// Every theme, in the order the docs list them.
    pub const ALL: [ThemeName; 3] = [ThemeName::Dark, ThemeName::Light, ThemeName::HighContrast];

    /// The name in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            ThemeName::Dark => "dark",
            ThemeName::Light => "light",
            ThemeName::HighContrast => "high-contrast",
        }
    }
}

impl fmt::Display for ThemeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A theme name that is none of the themes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a dashboard theme: use dark, light or high-contrast")]
pub struct UnknownTheme(pub String);

impl FromStr for ThemeName {
    type Err = UnknownTheme;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace('_', "-");
        ThemeName::ALL.into_iter().find(|t| t.as_str() == wanted).ok_or_else(|| UnknownTheme(s.to_owned()))
    }
}

/// What a piece of text is, which decides its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Field labels, column headers, secondary text.
    Label,
    /// Hints, placeholders, separators: present but quiet.
    Muted,
    /// Keys, borders of what has focus, the brand.
    Accent,
    /// Worked, healthy, positive.
    Good,
    /// Needs attention, held, in progress towards a problem.
    Warn,
    /// Failed, blocked, hot.
    Bad,
    /// Cold leads.
    Cold,
    /// Uncertain states, outbound messages: set apart from the rest.
    Special,
    /// Text that must stand out on any background.
    Strong,
}

/// The colours of one palette.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Colors {
    label: Color,
    muted: Color,
    accent: Color,
    good: Color,
    warn: Color,
    bad: Color,
    cold: Color,
    special: Color,
    strong: Color,
    /// The selected row's background.
    selected_bg: Color,
    /// The text on an accent background (the active tab, gauges).
    on_accent: Color,
    /// The status line's background.
    status_bg: Color,
}

const DARK: Colors = Colors {
    label: Color::Gray,
    muted: Color::DarkGray,
    accent: Color::Cyan,
    good: Color::Green,
    warn: Color::Yellow,
    bad: Color::Red,
    cold: Color::Blue,
    special: Color::Magenta,
    strong: Color::White,
    selected_bg: Color::DarkGray,
    on_accent: Color::Black,
    status_bg: Color::Black,
};

const LIGHT: Colors = Colors {
    label: Color::DarkGray,
    muted: Color::Indexed(245),
    accent: Color::Blue,
    good: Color::Indexed(28),
    warn: Color::Indexed(130),
    bad: Color::Indexed(160),
    cold: Color::Indexed(25),
    special: Color::Magenta,
    strong: Color::Black,
    selected_bg: Color::Indexed(253),
    on_accent: Color::White,
    status_bg: Color::Indexed(254),
};

const HIGH_CONTRAST: Colors = Colors {
    label: Color::White,
    muted: Color::Gray,
    accent: Color::LightCyan,
    good: Color::LightGreen,
    warn: Color::LightYellow,
    bad: Color::LightRed,
    cold: Color::LightBlue,
    special: Color::LightMagenta,
    strong: Color::White,
    selected_bg: Color::White,
    on_accent: Color::Black,
    status_bg: Color::Black,
};

/// The styles of the dashboard. `Copy`, so drawing code passes it around freely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// The palette chosen.
    pub name: ThemeName,
    /// `None`: no colours at all (`NO_COLOR`).
    colors: Option<Colors>,
}

impl Default for Theme {
    fn default() -> Self {
        Theme::new(ThemeName::Dark)
    }
}

impl Theme {
    /// A palette in colour.
    pub fn new(name: ThemeName) -> Self {
        let colors = match name {
            ThemeName::Dark => DARK,
            ThemeName::Light => LIGHT,
            ThemeName::HighContrast => HIGH_CONTRAST,
        };
        Theme { name, colors: Some(colors) }
    }

    /// No colours, only modifiers.
    pub fn no_color(name: ThemeName) -> Self {
        Theme { name, colors: None }
    }

    /// The theme to use: `name`, without colours when `no_color` (the `NO_COLOR` variable's
    /// value) is set and not empty, as no-color.org asks.
    pub fn resolve(name: ThemeName, no_color: Option<&std::ffi::OsStr>) -> Self {
        match no_color {
            Some(value) if !value.is_empty() => Theme::no_color(name),
            _ => Theme::new(name),
        }
    }

    /// Whether colours are drawn.
    pub fn has_colors(&self) -> bool {
        self.colors.is_some()
    }

    /// The colour of a tone; `Color::Reset` (the terminal's own) without colours.
    pub fn color(&self, tone: Tone) -> Color {
        let Some(c) = self.colors else {
            return Color::Reset;
        };
        match tone {
            Tone::Label => c.label,
            Tone::Muted => c.muted,
            Tone::Accent => c.accent,
            Tone::Good => c.good,
            Tone::Warn => c.warn,
            Tone::Bad => c.bad,
            Tone::Cold => c.cold,
            Tone::Special => c.special,
            Tone::Strong => c.strong,
        }
    }

    /// Text of a tone. Without colours, what must not be missed (failures) is bold.
    pub fn fg(&self, tone: Tone) -> Style {
        match self.colors {
            Some(_) => Style::new().fg(self.color(tone)),
            None if tone == Tone::Bad => Style::new().add_modifier(Modifier::BOLD),
            None => Style::new(),
        }
    }

    /// Secondary text.
    pub fn label(&self) -> Style {
        self.fg(Tone::Label)
    }

    /// Quiet text: hints, placeholders, separators.
    pub fn muted(&self) -> Style {
        self.fg(Tone::Muted)
    }

    /// The accent: borders of what has focus.
    pub fn accent(&self) -> Style {
        self.fg(Tone::Accent)
    }

    /// A key in a hint or the help: accented and bold.
    pub fn key(&self) -> Style {
        self.accent().add_modifier(Modifier::BOLD)
    }

    /// A title: accented and bold.
    pub fn title(&self) -> Style {
        self.key()
    }

    /// A table's header row.
    pub fn header(&self) -> Style {
        match self.colors {
            Some(c) => Style::new().fg(c.label).add_modifier(Modifier::BOLD),
            None => Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
        }
    }

    /// The selected row (or palette entry).
    pub fn selected(&self) -> Style {
        match self.colors {
            Some(c) if c == HIGH_CONTRAST => {
                Style::new().fg(Color::Black).bg(c.selected_bg).add_modifier(Modifier::BOLD)
            }
            Some(c) => Style::new().bg(c.selected_bg).add_modifier(Modifier::BOLD),
            None => Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD),
        }
    }

    /// Something shown on the accent colour: the active tab, a focused button.
    pub fn on_accent(&self) -> Style {
        self.filled(Tone::Accent).add_modifier(Modifier::BOLD)
    }

    /// A block of `tone`'s colour with readable text on it (gauges' values). Without colours,
    /// reversed.
    pub fn filled(&self, tone: Tone) -> Style {
        match self.colors {
            Some(c) => Style::new().fg(c.on_accent).bg(self.color(tone)),
            None => Style::new().add_modifier(Modifier::REVERSED),
        }
    }

    /// The tabs not shown.
    pub fn tab(&self) -> Style {
        self.label()
    }

    /// The offline banner: loud.
    pub fn banner(&self) -> Style {
        match self.colors {
            Some(c) => Style::new().fg(Color::White).bg(c.bad).add_modifier(Modifier::BOLD),
            None => Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD),
        }
    }

    /// The status line's band.
    pub fn status_line(&self) -> Style {
        match self.colors {
            Some(c) => Style::new().bg(c.status_bg),
            None => Style::new(),
        }
    }

    /// A lead's temperature, wherever a score is shown.
    pub fn temperature(&self, t: Temperature) -> Style {
        let tone = match t {
            Temperature::Hot => Tone::Bad,
            Temperature::Warm => Tone::Warn,
            Temperature::Cold => Tone::Cold,
        };
        self.fg(tone).add_modifier(Modifier::BOLD)
    }

    /// The mark of a marked row.
    pub fn mark(&self) -> Style {
        self.fg(Tone::Warn).add_modifier(Modifier::BOLD)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_print() {
        for name in ThemeName::ALL {
            assert_eq!(name.as_str().parse::<ThemeName>(), Ok(name));
        }
        assert_eq!("High_Contrast".parse::<ThemeName>(), Ok(ThemeName::HighContrast));
        let err = "solarized".parse::<ThemeName>().expect_err("no such theme");
        assert!(err.to_string().contains("dark, light or high-contrast"), "{err}");
    }

    #[test]
    fn the_default_config_names_the_dark_theme() {
        let config = leadline_shared::config::Config::default();
        assert_eq!(config.dashboard.theme.parse::<ThemeName>(), Ok(ThemeName::Dark));
    }

    #[test]
    fn no_color_keeps_only_modifiers() {
        use std::ffi::OsStr;
        assert!(Theme::resolve(ThemeName::Light, None).has_colors());
        assert!(Theme::resolve(ThemeName::Light, Some(OsStr::new(""))).has_colors(), "empty is unset");
        let plain = Theme::resolve(ThemeName::Light, Some(OsStr::new("1")));
        assert!(!plain.has_colors());
        for style in [
            plain.selected(),
            plain.on_accent(),
            plain.banner(),
            plain.header(),
            plain.muted(),
            plain.fg(Tone::Bad),
            plain.temperature(Temperature::Hot),
            plain.filled(Tone::Good),
            plain.status_line(),
        ] {
            assert!(style.fg.is_none_or(|c| c == Color::Reset), "{style:?}");
            assert!(style.bg.is_none(), "{style:?}");
        }
        assert!(plain.selected().add_modifier.contains(Modifier::REVERSED));
    }
}
