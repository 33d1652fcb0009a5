//! What leads and agents say: the qualifying questions and realistic answers.

use rand::Rng;
use rand::seq::IndexedRandom;

use super::words::{
    CONDITIONS, FINANCING, LENDERS, MOTIVATIONS, MUST_HAVES, REGIONS, Region, STREETS, TIMELINES,
};

/// Buyer or seller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeadType {
    /// Wants to buy.
    Buyer,
    /// Wants to sell.
    Seller,
}

impl LeadType {
    /// The `contact.lead_type` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Buyer => "buyer",
            Self::Seller => "seller",
        }
    }

    /// The activation tag.
    pub fn tag(self) -> &'static str {
        match self {
            Self::Buyer => "Buyer-Lead",
            Self::Seller => "Seller-Lead",
        }
    }
}

/// A qualifying question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    Timeline,
    Budget,
    Location,
    Rooms,
    MustHaves,
    Financing,
    Address,
    Motivation,
    Condition,
    Price,
}

/// The order in which the team asks a buyer's questions.
pub const BUYER_TOPICS: &[Topic] =
    &[Topic::Timeline, Topic::Budget, Topic::Location, Topic::Rooms, Topic::MustHaves, Topic::Financing];

/// The order in which the team asks a seller's questions.
pub const SELLER_TOPICS: &[Topic] =
    &[Topic::Address, Topic::Motivation, Topic::Timeline, Topic::Condition, Topic::Price];

/// Everything a lead would answer, drawn once per lead so answers stay consistent.
#[derive(Debug, Clone)]
pub struct Profile {
    pub lead_type: LeadType,
    pub region: &'static Region,
    /// Buyer budget or seller asking price, in dollars.
    pub price: u64,
    pub areas: [&'static str; 2],
    pub timeline: usize,
    pub bedrooms: u8,
    pub bathrooms: u8,
    pub financing: usize,
    pub lender: &'static str,
    pub must_haves: [&'static str; 2],
    pub motivation: usize,
    pub condition: usize,
    /// Street address (the seller's property, or the listing a buyer asked about).
    pub street_address: String,
}

impl Profile {
    /// Draws a profile for a lead in `region`.
    pub fn draw(rng: &mut impl Rng, lead_type: LeadType, region: &'static Region) -> Self {
        let base: f64 = rng.random_range(180_000.0..750_000.0);
        let price = ((base * region.price_factor) / 5_000.0).round() as u64 * 5_000;
        let a1 = rng.random_range(0..region.areas.len());
        let mut a2 = rng.random_range(0..region.areas.len());
        if a2 == a1 {
            a2 = (a1 + 1) % region.areas.len();
        }
        let m1 = rng.random_range(0..MUST_HAVES.len());
        let m2 = (m1 + rng.random_range(1..MUST_HAVES.len())) % MUST_HAVES.len();
        let bedrooms = rng.random_range(2..=5);
        Self {
            lead_type,
            region,
            price,
            areas: [region.areas[a1], region.areas[a2]],
            timeline: rng.random_range(0..TIMELINES.len()),
            bedrooms,
            bathrooms: rng.random_range(1..=bedrooms.min(4)),
            financing: weighted_index(rng, &[45, 15, 12, 28]),
            lender: LENDERS.choose(rng).copied().unwrap_or("our bank"),
            must_haves: [MUST_HAVES[m1], MUST_HAVES[m2]],
            motivation: rng.random_range(0..MOTIVATIONS.len()),
            condition: rng.random_range(0..CONDITIONS.len()),
            street_address: format!(
                "{} {}",
                rng.random_range(100..9_999),
                STREETS.choose(rng).copied().unwrap_or("Main St")
            ),
        }
    }

    /// The qualifying questions for this lead type, in asking order.
    pub fn topics(&self) -> &'static [Topic] {
        match self.lead_type {
            LeadType::Buyer => BUYER_TOPICS,
            LeadType::Seller => SELLER_TOPICS,
        }
    }

    /// The urgency index into [`TIMELINES`] (0 = ASAP).
    pub fn timeline_label(&self) -> &'static str {
        TIMELINES[self.timeline].0
    }

    /// The financing label.
    pub fn financing_label(&self) -> &'static str {
        FINANCING[self.financing]
    }
}

