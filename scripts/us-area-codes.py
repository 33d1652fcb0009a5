#!/usr/bin/env python3
"""Writes config/compliance/us-area-codes.csv: each NANP geographic area code of the US (with
its territories) and Canada, its state or province, and the IANA zones its numbers may be in.

The data comes from Google's libphonenumber, through the Python `phonenumbers` package
(Apache-2.0): its geocoder gives the place ("Florida", "Pocatello, ID") and its timezone
mapper the IANA zones, for the area code and for the longer prefixes under it. An area code's
zones are the union over all of its prefixes, so a number is never placed in fewer zones than
libphonenumber allows (e.g. 928 in Arizona gives America/Phoenix and, for the Navajo Nation,
America/Denver).

Caribbean NANP countries are left out: libphonenumber has no zone for most of them, and the
daemon falls back to the location's default zone for a number it cannot place.

Run it in a throwaway virtualenv; nothing in the build or the tests needs Python:

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install phonenumbers
    /tmp/venv/bin/python scripts/us-area-codes.py > config/compliance/us-area-codes.csv
"""

import datetime
import sys

import phonenumbers
from phonenumbers import PhoneNumberType, geodata, timezone, tzdata

US_STATES = {
    "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA",
    "Colorado": "CO", "Connecticut": "CT", "Delaware": "DE", "Florida": "FL", "Georgia": "GA",
    "Hawaii": "HI", "Idaho": "ID", "Illinois": "IL", "Indiana": "IN", "Iowa": "IA",
    "Kansas": "KS", "Kentucky": "KY", "Louisiana": "LA", "Maine": "ME", "Maryland": "MD",
    "Massachusetts": "MA", "Michigan": "MI", "Minnesota": "MN", "Mississippi": "MS",
    "Missouri": "MO", "Montana": "MT", "Nebraska": "NE", "Nevada": "NV", "New Hampshire": "NH",
    "New Jersey": "NJ", "New Mexico": "NM", "New York": "NY", "North Carolina": "NC",
    "North Dakota": "ND", "Ohio": "OH", "Oklahoma": "OK", "Oregon": "OR", "Pennsylvania": "PA",
    "Rhode Island": "RI", "South Carolina": "SC", "South Dakota": "SD", "Tennessee": "TN",
    "Texas": "TX", "Utah": "UT", "Vermont": "VT", "Virginia": "VA",
    "Washington State": "WA", "Washington": "WA", "Washington D.C.": "DC",
    "West Virginia": "WV", "Wisconsin": "WI", "Wyoming": "WY",
}
CA_PROVINCES = {
    "Alberta": "AB", "British Columbia": "BC", "British Colombia": "BC", "Manitoba": "MB",
    "New Brunswick": "NB", "Newfoundland and Labrador": "NL", "Nova Scotia": "NS",
    "Ontario": "ON", "Prince Edward Island": "PE", "Quebec": "QC", "Saskatchewan": "SK",
    "Northwest Territories": "NT", "Nunavut": "NU", "Yukon": "YT",
}
# libphonenumber gives territories their own region codes; they are US (TCPA applies) and the
# USPS code is the state code.
US_TERRITORIES = {"PR": "PR", "VI": "VI", "GU": "GU", "MP": "MP", "AS": "AS"}
GEOGRAPHIC = {PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE,
              PhoneNumberType.FIXED_LINE_OR_MOBILE}


def sample_number(npa):
    """A valid geographic number in the area code, or None (unassigned or non-geographic)."""
    for nxx in range(200, 1000):
        n = phonenumbers.parse(f"+1{npa}{nxx}4567")
        if phonenumbers.is_valid_number(n) and phonenumbers.number_type(n) in GEOGRAPHIC:
            return n
    return None


def code_of(description, names):
    """The state or province code a description names ("Texas", "Austin, TX",
    "Nova Scotia/Prince Edward Island" gives "NS/PE"), or None."""
    if ", " in description:
        return description.rsplit(", ", 1)[1]
    if description in names:
        return names[description]
    parts = description.split("/")
    if all(part in names for part in parts):
        return "/".join(sorted(names[part] for part in parts))
    return None


def region_of(npa, geo, under, names):
    """The area code's own entry ("1305": "Florida") when there is one, else the code most of
    its longer prefixes name. A few prefixes name a neighbouring state (1201631 "New York, NY"
    under New Jersey's 201): they are reported and outvoted."""
    own = geo.get("1" + npa, {}).get("en")
    if own is not None and code_of(own, names):
        return code_of(own, names)
    votes = {}
    for k in under:
        code = code_of(geo.get(k, {}).get("en", ""), names)
        if code:
            votes[code] = votes.get(code, 0) + 1
    if not votes:
        return ""
    best = max(votes, key=votes.get)
    if votes[best] < 0.9 * sum(votes.values()):
        sys.exit(f"area code {npa}: no clear state or province {votes}; check the geocoder data")
    strays = {c: v for c, v in votes.items() if c != best}
    if strays:
        print(f"area code {npa}: {best}, outvoting {strays}", file=sys.stderr)
    return best


def main():
    geo = geodata.GEOCODE_DATA
    tz = tzdata.TIMEZONE_DATA
    prefixes = {k for k in set(geo) | set(tz) if k.startswith("1") and len(k) >= 4}
    rows = []
    for npa in range(200, 1000):
        npa = str(npa)
        under = sorted(k for k in prefixes if k[1:4] == npa)
        if not under:
            continue
        n = sample_number(npa)
        if n is None:
            continue
        region = phonenumbers.region_code_for_number(n)
        if region == "US":
            country, names = "US", US_STATES
        elif region in US_TERRITORIES:
            country, names = "US", {}
        elif region == "CA":
            country, names = "CA", CA_PROVINCES
        else:
            print(f"skipped {npa}: {region} (not US or Canada)", file=sys.stderr)
            continue
        zones = set()
        for k in under:
            zones.update(tz.get(k, ()))
        if not zones:
            found = timezone.time_zones_for_number(n)
            if len(found) <= 3 and "Etc/Unknown" not in found:
                zones.update(found)
        if not zones:
            sys.exit(f"no time zone for area code {npa} ({region}); check the phonenumbers data")
        if region in US_TERRITORIES:
            code = US_TERRITORIES[region]
        else:
            code = region_of(npa, geo, under, names)
        if country == "US" and (len(code) != 2 or code not in set(US_STATES.values())
                                and code not in US_TERRITORIES):
            sys.exit(f"area code {npa}: no single US state ({code!r}); check the geocoder data")
        rows.append((npa, country, code, " ".join(sorted(zones))))

    today = datetime.date.today().isoformat()
    print("# NANP area codes of the US (with territories) and Canada: state or province, and the")
    print("# IANA time zones a number with that area code may be in (several: it may be in any).")
    print(f"# Generated by scripts/us-area-codes.py on {today} from the Python package")
    print(f"# phonenumbers {phonenumbers.__version__} (Apache-2.0; data from Google's libphonenumber,")
    print("# https://github.com/google/libphonenumber). Do not edit by hand: re-run the script.")
    print("area_code,country,region,zones")
    for row in rows:
        print(",".join(row))


if __name__ == "__main__":
    main()
