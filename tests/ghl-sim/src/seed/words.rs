//! Word lists the seeded data set draws from.

/// Common US first names.
pub const FIRST_NAMES: &[&str] = &[
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Christopher", "Karen", "Charles", "Lisa", "Daniel", "Nancy", "Matthew", "Betty", "Anthony",
    "Sandra", "Mark", "Ashley", "Donald", "Kimberly", "Steven", "Emily", "Andrew", "Donna", "Paul",
    "Michelle", "Joshua", "Carol", "Kenneth", "Amanda", "Kevin", "Melissa", "Brian", "Deborah",
    "Timothy", "Stephanie", "Ronald", "Rebecca", "Jason", "Laura", "Jeffrey", "Sharon", "Ryan",
    "Cynthia", "Jacob", "Kathleen", "Gary", "Amy", "Nicholas", "Angela", "Eric", "Shirley",
    "Jonathan", "Brenda", "Stephen", "Emma", "Larry", "Anna", "Justin", "Pamela", "Scott",
    "Nicole", "Brandon", "Samantha", "Benjamin", "Katherine", "Samuel", "Christine", "Gregory",
    "Rachel", "Alexander", "Carolyn", "Patrick", "Janet", "Frank", "Maria", "Raymond", "Olivia",
    "Jack", "Heather", "Dennis", "Helen", "Jerry", "Catherine", "Tyler", "Diane", "Aaron", "Julie",
    "Jose", "Victoria", "Adam", "Lauren", "Nathan", "Christina", "Henry", "Joan", "Zachary",
    "Evelyn", "Douglas", "Judith", "Peter", "Megan", "Kyle", "Andrea", "Noah", "Cheryl", "Ethan",
    "Hannah", "Jeremy", "Jacqueline", "Christian", "Martha", "Keith", "Madison", "Austin", "Teresa",
    "Sean", "Gloria", "Carlos", "Sara", "Luis", "Janice", "Miguel", "Ana", "Juan", "Kelly", "Wei",
    "Priya", "Aisha", "Mohammed", "Hiroshi", "Mei", "Darnell", "Keisha", "Malik", "Tanisha",
    "Diego", "Sofia", "Rajesh", "Ngoc", "Kalani", "Leilani", "Tatiana", "Marcus", "Jasmine",
];

/// Common US last names.
pub const LAST_NAMES: &[&str] = &[
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark",
    "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres",
    "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell",
    "Mitchell", "Carter", "Roberts", "Gomez", "Phillips", "Evans", "Turner", "Diaz", "Parker",
    "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris", "Morales", "Murphy", "Cook",
    "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson", "Bailey", "Reed", "Kelly",
    "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson", "Watson", "Brooks", "Chavez", "Wood",
    "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes", "Price", "Alvarez", "Castillo",
    "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jimenez", "Chen", "Wang", "Singh",
    "Okafor", "Tanaka", "Kahananui", "Novak", "Kowalski", "O'Brien", "Sullivan", "Fitzgerald",
];

/// Email domains with rough popularity weights.
pub const EMAIL_DOMAINS: &[(&str, u32)] = &[
    ("gmail.com", 55),
    ("yahoo.com", 14),
    ("hotmail.com", 8),
    ("outlook.com", 8),
    ("icloud.com", 9),
    ("aol.com", 3),
    ("comcast.net", 3),
];

/// Lead sources with weights (as agents name them in GHL's `source`).
pub const SOURCES: &[(&str, u32)] = &[
    ("Zillow", 24),
    ("Realtor.com", 14),
    ("Facebook Ads", 18),
    ("Google Ads", 11),
    ("Website", 13),
    ("Referral", 9),
    ("Open House", 6),
    ("Sign Call", 5),
];

/// Street names for addresses.
pub const STREETS: &[&str] = &[
    "Oak St", "Maple Ave", "Cedar Ln", "Elm Dr", "Pine St", "Willow Way", "Main St",
    "Park Blvd", "Lakeview Dr", "Sunset Blvd", "Highland Ave", "Meadow Ln", "Ridge Rd",
    "Magnolia Dr", "Hickory Ct", "Preston Rd", "Spring Creek Pkwy", "Legacy Dr", "Mesa Verde Dr",
    "Camelback Rd", "Harbor View Ln", "Bluebonnet Trl", "Cypress Point Dr", "Aspen Ct",
    "Juniper St", "Kukui St", "Birch Hollow Dr", "Canyon Rd", "Stonebridge Dr", "Wildflower Ln",
];