/// The first text a lead gets (speed to lead), asking the first question.
pub fn intro(p: &Profile, first: &str, agent: &str, source: &str) -> String {
    match p.lead_type {
        LeadType::Buyer => format!(
            "Hi {first}, this is {agent} with Lone Star Realty Group. Saw your inquiry on {source} about homes in {}. When are you hoping to move?",
            p.areas[0]
        ),
        LeadType::Seller => format!(
            "Hi {first}, this is {agent} with Lone Star Realty Group. Thanks for reaching out about selling. What's the address of the home?"
        ),
    }
}

/// What a lead says first when they start the conversation themselves.
pub fn lead_opener(rng: &mut impl Rng, p: &Profile) -> String {
    match p.lead_type {
        LeadType::Buyer => {
            let opts = [
                format!("Hi, is the house on {} still available?", p.street_address),
                format!("Hello, I'd like to see homes in {} this weekend", p.areas[0]),
                "Hi, I filled out the form on your website. Can someone call me?".to_string(),
            ];
            opts.choose(rng).cloned().unwrap_or_default()
        }
        LeadType::Seller => {
            let opts = [
                "Hi, I'm curious what my house is worth".to_string(),
                format!("Hello, thinking about selling my place in {}. What would it list for?", p.areas[0]),
            ];
            opts.choose(rng).cloned().unwrap_or_default()
        }
    }
}

/// The team's question about `topic` (one question per text, under 160 characters).
pub fn question(rng: &mut impl Rng, topic: Topic, p: &Profile, first: &str) -> String {
    let opts: Vec<String> = match topic {
        Topic::Timeline => vec![
            format!("Thanks {first}! When are you hoping to move?"),
            "What's your timeframe for making a move?".into(),
        ],
        Topic::Budget => vec![
            "Got it. What price range are you shopping in?".into(),
            format!("Thanks {first}. What budget feels comfortable for you?"),
        ],
        Topic::Location => vec![
            "Which areas are you focused on?".into(),
            format!("Are you set on {} or open to nearby areas too?", p.areas[0]),
        ],
        Topic::Rooms => vec![
            "How many bedrooms and bathrooms do you need?".into(),
            "How much space do you need, beds and baths?".into(),
        ],
        Topic::MustHaves => vec![
            "Any must-haves or deal-breakers I should know about?".into(),
            "What would make a home a definite yes for you?".into(),
        ],
        Topic::Financing => vec![
            "Have you talked with a lender yet, or would you be paying cash?".into(),
            "Are you pre-approved yet? Happy to connect you with a great lender.".into(),
        ],
        Topic::Address => vec!["What's the address of the home you're thinking of selling?".into()],
        Topic::Motivation => vec![
            "Thanks! What's prompting the move?".into(),
            format!("Got it {first}. What has you thinking about selling?"),
        ],
        Topic::Condition => vec![
            "How would you describe the condition of the home?".into(),
            "Any updates or repairs the house needs?".into(),
        ],
        Topic::Price => {
            vec!["Do you have a price in mind?".into(), "What would you want to net from the sale?".into()]
        }
    };
    opts.choose(rng).cloned().unwrap_or_default()
}

fn money(v: u64) -> String {
    if v >= 1_000_000 {
        format!("${:.2}M", v as f64 / 1_000_000.0).replace(".00M", "M").replace("0M", "M")
    } else {
        format!("${}k", v / 1000)
    }
}

/// A lead's answer about `topic`, in their own words.
pub fn answer(rng: &mut impl Rng, topic: Topic, p: &Profile) -> String {
    let opts: Vec<String> = match topic {
        Topic::Timeline => vec![TIMELINES[p.timeline].1.to_string()],
        Topic::Budget => {
            if p.financing == 0 {
                vec![format!("We're pre-approved up to {}", money(p.price))]
            } else {
                vec![
                    format!("Trying to stay under {}", money(p.price)),
                    format!(
                        "Somewhere around {}, max {}",
                        money(p.price.saturating_sub(25_000)),
                        money(p.price)
                    ),
                ]
            }
        }
        Topic::Location => vec![
            format!("Looking in {} or {}", p.areas[0], p.areas[1]),
            format!("{} mostly, maybe {}", p.areas[0], p.areas[1]),
        ],
        Topic::Rooms => vec![
            format!("need {} bed {} bath", p.bedrooms, p.bathrooms),
            format!("At least {} bedrooms and {} baths", p.bedrooms, p.bathrooms),
        ],
        Topic::MustHaves => vec![
            format!("Must have {} and {}", p.must_haves[0], p.must_haves[1]),
            format!("{} is a must, {} would be nice", cap(p.must_haves[0]), p.must_haves[1]),
        ],
        Topic::Financing => match p.financing {
            0 => vec![format!("We're pre-approved with {}", p.lender)],
            1 => vec!["Pre-qualified, working on the full approval now".into()],
            2 => vec!["We'd be paying cash".into()],
            _ => vec!["Haven't talked to a lender yet".into()],
        },
        Topic::Address => {
            vec![format!("It's {}, {}", p.street_address, p.region.cities.first().map(|c| c.0).unwrap_or(""))]
        }
        Topic::Motivation => vec![MOTIVATIONS[p.motivation].to_string()],
        Topic::Condition => vec![CONDITIONS[p.condition].1.to_string()],
        Topic::Price => vec![
            format!("Hoping to get around {}", money(p.price)),
            format!("Neighbor sold for {} so something like that", money(p.price)),
        ],
    };
    opts.choose(rng).cloned().unwrap_or_default()
}

