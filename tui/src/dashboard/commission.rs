//! The predecessor's commission and ROI calculator (business rules §5, "Sales Copilot"):
//! price; buyer, seller or dual agency; commission rate 1–6 % (default 2.5); brokerage split
//! 50–100 % to the agent (default 80). It shows the gross commission, the brokerage's share,
//! the net commission and the effective rate; with the deal's costs (marketing, lead cost), the
//! profit and the ROI, as the predecessor's campaign analytics reckoned it: (revenue − cost) ÷
//! cost. Pure functions, no IO.

/// Which side(s) of the sale the agent represents: dual agency earns both sides' commission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Agency {
    /// The buyer's agent: one side.
    #[default]
    Buyer,
    /// The listing (seller's) agent: one side.
    Seller,
    /// Both sides.
    Dual,
}

impl Agency {
    /// How many sides' commission the agent earns.
    pub fn sides(self) -> f64 {
        match self {
            Agency::Buyer | Agency::Seller => 1.0,
            Agency::Dual => 2.0,
        }
    }

    /// The next one (the calculator cycles through them with one key).
    pub fn next(self) -> Agency {
        match self {
            Agency::Buyer => Agency::Seller,
            Agency::Seller => Agency::Dual,
            Agency::Dual => Agency::Buyer,
        }
    }

    /// `buyer`, `seller` or `dual`.
    pub fn as_str(self) -> &'static str {
        match self {
            Agency::Buyer => "buyer",
            Agency::Seller => "seller",
            Agency::Dual => "dual",
        }
    }
}

/// The lowest and highest commission rate the calculator takes, in percent.
pub const RATE_RANGE: (f64, f64) = (1.0, 6.0);
/// The lowest and highest split to the agent, in percent.
pub const SPLIT_RANGE: (f64, f64) = (50.0, 100.0);
/// The predecessor's default rate, in percent (also `[analytics] commission_rate`'s default).
pub const DEFAULT_RATE_PCT: f64 = 2.5;
/// The predecessor's default split to the agent, in percent.
pub const DEFAULT_SPLIT_PCT: f64 = 80.0;

/// What the calculator is given.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Inputs {
    /// The sale price, in dollars.
    pub price: f64,
    pub agency: Agency,
    /// The commission rate per side, in percent (2.5 is 2.5 %).
    pub rate_pct: f64,
    /// The agent's share of the commission after the brokerage's, in percent.
    pub split_pct: f64,
    /// What the deal cost the agent (marketing, lead cost…), in dollars.
    pub costs: f64,
}

impl Inputs {
    /// The predecessor's defaults for a deal of this price, with `rate_pct` from the config.
    pub fn for_price(price: f64, rate_pct: f64) -> Inputs {
        Inputs { price, agency: Agency::Buyer, rate_pct, split_pct: DEFAULT_SPLIT_PCT, costs: 0.0 }
    }
}

/// What the calculator shows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    /// price × rate × sides.
    pub gross: f64,
    /// gross × (1 − split): what the brokerage keeps.
    pub brokerage: f64,
    /// gross × split: what the agent earns.
    pub net: f64,
    /// net ÷ price, in percent.
    pub effective_rate_pct: f64,
    /// net − costs.
    pub profit: f64,
    /// (net − costs) ÷ costs; `None` without costs.
    pub roi: Option<f64>,
}

/// Why the inputs cannot be computed, in words that say what to change.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CalcError {
    #[error("the price must be a positive amount (e.g. 425000)")]
    Price,
    #[error("the commission rate must be between 1 and 6 % (e.g. 2.5)")]
    Rate,
    #[error("the split to the agent must be between 50 and 100 % (e.g. 80)")]
    Split,
    #[error("the costs cannot be negative (0 when none)")]
    Costs,
}

/// Computes the commission and ROI of a deal.
pub fn compute(i: &Inputs) -> Result<Outcome, CalcError> {
    if !(i.price.is_finite() && i.price > 0.0) {
        return Err(CalcError::Price);
    }
    if !(RATE_RANGE.0..=RATE_RANGE.1).contains(&i.rate_pct) {
        return Err(CalcError::Rate);
    }
    if !(SPLIT_RANGE.0..=SPLIT_RANGE.1).contains(&i.split_pct) {
        return Err(CalcError::Split);
    }
    if !(i.costs.is_finite() && i.costs >= 0.0) {
        return Err(CalcError::Costs);
    }
    let gross = i.price * i.rate_pct / 100.0 * i.agency.sides();
    let net = gross * i.split_pct / 100.0;
    let brokerage = gross - net;
    let profit = net - i.costs;
    Ok(Outcome {
        gross,
        brokerage,
        net,
        effective_rate_pct: net / i.price * 100.0,
        profit,
        roi: (i.costs > 0.0).then(|| profit / i.costs),
    })
}