/// Lenders named in financing answers.
pub const LENDERS: &[&str] = &[
    "Chase", "Wells Fargo", "Rocket Mortgage", "Bank of America", "a local credit union",
    "Guild Mortgage", "US Bank", "our bank",
];

/// Must-haves named by buyers.
pub const MUST_HAVES: &[&str] = &[
    "a two car garage",
    "a big backyard",
    "a pool",
    "good schools",
    "a home office",
    "single story",
    "an open floor plan",
    "no HOA",
    "room for a dog",
    "a short commute downtown",
];

/// Seller motivations.
pub const MOTIVATIONS: &[&str] = &[
    "Relocating for work",
    "We're downsizing now that the kids are gone",
    "Growing family, we need more space",
    "Inherited my mom's house and don't want to keep it",
    "Retiring and moving closer to the grandkids",
    "Going through a divorce, need to sell",
    "Tired of being a landlord",
    "Want to upgrade to a bigger place",
];

/// Home conditions as stored in `contact.home_condition`, with a seller's way of saying it.
pub const CONDITIONS: &[(&str, &str)] = &[
    ("Needs some work", "It needs some work, roof is old"),
    ("Move-in ready", "Move-in ready, we redid the kitchen last year"),
    ("Needs major repairs", "Needs major repairs honestly, we'd sell as-is"),
    ("Recently renovated", "Recently renovated, new floors and paint throughout"),
    ("Dated but solid", "It's solid but dated, original bathrooms"),
];

/// Timelines as stored in `contact.timeline`, with a lead's way of saying it.
pub const TIMELINES: &[(&str, &str)] = &[
    ("ASAP", "ASAP, our lease is up next month"),
    ("0-30 days", "within 30 days if we find the right place"),
    ("30-60 days", "hoping to move within 60 days"),
    ("60-90 days", "probably in the next 2-3 months"),
    ("3-6 months", "no big rush, maybe 3-6 months"),
    ("6+ months", "just starting to look, probably 6 months or more"),
];

/// Financing as stored in `contact.financing`.
pub const FINANCING: &[&str] = &["Pre-approved", "Pre-qualified", "Cash", "Needs lender"];

/// The location's tags.
pub const TAGS: &[&str] = &[
    "Buyer-Lead",
    "Seller-Lead",
    "Needs Qualifying",
    "Hot Lead",
    "Warm Lead",
    "Cold Lead",
    "Pre-Approved",
    "First-Time Buyer",
    "Investor",
    "Relocation",
    "Cash Buyer",
    "Open House",
    "Past Client",
    "AI-Qualified",
    "Ready-For-Agent",
    "Nurture",
];

/// A metro area: phone area codes, IANA time zone, state, cities with ZIP prefixes, and the
/// neighbourhoods or suburbs leads ask about.
pub struct Region {
    pub area_codes: &'static [&'static str],
    pub timezone: &'static str,
    pub state: &'static str,
    pub cities: &'static [(&'static str, &'static str)],
    pub areas: &'static [&'static str],
    /// Price multiplier against the national baseline.
    pub price_factor: f64,
    /// Relative share of leads.
    pub weight: u32,
}