fn cap(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The agent's offer once qualifying is done (two concrete options).
pub fn offer(rng: &mut impl Rng, p: &Profile) -> String {
    let opts: &[&str] = match p.lead_type {
        LeadType::Buyer => &[
            "Great, I have a few homes that fit. Does Saturday at 10 or Sunday at 2 work for showings?",
            "Perfect. I'll send listings tonight. Would a call at 5 today or 9 tomorrow work?",
        ],
        LeadType::Seller => &[
            "Thanks! I can come by for a walkthrough. Does Tuesday at 4 or Thursday at 11 work?",
            "I'll put together a market analysis. Can we talk Wednesday at 6 or Friday at 10?",
        ],
    };
    opts.choose(rng).copied().unwrap_or_default().to_string()
}

/// Small talk a lead sends after qualifying.
pub fn lead_followup(rng: &mut impl Rng) -> String {
    [
        "Saturday works",
        "Can you call me after 5?",
        "Sounds good, thanks!",
        "Sunday is better for us",
        "Can you send me a few listings first?",
        "Ok let me check with my wife and get back to you",
    ]
    .choose(rng)
    .copied()
    .unwrap_or("Ok")
    .to_string()
}

/// A follow-up the team sends when the lead has gone quiet.
pub fn nudge(rng: &mut impl Rng, p: &Profile, first: &str) -> String {
    let opts = [
        format!("Hey {first}, just checking in. Are you still looking in {}?", p.areas[0]),
        format!("Hey {first}, a new listing just hit in {}. Want the details?", p.areas[1]),
        format!("Hey {first}, should I close your file or are you still thinking about a move?"),
    ];
    opts.choose(rng).cloned().unwrap_or_default()
}

/// An email subject the team might use.
pub fn email_subject(rng: &mut impl Rng, p: &Profile) -> String {
    let opts = [
        format!("New listings in {}", p.areas[0]),
        "Your home search".to_string(),
        "What's your home worth?".to_string(),
        format!("Market update for {}", p.areas[1]),
    ];
    opts.choose(rng).cloned().unwrap_or_default()
}

/// Picks an index by integer weights.
pub fn weighted_index(rng: &mut impl Rng, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    if total == 0 {
        return 0;
    }
    let mut x = rng.random_range(0..total);
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

/// Picks a region by weight.
pub fn pick_region(rng: &mut impl Rng) -> &'static Region {
    let weights: Vec<u32> = REGIONS.iter().map(|r| r.weight).collect();
    &REGIONS[weighted_index(rng, &weights)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn answers_read_like_people() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let p = Profile::draw(&mut rng, LeadType::Buyer, &REGIONS[0]);
        let a = answer(&mut rng, Topic::Location, &p);
        assert!(a.contains(p.areas[0]));
        let r = answer(&mut rng, Topic::Rooms, &p);
        assert!(r.contains(&p.bedrooms.to_string()));
        assert!(intro(&p, "Ann", "Derek", "Zillow").len() < 200);
        assert_eq!(money(450_000), "$450k");
        assert_eq!(money(1_250_000), "$1.25M");
        assert_eq!(money(2_000_000), "$2M");
    }

    #[test]
    fn weighted_index_respects_zero_weights() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for _ in 0..100 {
            assert_eq!(weighted_index(&mut rng, &[0, 5, 0]), 1);
        }
    }
}
