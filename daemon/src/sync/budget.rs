//! How much of GHL's daily request budget the recurring pulls may spend.
//!
//! GHL allows 200 000 requests a day per location and app. The fast poll costs 3 requests
//! every 10 s (about 13 % of that). GHL's deal search has no updated-since filter, so deals
//! are re-listed whole, and a big pipeline makes that the most expensive thing sync does:
//! 20 000 deals are 200 requests a pass, which once a minute would be 288 000 a day, more than
//! the whole budget. So the re-listing interval stretches with the number of deals, and a
//! day of re-listings stays within a fixed share of the budget. Webhooks, when enabled, bring
//! deal changes in between.

use std::time::Duration;

/// The share of the daily budget that deal re-listings may take.
pub const DEALS_SHARE: f64 = 0.25;

/// GHL's documented daily budget, used until a response reports the real one.
pub const GHL_DAILY_BUDGET: u32 = 200_000;

const DAY_SECS: f64 = 86_400.0;

/// The time between two deal re-listings: the configured interval, stretched so that a day
/// of re-listings costs at most `share` of `daily_budget`. A pass costs `requests_per_pass`.
pub fn deals_interval(
    configured: Duration,
    requests_per_pass: u64,
    daily_budget: u32,
    share: f64,
) -> Duration {
    let passes_per_day = (f64::from(daily_budget) * share / requests_per_pass.max(1) as f64).max(1.0);
    configured.max(Duration::from_secs_f64(DAY_SECS / passes_per_day))
}

/// The requests one re-listing of `deals` costs: the deal pages, plus the reference data
/// (location, users, custom fields, pipelines) pulled with it.
pub fn deals_pass_requests(deals: u64, page: u32) -> u64 {
    deals.div_ceil(u64::from(page.max(1))).max(1) + 4
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn a_small_pipeline_keeps_the_configured_interval() {
        let cost = deals_pass_requests(300, 100);
        assert_eq!(cost, 7);
        assert_eq!(deals_interval(MINUTE, cost, GHL_DAILY_BUDGET, DEALS_SHARE), MINUTE);
    }

    #[test]
    fn a_big_pipeline_stays_within_its_share_of_the_day() {
        let cost = deals_pass_requests(20_000, 100);
        let every = deals_interval(MINUTE, cost, GHL_DAILY_BUDGET, DEALS_SHARE);
        let per_day = DAY_SECS / every.as_secs_f64() * cost as f64;
        assert!(every > MINUTE * 5, "{every:?}");
        assert!(per_day <= f64::from(GHL_DAILY_BUDGET) * DEALS_SHARE + 1.0, "{per_day}");
    }

    #[test]
    fn no_budget_means_once_a_day() {
        let every = deals_interval(MINUTE, 10, 0, DEALS_SHARE);
        assert_eq!(every, Duration::from_secs(86_400));
    }
}