/// Reads an amount or percentage as typed: `425000`, `$425,000`, `425k`, `1.2m`, `2.5%`.
pub fn parse_number(text: &str) -> Option<f64> {
    let t: String = text.trim().chars().filter(|c| !matches!(c, '$' | ',' | '%' | ' ' | '_')).collect();
    let lower = t.to_ascii_lowercase();
    let (digits, factor) = match lower.strip_suffix('k') {
        Some(d) => (d, 1_000.0),
        None => match lower.strip_suffix('m') {
            Some(d) => (d, 1_000_000.0),
            None => (lower.as_str(), 1.0),
        },
    };
    let v: f64 = digits.parse().ok()?;
    v.is_finite().then_some(v * factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    /// $400,000, 2.5 %, 80 % split, buyer side, $1,000 of costs, by hand:
    /// gross 400,000 × 0.025 = 10,000; the brokerage keeps 20 % = 2,000; the agent nets
    /// 8,000; 8,000 ÷ 400,000 = 2.0 %; profit 8,000 − 1,000 = 7,000; ROI 7,000 ÷ 1,000 = 7.
    #[test]
    fn one_side_by_hand() {
        let i = Inputs {
            price: 400_000.0,
            agency: Agency::Buyer,
            rate_pct: 2.5,
            split_pct: 80.0,
            costs: 1_000.0,
        };
        let o = compute(&i).expect("valid");
        assert!(close(o.gross, 10_000.0), "{o:?}");
        assert!(close(o.brokerage, 2_000.0));
        assert!(close(o.net, 8_000.0));
        assert!(close(o.effective_rate_pct, 2.0));
        assert!(close(o.profit, 7_000.0));
        assert!(close(o.roi.expect("costs"), 7.0));
        // The seller's side earns the same.
        assert_eq!(compute(&Inputs { agency: Agency::Seller, ..i }), Ok(o));
    }

    /// Dual agency, $250,000 at 3 %, 70 % split, no costs: gross 250,000 × 0.03 × 2 = 15,000;
    /// brokerage 30 % = 4,500; net 10,500; 10,500 ÷ 250,000 = 4.2 %; no ROI without costs.
    #[test]
    fn dual_agency_by_hand() {
        let i = Inputs { price: 250_000.0, agency: Agency::Dual, rate_pct: 3.0, split_pct: 70.0, costs: 0.0 };
        let o = compute(&i).expect("valid");
        assert!(close(o.gross, 15_000.0) && close(o.brokerage, 4_500.0) && close(o.net, 10_500.0), "{o:?}");
        assert!(close(o.effective_rate_pct, 4.2));
        assert!(close(o.profit, 10_500.0));
        assert_eq!(o.roi, None);
    }

    /// A 100 % split leaves the brokerage nothing; costs over the net make the ROI negative:
    /// $100,000 at 6 %: gross 6,000 = net; costs 8,000 → profit −2,000, ROI −0.25.
    #[test]
    fn full_split_and_a_loss() {
        let i = Inputs {
            price: 100_000.0,
            agency: Agency::Seller,
            rate_pct: 6.0,
            split_pct: 100.0,
            costs: 8_000.0,
        };
        let o = compute(&i).expect("valid");
        assert!(close(o.brokerage, 0.0) && close(o.net, 6_000.0));
        assert!(close(o.roi.expect("costs"), -0.25));
    }

    #[test]
    fn out_of_range_inputs_say_what_to_change() {
        let ok = Inputs::for_price(300_000.0, DEFAULT_RATE_PCT);
        assert_eq!(compute(&Inputs { price: 0.0, ..ok }), Err(CalcError::Price));
        assert_eq!(compute(&Inputs { rate_pct: 7.0, ..ok }), Err(CalcError::Rate));
        assert_eq!(compute(&Inputs { rate_pct: 0.5, ..ok }), Err(CalcError::Rate));
        assert_eq!(compute(&Inputs { split_pct: 40.0, ..ok }), Err(CalcError::Split));
        assert_eq!(compute(&Inputs { costs: -1.0, ..ok }), Err(CalcError::Costs));
        assert!(compute(&ok).is_ok());
        assert_eq!((ok.split_pct, ok.agency), (DEFAULT_SPLIT_PCT, Agency::Buyer));
    }

    #[test]
    fn numbers_are_read_as_typed() {
        assert_eq!(parse_number("$425,000"), Some(425_000.0));
        assert_eq!(parse_number("425k"), Some(425_000.0));
        assert_eq!(parse_number("1.2M"), Some(1_200_000.0));
        assert_eq!(parse_number("2.5%"), Some(2.5));
        assert_eq!(parse_number("abc"), None);
        assert_eq!(parse_number(""), None);
    }
}
