#!/usr/bin/env python3
"""Writes assets/demo/listings.csv: made-up MLS listings for the demo location.

The listings sit where the GHL simulator's leads look (its regions, cities and areas, copied
from tests/ghl-sim/src/seed/words.rs) at the prices its leads' budgets are drawn from
(180k-750k times the region's price factor), so `leadline demo` shows real matches. The columns
are the RESO Data Dictionary names an MLS export uses. Deterministic: the same file every run.

    python3 scripts/demo-listings.py            # writes assets/demo/listings.csv
    python3 scripts/demo-listings.py --check    # fails if the committed file differs
"""

import csv
import io
import pathlib
import random
import sys

# (state, [(city, zip prefix)], [areas], price factor, share of the leads)
REGIONS = [
    ("TX", [("Dallas", "752"), ("Plano", "750"), ("Frisco", "750"), ("McKinney", "750")],
     ["Plano", "Frisco", "McKinney", "Allen", "Richardson", "Lake Highlands", "Prosper"], 1.0, 34),
    ("TX", [("Houston", "770"), ("Katy", "774"), ("Sugar Land", "774")],
     ["Katy", "Sugar Land", "The Woodlands", "Pearland", "Cypress", "the Heights"], 0.9, 8),
    ("IL", [("Chicago", "606"), ("Naperville", "605"), ("Evanston", "602")],
     ["Naperville", "Evanston", "Oak Park", "Lincoln Park", "Wheaton"], 1.1, 7),
    ("NY", [("New York", "100"), ("Brooklyn", "112"), ("Queens", "113")],
     ["Park Slope", "Astoria", "the Upper West Side", "Long Island City", "Bay Ridge"], 1.9, 7),
    ("FL", [("Miami", "331"), ("Coral Gables", "331"), ("Doral", "331")],
     ["Coral Gables", "Brickell", "Doral", "Kendall", "Pinecrest"], 1.3, 6),
    ("GA", [("Atlanta", "303"), ("Alpharetta", "300"), ("Marietta", "300")],
     ["Decatur", "Alpharetta", "Marietta", "Buckhead", "Roswell"], 1.0, 6),
    ("CO", [("Denver", "802"), ("Aurora", "800"), ("Lakewood", "802")],
     ["Aurora", "Lakewood", "Highlands Ranch", "Littleton", "Arvada"], 1.3, 6),
    ("AZ", [("Phoenix", "850"), ("Scottsdale", "852"), ("Chandler", "852")],
     ["Scottsdale", "Tempe", "Chandler", "Gilbert", "Mesa"], 1.05, 7),
    ("CA", [("Los Angeles", "900"), ("Pasadena", "911"), ("Rancho Cucamonga", "917")],
     ["Pasadena", "Burbank", "Rancho Cucamonga", "Ontario", "Santa Monica"], 2.0, 8),
    ("WA", [("Seattle", "981"), ("Bellevue", "980"), ("Redmond", "980")],
     ["Bellevue", "Redmond", "Kirkland", "Ballard", "Bothell"], 1.8, 4),
    ("AK", [("Anchorage", "995"), ("Eagle River", "995")],
     ["Eagle River", "Wasilla", "South Anchorage", "Palmer"], 0.95, 2),
    ("HI", [("Honolulu", "968"), ("Kailua", "967"), ("Kapolei", "967")],
     ["Kailua", "Kapolei", "Mililani", "Kaneohe", "Ewa Beach"], 2.1, 2),
]
STREETS = ["Oak", "Maple", "Cedar", "Elm", "Pecan", "Willow", "Magnolia", "Juniper", "Hickory", "Sycamore",
           "Bluebonnet", "Ridge", "Lakeview", "Meadow", "Sunset", "Highland", "Park", "Mill", "Spring", "Aspen"]
SUFFIXES = ["St", "Ave", "Dr", "Ln", "Ct", "Way", "Blvd", "Pl"]
SUB_TYPES = [("Single Family Residence", 70), ("Townhouse", 15), ("Condominium", 15)]
STATUSES = [("Active", 85), ("Pending", 8), ("Closed", 4), ("Coming Soon", 3)]
COLUMNS = ["ListingId", "ListPrice", "BedroomsTotal", "BathroomsTotalInteger", "LivingArea", "StreetNumber",
           "StreetName", "StreetSuffix", "City", "StateOrProvince", "PostalCode", "SubdivisionName",
           "PropertyType", "PropertySubType", "StandardStatus"]
TOTAL = 400


def pick(rng, weighted):
    return rng.choices([w[0] for w in weighted], weights=[w[1] for w in weighted])[0]


def generate():
    rng = random.Random(2026)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    share = sum(r[4] for r in REGIONS)
    n = 0
    for state, cities, areas, factor, weight in REGIONS:
        for _ in range(max(12, round(TOTAL * weight / share))):
            n += 1
            city, zip_prefix = rng.choice(cities)
            area = rng.choice(areas)
            area = area[4:] if area.startswith("the ") else area
            sub_type = pick(rng, SUB_TYPES)
            beds = rng.randint(1, 3) if sub_type == "Condominium" else rng.randint(2, 6)
            baths = rng.randint(1, min(beds, 4))
            price = round(rng.uniform(150_000, 800_000) * factor * (0.8 if sub_type == "Condominium" else 1.0) / 1_000) * 1_000
            living = round((500 + beds * 420 + rng.randint(-150, 350)) / 10) * 10
            writer.writerow([
                f"DEMO-{n:05d}", price, beds, baths, living, rng.randint(100, 9_999), rng.choice(STREETS),
                rng.choice(SUFFIXES), city, state, f"{zip_prefix}{rng.randint(1, 98):02d}", area, "Residential",
                sub_type, pick(rng, STATUSES),
            ])
    return out.getvalue()


def main():
    path = pathlib.Path(__file__).resolve().parent.parent / "assets" / "demo" / "listings.csv"
    text = generate()
    if "--check" in sys.argv:
        if path.read_text() != text:
            sys.exit(f"{path} is not what scripts/demo-listings.py writes; run it again")
        return
    path.write_text(text)
    print(f"wrote {path} ({text.count(chr(10)) - 1} listings)")


if __name__ == "__main__":
    main()
