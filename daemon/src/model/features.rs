//! From text columns to numbers: each column's kind is inferred, and an [`Encoder`] fitted on
//! the training rows turns any row into a feature vector.
//!
//! Nothing here knows a data set's column names. The rules are general:
//! - a column whose every present value parses as a number is numeric;
//! - a column whose every present value is a month name (`jan`, `February`) or a weekday name
//!   is numeric in calendar order;
//! - anything else is categorical, its levels ordered by how often they occur in training;
//! - a numeric column whose minimum is negative while every other value is at least 0 (like
//!   `-1` for "never"), or whose maximum is all nines (`999`) and more than twice the next
//!   value, and which repeats on at least 1 % of the rows, holds a sentinel: the sentinel reads
//!   as missing and a `COL missing` indicator is added;
//! - a categorical column with a different value on nearly every row (an id or a free text)
//!   says nothing that generalises and is left out, as is a column with one value;
//! - a month column and the one numeric column whose values look like days of a month also
//!   make a day-of-year feature ([`Derived::DayOfYear`]).
//!
//! Missing values (empty, `NA`, `N/A`, `NaN`, `null`, `None`, `?`) are `NaN`.

use serde::{Deserialize, Serialize};

/// How categorical columns become numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Encoding {
    /// One feature per categorical column holding the level's index (most frequent first),
    /// `NaN` for a level not seen in training; the model treats it as categorical.
    Codes,
    /// One 0/1 feature per level (the most frequent [`MAX_ONE_HOT`] levels); for linear models.
    OneHot,
}

/// The most levels a categorical column gets one-hot features for; rarer ones share all zeros.
pub const MAX_ONE_HOT: usize = 32;

/// A categorical column with more distinct values than this share of its rows is an id.
const ID_SHARE: f64 = 0.5;

/// A sentinel must be at least this share of the rows to be worth an indicator.
const SENTINEL_SHARE: f64 = 0.01;

const MONTHS: [&str; 12] =
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// What a column holds, as inferred from the training rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Kind {
    /// Numbers; `sentinel` is a value that means "none" (see the module doc).
    Numeric { sentinel: Option<f64> },
    /// Month names, read as 1..=12.
    Month,
    /// Weekday names, read as 1..=7 from Monday.
    Weekday,
    /// Text levels, most frequent first.
    Categorical { levels: Vec<String> },
}

/// One input column and how it is read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    /// The header's name.
    pub name: String,
    /// Its position in the file's rows.
    pub index: usize,
    pub kind: Kind,
}

/// Turns text rows into feature vectors. Fitted once on training rows, saved with a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Encoder {
    pub columns: Vec<Column>,
    pub encoding: Encoding,
    /// What was inferred or left out, in words, for the user.
    pub notes: Vec<String>,
    /// Features made from several columns, after the columns' own.
    #[serde(default)]
    pub derived: Vec<Derived>,
    /// For [`Encoding::Codes`] with [`FeatureOptions::level_shares`]: per column (by position
    /// in `columns`), each categorical level's share of the training rows, in level order.
    #[serde(default)]
    pub level_shares: Vec<Option<Vec<f64>>>,
}

/// Which general feature rules [`Encoder::fit_with`] applies beyond reading each column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureOptions {
    /// A month column plus a day-of-month column (integers 1..=31) make a day-of-year feature.
    pub day_of_year: bool,
    /// Each categorical column also gets its level's share of the training rows (frequency
    /// encoding), so a tree can split common levels from rare ones whatever their codes.
    pub level_shares: bool,
}

impl Default for FeatureOptions {
    fn default() -> Self {
        FeatureOptions { day_of_year: true, level_shares: false }
    }
}

/// A feature computed from more than one column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Derived {
    /// The day of the (non-leap) year, 1..=365, from a [`Kind::Month`] column and a
    /// day-of-month column, both given by position in [`Encoder::columns`]: the months and
    /// days of campaigns spread over several years line up, where month and day alone need a
    /// tree to learn every month's days separately.
    DayOfYear { month: usize, day: usize },
}

