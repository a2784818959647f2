"""The made-up world a synthetic population is drawn from: names, cities by time zone, drugs with
their NDCs and concentrations, the drug mixes each route uses, diagnoses, concurrent therapies.

Every name and address here is invented; NDCs are shaped like real labeler-product-package codes
in each of the hyphenated 10-digit forms (4-4-2, 5-3-2, 5-4-1) and the 11-digit 5-4-2 form.
"""

from __future__ import annotations

from typing import Final, NamedTuple


class Drug(NamedTuple):
    ndc: str
    per_ml: float  # amount per mL of the dispensed product
    amount_unit: str  # mg or mcg
    volumes_ml: tuple[float, ...]  # bag, cassette or syringe sizes dispensed
    single_dose: bool
    dose: str  # as the order states it


DRUGS: Final[dict[str, Drug]] = {
    "morphine": Drug("0409-1890-01", 1, "mg", (100, 250), False, "2 mg/h"),
    "morphine_pf": Drug("0641-6125-10", 25, "mg", (20,), False, "1 mg/day"),
    "hydromorphone": Drug("0409-2634-01", 1, "mg", (50, 100), False, "0.4 mg/h"),
    "fentanyl": Drug("0641-6030-01", 10, "mcg", (100, 250), False, "50 mcg/h"),
    "meperidine": Drug("00409-1181-30", 10, "mg", (100,), False, "15 mg/h"),
    "methadone": Drug("00054-4571-03", 10, "mg", (20,), False, "2 mg/h"),
    "ziconotide": Drug("43068-112-01", 25, "mcg", (20,), True, "2.4 mcg/day"),
    "ropivacaine": Drug("63323-0286-2", 2, "mg", (100, 200), False, "10 mg/h"),
    "clonidine": Drug("0517-0730-01", 100, "mcg", (10,), True, "20 mcg/h"),
    "bupivacaine": Drug("0409-1159-02", 2.5, "mg", (100,), False, "5 mg/h"),
    "lidocaine": Drug("63323-0495-27", 4, "mg", (250,), False, "1 mg/kg/h"),
    "ketamine": Drug("42023-0113-10", 50, "mg", (10,), False, "0.1 mg/kg/h"),
}

# The drug mixes each route uses (one cassette may hold several drugs: one line per ingredient).
MIXES: Final[dict[str, tuple[tuple[str, ...], ...]]] = {
    "IV": (("morphine",), ("hydromorphone",), ("fentanyl",), ("ketamine",), ("lidocaine",),
           ("meperidine",), ("methadone",)),
    "SC": (("morphine",), ("hydromorphone",)),
    "epidural": (("hydromorphone", "bupivacaine"), ("fentanyl", "bupivacaine"), ("ropivacaine",),
                 ("hydromorphone", "bupivacaine", "clonidine")),
    "intrathecal": (("morphine_pf",), ("ziconotide",), ("morphine_pf", "bupivacaine"),
                    ("morphine_pf", "clonidine")),
}  # fmt: skip

CANCERS: Final = ["C34.90", "C50.911", "C61", "C25.9", "C79.51", "C18.9", "C71.9", "C90.00"]

# Other per-diem therapies that may run beside the pain therapy, with their contracted rates.
CONCURRENT_CODES: Final = [("S9500", "95.00"), ("S9501", "90.00"), ("S9373", "70.00"), ("S9490", "85.00")]

FIRST_NAMES: Final = [
    "Ava", "Ben", "Carla", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jamal", "Kara", "Luis",
    "Mina", "Noah", "Olga", "Pavel", "Quinn", "Rosa", "Sam", "Tara", "Uma", "Victor", "Wen", "Yara",
]  # fmt: skip
LAST_NAMES: Final = [
    "Abbott", "Baker", "Castillo", "Dube", "Ellis", "Fischer", "Garcia", "Holm", "Iqbal", "Jensen",
    "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Quist", "Reyes", "Silva",
    "Tanaka", "Ueda", "Vance", "Weber", "Young",
]  # fmt: skip
STREETS: Final = ["Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Pine Rd", "Lake View Ct", "Hill St"]

# (city, state, ZIP) by time zone: made-up street addresses in real places.
CITIES: Final[dict[str, list[tuple[str, str, str]]]] = {
    "America/New_York": [("Albany", "NY", "12207"), ("Atlanta", "GA", "30303"),
                         ("Boston", "MA", "02108"), ("Miami", "FL", "33130"),
                         ("Charlotte", "NC", "28202"), ("Pittsburgh", "PA", "15222")],
    "America/Detroit": [("Detroit", "MI", "48226"), ("Lansing", "MI", "48933")],
    "America/Chicago": [("Chicago", "IL", "60602"), ("Houston", "TX", "77002"), ("Fargo", "ND", "58102"),
                        ("Omaha", "NE", "68102"), ("Memphis", "TN", "38103")],
    "America/Denver": [("Denver", "CO", "80202"), ("Boise", "ID", "83702"), ("Albuquerque", "NM", "87102")],
    "America/Phoenix": [("Phoenix", "AZ", "85004"), ("Tucson", "AZ", "85701")],
    "America/Los_Angeles": [("Los Angeles", "CA", "90012"), ("Seattle", "WA", "98104"),
                            ("Portland", "OR", "97204"), ("Las Vegas", "NV", "89101")],
    "America/Anchorage": [("Anchorage", "AK", "99501")],
    "Pacific/Honolulu": [("Honolulu", "HI", "96813")],
}  # fmt: skip

NOTE_TEXTS: Final = [
    "Pump running, site clean, pain 3/10; patient tolerating infusion.",
    "Infusion continues as ordered; no sedation; pain 4/10 at rest.",
    "Telephone follow-up: pump alarms none, pain controlled, bowel regimen reviewed.",
    "Site without redness; dressing intact; pain 2/10; patient and caregiver confident with pump.",
]


def npi_with_check_digit(base: int) -> str:
    """A 10-digit NPI from 9 digits: the Luhn check digit over the prefix 80840 and the base."""
    digits = [int(c) for c in f"80840{base:09d}"]
    total = 0
    for position, digit in enumerate(reversed(digits)):
        if position % 2 == 0:  # from the right, every other digit starting with the last is doubled
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return f"{base:09d}{(10 - total % 10) % 10}"