/// The metros leads come from (the brokerage sits in Dallas, so most are Texan).
pub const REGIONS: &[Region] = &[
    Region {
        area_codes: &["214", "469", "972"],
        timezone: "America/Chicago",
        state: "TX",
        cities: &[("Dallas", "752"), ("Plano", "750"), ("Frisco", "750"), ("McKinney", "750")],
        areas: &["Plano", "Frisco", "McKinney", "Allen", "Richardson", "Lake Highlands", "Prosper"],
        price_factor: 1.0,
        weight: 34,
    },
    Region {
        area_codes: &["713", "832"],
        timezone: "America/Chicago",
        state: "TX",
        cities: &[("Houston", "770"), ("Katy", "774"), ("Sugar Land", "774")],
        areas: &["Katy", "Sugar Land", "The Woodlands", "Pearland", "Cypress", "the Heights"],
        price_factor: 0.9,
        weight: 8,
    },
    Region {
        area_codes: &["312", "773", "630"],
        timezone: "America/Chicago",
        state: "IL",
        cities: &[("Chicago", "606"), ("Naperville", "605"), ("Evanston", "602")],
        areas: &["Naperville", "Evanston", "Oak Park", "Lincoln Park", "Wheaton"],
        price_factor: 1.1,
        weight: 7,
    },
    Region {
        area_codes: &["212", "917", "718"],
        timezone: "America/New_York",
        state: "NY",
        cities: &[("New York", "100"), ("Brooklyn", "112"), ("Queens", "113")],
        areas: &["Park Slope", "Astoria", "the Upper West Side", "Long Island City", "Bay Ridge"],
        price_factor: 1.9,
        weight: 7,
    },
    Region {
        area_codes: &["305", "786"],
        timezone: "America/New_York",
        state: "FL",
        cities: &[("Miami", "331"), ("Coral Gables", "331"), ("Doral", "331")],
        areas: &["Coral Gables", "Brickell", "Doral", "Kendall", "Pinecrest"],
        price_factor: 1.3,
        weight: 6,
    },
    Region {
        area_codes: &["404", "678"],
        timezone: "America/New_York",
        state: "GA",
        cities: &[("Atlanta", "303"), ("Alpharetta", "300"), ("Marietta", "300")],
        areas: &["Decatur", "Alpharetta", "Marietta", "Buckhead", "Roswell"],
        price_factor: 1.0,
        weight: 6,
    },
    Region {
        area_codes: &["303", "720"],
        timezone: "America/Denver",
        state: "CO",
        cities: &[("Denver", "802"), ("Aurora", "800"), ("Lakewood", "802")],
        areas: &["Aurora", "Lakewood", "Highlands Ranch", "Littleton", "Arvada"],
        price_factor: 1.3,
        weight: 6,
    },
    Region {
        area_codes: &["602", "480"],
        timezone: "America/Phoenix",
        state: "AZ",
        cities: &[("Phoenix", "850"), ("Scottsdale", "852"), ("Chandler", "852")],
        areas: &["Scottsdale", "Tempe", "Chandler", "Gilbert", "Mesa"],
        price_factor: 1.05,
        weight: 7,
    },
    Region {
        area_codes: &["213", "310", "909"],
        timezone: "America/Los_Angeles",
        state: "CA",
        cities: &[("Los Angeles", "900"), ("Pasadena", "911"), ("Rancho Cucamonga", "917")],
        areas: &["Pasadena", "Burbank", "Rancho Cucamonga", "Ontario", "Santa Monica"],
        price_factor: 2.0,
        weight: 8,
    },
    Region {
        area_codes: &["206", "425"],
        timezone: "America/Los_Angeles",
        state: "WA",
        cities: &[("Seattle", "981"), ("Bellevue", "980"), ("Redmond", "980")],
        areas: &["Bellevue", "Redmond", "Kirkland", "Ballard", "Bothell"],
        price_factor: 1.8,
        weight: 4,
    },
    Region {
        area_codes: &["907"],
        timezone: "America/Anchorage",
        state: "AK",
        cities: &[("Anchorage", "995"), ("Eagle River", "995")],
        areas: &["Eagle River", "Wasilla", "South Anchorage", "Palmer"],
        price_factor: 0.95,
        weight: 2,
    },
    Region {
        area_codes: &["808"],
        timezone: "Pacific/Honolulu",
        state: "HI",
        cities: &[("Honolulu", "968"), ("Kailua", "967"), ("Kapolei", "967")],
        areas: &["Kailua", "Kapolei", "Mililani", "Kaneohe", "Ewa Beach"],
        price_factor: 2.1,
        weight: 2,
    },
];

/// Finds the region whose area codes include the one in `phone` (`+1AAA...`).
pub fn region_of_phone(phone: &str) -> Option<&'static Region> {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let area = digits.strip_prefix('1').unwrap_or(&digits).get(0..3)?;
    REGIONS.iter().find(|r| r.area_codes.contains(&area))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_region_is_usable() {
        for r in REGIONS {
            assert!(!r.area_codes.is_empty() && !r.cities.is_empty() && r.areas.len() >= 2);
            assert!(r.timezone.contains('/'));
        }
        assert_eq!(
            region_of_phone("+12125550123").map(|r| r.timezone),
            Some("America/New_York")
        );
        assert_eq!(
            region_of_phone("+18085550123").map(|r| r.timezone),
            Some("Pacific/Honolulu")
        );
        assert!(region_of_phone("+1999").is_none());
    }
}