/// Days before each month's first in a non-leap year.
const DAYS_BEFORE: [u16; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

/// Whether the values of a numeric column look like days of a month: integers within 1..=31
/// that reach at least 28 and take at least 20 distinct values (fewer is a count or a code).
fn is_day_of_month(values: &[&str]) -> bool {
    let mut seen = [false; 32];
    let mut max = 0.0f64;
    for v in values.iter().filter(|v| !is_missing(v)) {
        match number(v) {
            Some(d) if d.fract() == 0.0 && (1.0..=31.0).contains(&d) => {
                seen[d as usize] = true;
                max = max.max(d);
            }
            _ => return false,
        }
    }
    max >= 28.0 && seen.iter().filter(|&&s| s).count() >= 20
}

/// Features as a row-major matrix, with their names.
#[derive(Debug, Clone, PartialEq)]
pub struct Features {
    /// `rows × names.len()` values, row after row; `NaN` is missing.
    pub values: Vec<f64>,
    pub rows: usize,
    /// Feature names, e.g. `age`, `pdays missing`, `job=admin.`.
    pub names: Vec<String>,
    /// The features that hold level codes ([`Encoding::Codes`]).
    pub categorical: Vec<usize>,
}

impl Features {
    /// The number of features.
    pub fn cols(&self) -> usize {
        self.names.len()
    }

    /// One row's features.
    pub fn row(&self, i: usize) -> &[f64] {
        let c = self.cols();
        &self.values[i * c..(i + 1) * c]
    }

    /// The same features, column after column (what the GBDT crate takes).
    pub fn column_major(&self) -> Vec<f64> {
        let c = self.cols();
        let mut out = Vec::with_capacity(self.values.len());
        for j in 0..c {
            out.extend((0..self.rows).map(|i| self.values[i * c + j]));
        }
        out
    }
}

/// Whether a field means "no value".
pub fn is_missing(s: &str) -> bool {
    matches!(
        s.trim(),
        "" | "?" | "NA" | "N/A" | "na" | "n/a" | "NaN" | "nan" | "null" | "NULL" | "None" | "none"
    )
}

/// Parses a number as written in data files; `None` for text.
fn number(s: &str) -> Option<f64> {
    let v: f64 = s.trim().parse().ok()?;
    v.is_finite().then_some(v)
}

/// The position of `s` in a list of names matched by their first three letters (`Sept`,
/// `september` and `sep` all match `sep`).
fn calendar_index(s: &str, names: &[&str]) -> Option<usize> {
    let lower = s.trim().to_ascii_lowercase();
    if lower.len() < 3 || !lower.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    names.iter().position(|n| lower.starts_with(n))
}

/// Infers one column's kind from its training values; `None` leaves the column out, with the
/// reason in `notes`. With `labels` (one per value), categorical levels are ordered by their
/// share of positives instead of by frequency.
fn infer(name: &str, values: &[&str], labels: Option<&[bool]>, notes: &mut Vec<String>) -> Option<Kind> {
    let present: Vec<&str> = values.iter().copied().filter(|v| !is_missing(v)).collect();
    if present.is_empty() {
        notes.push(format!("{name}: left out, no values"));
        return None;
    }
    if let Some(nums) = present.iter().map(|v| number(v)).collect::<Option<Vec<f64>>>() {
        let sentinel = sentinel(&nums, values.len());
        let distinct = {
            let mut d = nums.clone();
            d.sort_by(f64::total_cmp);
            d.dedup();
            d.len()
        };
        if distinct < 2 {
            notes.push(format!("{name}: left out, one value"));
            return None;
        }
        if let Some(s) = sentinel {
            notes.push(format!("{name}: numeric; {s} is a sentinel (missing, with an indicator)"));
        }
        return Some(Kind::Numeric { sentinel });
    }
    if present.iter().all(|v| calendar_index(v, &MONTHS).is_some()) {
        notes.push(format!("{name}: month names, read as 1-12"));
        return Some(Kind::Month);
    }
    if present.iter().all(|v| calendar_index(v, &WEEKDAYS).is_some()) {
        notes.push(format!("{name}: weekday names, read as 1-7"));
        return Some(Kind::Weekday);
    }
    let mut counts: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for v in &present {
        *counts.entry(v.trim()).or_default() += 1;
    }
    if counts.len() < 2 {
        notes.push(format!("{name}: left out, one value"));
        return None;
    }
    if counts.len() > 50 && counts.len() as f64 > ID_SHARE * present.len() as f64 {
        notes.push(format!(
            "{name}: left out, {} distinct values in {} rows (an id or free text)",
            counts.len(),
            present.len()
        ));
        return None;
    }
    let mut levels: Vec<(&str, usize)> = counts.into_iter().collect();
    // Ties by name, so the order (and the codes) do not depend on hashing.
    levels.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    if let Some(labels) = labels {
        // A level's positive share, shrunk toward the overall share by a prior of 10 rows so a
        // rare level does not jump to an end of the order on a few rows.
        let overall = labels.iter().filter(|&&l| l).count() as f64 / labels.len().max(1) as f64;
        let mut positives: std::collections::HashMap<&str, f64> = std::collections::HashMap::new();
        for (v, &l) in values.iter().zip(labels) {
            if l && !is_missing(v) {
                *positives.entry(v.trim()).or_default() += 1.0;
            }
        }
        let rate = |(l, n): &(&str, usize)| {
            (positives.get(l).copied().unwrap_or(0.0) + 10.0 * overall) / (*n as f64 + 10.0)
        };
        levels.sort_by(|a, b| rate(a).total_cmp(&rate(b)));
        notes.push(format!(
            "{name}: categorical, {} levels coded in order of their positive share",
            levels.len()
        ));
    }
    Some(Kind::Categorical { levels: levels.into_iter().map(|(l, _)| l.to_owned()).collect() })
}

/// A repeated "none" value at the edge of a numeric column (see the module doc).
fn sentinel(nums: &[f64], rows: usize) -> Option<f64> {
    let min = nums.iter().copied().fold(f64::INFINITY, f64::min);
    let max = nums.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let count = |v: f64| nums.iter().filter(|&&x| x == v).count();
    let enough = |v: f64| count(v) as f64 >= SENTINEL_SHARE * rows as f64 && count(v) < nums.len();
    if min < 0.0 && nums.iter().all(|&x| x == min || x >= 0.0) && enough(min) {
        return Some(min);
    }
    let nines = max >= 99.0 && max.fract() == 0.0 && max.to_string().chars().all(|c| c == '9');
    if nines && enough(max) {
        let next = nums.iter().copied().filter(|&x| x < max).fold(f64::NEG_INFINITY, f64::max);
        if next * 2.0 < max {
            return Some(max);
        }
    }
    None
}

impl Encoder {
    /// Infers every column but `skip` (the target and dropped columns) from the rows `train`.
    ///
    /// With `labels` (one per row of `rows`) and [`Encoding::Codes`], categorical codes follow
    /// each level's share of positives in the training rows, so a tree's threshold on the code
    /// splits levels into better and worse groups; otherwise they follow frequency.
    pub fn fit(
        header: &[String],
        rows: &[Vec<String>],
        train: &[usize],
        skip: &[usize],
        encoding: Encoding,
        labels: Option<&[bool]>,
    ) -> Self {
        Self::fit_with(header, rows, train, skip, encoding, labels, FeatureOptions::default())
    }

    /// [`Encoder::fit`] with the derived features chosen by `options`.
    pub fn fit_with(
        header: &[String],
        rows: &[Vec<String>],
        train: &[usize],
        skip: &[usize],
        encoding: Encoding,
        labels: Option<&[bool]>,
        options: FeatureOptions,
    ) -> Self {
        let mut notes = Vec::new();
        let mut columns = Vec::new();
        let mut day_columns = Vec::new();
        let mut level_shares = Vec::new();
        for (index, name) in header.iter().enumerate() {
            if skip.contains(&index) {
                continue;
            }
            let values: Vec<&str> = train.iter().map(|&r| rows[r][index].as_str()).collect();
            let train_labels: Option<Vec<bool>> =
                labels.filter(|_| encoding == Encoding::Codes).map(|l| train.iter().map(|&r| l[r]).collect());
            if let Some(kind) = infer(name, &values, train_labels.as_deref(), &mut notes) {
                if matches!(kind, Kind::Numeric { sentinel: None }) && is_day_of_month(&values) {
                    day_columns.push(columns.len());
                }
                let shares = match &kind {
                    Kind::Categorical { levels } if options.level_shares && encoding == Encoding::Codes => {
                        let mut counts: std::collections::HashMap<&str, usize> =
                            std::collections::HashMap::new();
                        for v in &values {
                            *counts.entry(v.trim()).or_default() += 1;
                        }
                        let n = values.len().max(1) as f64;
                        Some(
                            levels
                                .iter()
                                .map(|l| counts.get(l.as_str()).copied().unwrap_or(0) as f64 / n)
                                .collect(),
                        )
                    }
                    _ => None,
                };
                level_shares.push(shares);
                columns.push(Column { name: name.clone(), index, kind });
            }
        }
        let mut derived = Vec::new();
        let month = columns.iter().position(|c| c.kind == Kind::Month);
        if let (true, Some(month), [day]) = (options.day_of_year, month, day_columns.as_slice()) {
            // Only with one candidate: with two, which one is the month's day is a guess.
            notes.push(format!(
                "{} and {}: read together as a day of the year",
                columns[month].name, columns[*day].name
            ));
            derived.push(Derived::DayOfYear { month, day: *day });
        }
        if !level_shares.iter().any(Option::is_some) {
            level_shares.clear();
        }
        Encoder { columns, encoding, notes, derived, level_shares }
    }

    /// The names of the features [`Encoder::encode`] makes, and which of them hold codes.
    pub fn feature_names(&self) -> (Vec<String>, Vec<usize>) {
        let mut names = Vec::new();
        let mut categorical = Vec::new();
        for (k, c) in self.columns.iter().enumerate() {
            if self.shares(k).is_some() {
                names.push(format!("{} share", c.name));
            }
            match &c.kind {
                Kind::Numeric { sentinel } => {
                    names.push(c.name.clone());
                    if sentinel.is_some() {
                        names.push(format!("{} missing", c.name));
                    }
                }
                Kind::Month | Kind::Weekday => names.push(c.name.clone()),
                Kind::Categorical { levels } => match self.encoding {
                    Encoding::Codes => {
                        categorical.push(names.len());
                        names.push(c.name.clone());
                    }
                    Encoding::OneHot => {
                        names.extend(levels.iter().take(MAX_ONE_HOT).map(|l| format!("{}={l}", c.name)))
                    }
                },
            }
        }
        for d in &self.derived {
            match d {
                Derived::DayOfYear { month, day } => names
                    .push(format!("{}+{} day of year", self.columns[*month].name, self.columns[*day].name)),
            }
        }
        (names, categorical)
    }

    /// The level shares of column `k` (by position in `columns`), if it has them.
    fn shares(&self, k: usize) -> Option<&[f64]> {
        self.level_shares.get(k).and_then(|s| s.as_deref())
    }

    /// Appends one row's features to `out`.
    pub fn encode_row(&self, row: &[String], out: &mut Vec<f64>) {
        for (k, c) in self.columns.iter().enumerate() {
            let s = row[c.index].as_str();
            let missing = is_missing(s);
            if let (Some(shares), Kind::Categorical { levels }) = (self.shares(k), &c.kind) {
                let at = levels.iter().position(|l| l == s.trim());
                // An unseen level is as rare as can be: share 0 (a missing value stays missing).
                out.push(if missing {
                    f64::NAN
                } else {
                    at.and_then(|i| shares.get(i)).copied().unwrap_or(0.0)
                });
            }
            match &c.kind {
                Kind::Numeric { sentinel } => {
                    let v = if missing { f64::NAN } else { number(s).unwrap_or(f64::NAN) };
                    match sentinel {
                        Some(t) if v == *t => out.extend([f64::NAN, 1.0]),
                        Some(_) => out.extend([v, 0.0]),
                        None => out.push(v),
                    }
                }
                Kind::Month => out.push(calendar_index(s, &MONTHS).map_or(f64::NAN, |i| (i + 1) as f64)),
                Kind::Weekday => out.push(calendar_index(s, &WEEKDAYS).map_or(f64::NAN, |i| (i + 1) as f64)),
                Kind::Categorical { levels } => {
                    let at = levels.iter().position(|l| l == s.trim());
                    match self.encoding {
                        Encoding::Codes => out.push(at.map_or(f64::NAN, |i| i as f64)),
                        Encoding::OneHot => {
                            let n = levels.len().min(MAX_ONE_HOT);
                            out.extend((0..n).map(|i| if at == Some(i) { 1.0 } else { 0.0 }))
                        }
                    }
                }
            }
        }
        for d in &self.derived {
            match d {
                Derived::DayOfYear { month, day } => {
                    let m = calendar_index(&row[self.columns[*month].index], &MONTHS);
                    let d = number(&row[self.columns[*day].index]).filter(|d| (1.0..=31.0).contains(d));
                    out.push(match (m, d) {
                        (Some(m), Some(d)) => f64::from(DAYS_BEFORE[m]) + d.floor(),
                        _ => f64::NAN,
                    });
                }
            }
        }
    }

    /// Encodes the rows `which` of `rows`.
    pub fn encode(&self, rows: &[Vec<String>], which: &[usize]) -> Features {
        let (names, categorical) = self.feature_names();
        let mut values = Vec::with_capacity(which.len() * names.len());
        for &r in which {
            self.encode_row(&rows[r], &mut values);
        }
        Features { values, rows: which.len(), names, categorical }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &[&[&str]]) -> Vec<Vec<String>> {
        text.iter().map(|r| r.iter().map(|s| s.to_string()).collect()).collect()
    }

    fn header(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn kinds_are_inferred_from_values_not_names() {
        let mut data = Vec::new();
        for i in 0..100 {
            let pdays = if i % 3 == 0 { "-1".to_string() } else { (i * 2).to_string() };
            let month = ["May", "jun", "September"][i % 3];
            let job = ["a", "b", "b"][i % 3];
            data.push(vec![
                pdays,
                month.to_string(),
                job.to_string(),
                format!("id{i}"),
                "k".into(),
                "yes".into(),
            ]);
        }
        let all: Vec<usize> = (0..100).collect();
        let h = header(&["p", "m", "j", "id", "k", "y"]);
        let e = Encoder::fit(&h, &data, &all, &[5], Encoding::Codes, None);
        let kinds: Vec<&Kind> = e.columns.iter().map(|c| &c.kind).collect();
        assert_eq!(
            kinds,
            [
                &Kind::Numeric { sentinel: Some(-1.0) },
                &Kind::Month,
                &Kind::Categorical { levels: vec!["b".into(), "a".into()] }
            ]
        );
        let f = e.encode(&data, &[0, 1]);
        assert_eq!(f.names, ["p", "p missing", "m", "j"]);
        assert_eq!(f.categorical, [3]);
        assert!(f.row(0)[0].is_nan());
        assert_eq!(&f.row(0)[1..], [1.0, 5.0, 1.0]);
        assert_eq!(f.row(1), [2.0, 0.0, 6.0, 0.0]);
    }

    #[test]
    fn codes_follow_the_positive_share_when_labels_are_given() {
        // "a" is frequent and never positive, "c" rare and always positive.
        let mut data = Vec::new();
        let mut labels = Vec::new();
        for (level, n, positive) in [("a", 60, false), ("b", 30, true), ("c", 20, true)] {
            for i in 0..n {
                data.push(vec![level.to_string()]);
                labels.push(positive && i % 2 == 0 || level == "c");
            }
        }
        let all: Vec<usize> = (0..data.len()).collect();
        let e = Encoder::fit(&header(&["c"]), &data, &all, &[], Encoding::Codes, Some(&labels));
        assert_eq!(e.columns[0].kind, Kind::Categorical { levels: vec!["a".into(), "b".into(), "c".into()] });
        let by_count = Encoder::fit(&header(&["c"]), &data, &all, &[], Encoding::Codes, None);
        assert_eq!(
            by_count.columns[0].kind,
            Kind::Categorical { levels: vec!["a".into(), "b".into(), "c".into()] }
        );
        let e = Encoder::fit(&header(&["c"]), &data, &[60, 61, 90, 0], &[], Encoding::Codes, Some(&labels));
        assert_eq!(e.columns[0].kind, Kind::Categorical { levels: vec!["a".into(), "b".into(), "c".into()] });
    }

    #[test]
    fn a_month_and_a_day_of_month_make_a_day_of_year() {
        let mut data = Vec::new();
        for i in 0..200usize {
            let day = 1 + i % 31;
            // A count from 1 to 40: numeric, but not days (it passes 31).
            data.push(vec![
                ["jan", "mar", "dec"][i % 3].to_string(),
                day.to_string(),
                (1 + i % 40).to_string(),
                "k".into(),
            ]);
        }
        data[5][1] = "NA".into();
        let all: Vec<usize> = (0..200).collect();
        let h = header(&["mon", "d", "calls", "k"]);
        let e = Encoder::fit(&h, &data, &all, &[], Encoding::Codes, None);
        assert_eq!(e.derived, [Derived::DayOfYear { month: 0, day: 1 }]);
        let f = e.encode(&data, &[0, 1, 2, 5]);
        assert_eq!(f.names, ["mon", "d", "calls", "mon+d day of year"]);
        assert_eq!(f.row(0)[3], 1.0, "1 January");
        assert_eq!(f.row(1)[3], 59.0 + 2.0, "2 March");
        assert_eq!(f.row(2)[3], 334.0 + 3.0, "3 December");
        assert!(f.row(3)[3].is_nan(), "a missing day");
        let off = FeatureOptions { day_of_year: false, ..FeatureOptions::default() };
        assert!(Encoder::fit_with(&h, &data, &all, &[], Encoding::Codes, None, off).derived.is_empty());
        // Two day-like columns: which one goes with the month is a guess, so neither does.
        let two: Vec<Vec<String>> =
            data.iter().map(|r| vec![r[0].clone(), r[1].clone(), r[1].clone()]).collect();
        let e = Encoder::fit(&header(&["mon", "d", "e"]), &two, &all, &[], Encoding::Codes, None);
        assert!(e.derived.is_empty());
    }

    #[test]
    fn level_shares_are_frequencies_in_the_training_rows() {
        let data = rows(&[&["x", "1"], &["y", "2"], &["x", "3"], &["x", "4"], &["z", "5"]]);
        let h = header(&["c", "n"]);
        let options = FeatureOptions { level_shares: true, ..FeatureOptions::default() };
        let e = Encoder::fit_with(&h, &data, &[0, 1, 2, 3], &[], Encoding::Codes, None, options);
        let f = e.encode(&data, &[0, 1, 4]);
        assert_eq!(f.names, ["c share", "c", "n"]);
        assert_eq!(f.categorical, [1]);
        assert_eq!(f.row(0)[..2], [0.75, 0.0]);
        assert_eq!(f.row(1)[..2], [0.25, 1.0]);
        assert_eq!(f.row(2)[0], 0.0, "a level not seen in training has share 0");
        assert!(f.row(2)[1].is_nan());
    }

    #[test]
    fn one_hot_and_unseen_levels() {
        let data = rows(&[&["x", "1"], &["y", "2"], &["x", "3"], &["z", "4"]]);
        let h = header(&["c", "n"]);
        let e = Encoder::fit(&h, &data, &[0, 1, 2], &[], Encoding::OneHot, None);
        let f = e.encode(&data, &[0, 3]);
        assert_eq!(f.names, ["c=x", "c=y", "n"]);
        assert_eq!(f.row(0), [1.0, 0.0, 1.0]);
        assert_eq!(f.row(1), [0.0, 0.0, 4.0]);
        let codes = Encoder::fit(&h, &data, &[0, 1, 2], &[], Encoding::Codes, None).encode(&data, &[3]);
        assert!(codes.row(0)[0].is_nan(), "a level not seen in training is missing");
    }

    #[test]
    fn sentinels_need_a_gap_and_repeats() {
        let mut v: Vec<f64> = (0..200).map(f64::from).collect();
        assert_eq!(sentinel(&v, 200), None);
        v.extend([999.0; 5]);
        assert_eq!(sentinel(&v, 205), Some(999.0));
        let balance: Vec<f64> = (-50..150).map(f64::from).collect();
        assert_eq!(sentinel(&balance, 200), None, "negative values that are just values");
        assert_eq!(sentinel(&[-1.0, 5.0, 6.0, 7.0], 400), None, "too rare to be worth an indicator");
    }

    #[test]
    fn missing_tokens_and_column_major() {
        let data = rows(&[&["1", "NA"], &["?", "2"], &["3", "4"]]);
        let e = Encoder::fit(&header(&["a", "b"]), &data, &[0, 1, 2], &[], Encoding::Codes, None);
        let f = e.encode(&data, &[0, 1, 2]);
        assert!(f.row(0)[1].is_nan() && f.row(1)[0].is_nan());
        let cm = f.column_major();
        assert_eq!(cm[0], 1.0);
        assert_eq!(cm[2], 3.0);
        assert_eq!(cm[5], 4.0);
    }
}
