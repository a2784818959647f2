"""What a claim puts in each box of the CMS-1500: the NUCC rules, as values for the form's fields.

It reads the neutral `Claim` and never recomputes billing; drawing is `render`'s job.

What the NUCC 1500 Claim Form Reference Instruction Manual (form version 02/12) asks, and where:
  * item 1: one X for the type of coverage; "Other" covers HMOs, commercial insurance and
    workers' compensation, "Group Health Plan" an employer group plan (group number present).
  * items 2, 4, 17: names as LAST, FIRST for patient and insured; item 17 FIRST LAST with the
    qualifier left of the dotted line: DK, ordering provider (our prescriber); 17b the NPI.
  * items 3 and 11a: birth dates as MM DD YYYY; item 24A service dates as MM DD YY.
  * addresses and names without punctuation; a 9-digit ZIP code with its hyphen; the phone
    number without separators, the area code inside the printed parentheses.
  * item 21: ICD indicator 0 (ICD-10) between the dotted lines, codes A-L left justified and
    without the decimal point, which is implied.
  * item 22: frequency code 7 or 8 and the original reference number, for resubmissions only.
  * item 23: the prior authorization number.
  * item 24: six service lines a form. 24A from and to date, 24B place of service, 24D the code
    and up to four modifiers, 24E diagnosis pointers as letters A-L, left justified, no commas,
    24F charge with the cents in the cents area (no dollar sign, commas or decimal point),
    24G units left justified. 24I/24J stay blank: the rendering provider is the billing
    provider (items 33a/33b).
  * the shaded upper half of each item-24 line is for supplemental information about that line
    only. Begin at 24A with the qualifier and no space before the data; between two items put
    three blank spaces. An NDC is N4 followed by the 11-digit NDC (no hyphens), then the unit
    qualifier (F2, GR, ME, ML, UN) and the quantity: "N400409123401   ML250". Medicare's reading
    of the same rule puts the NDC in positions 1-13 and the unit and quantity from position 17,
    which is exactly those three blanks. The narrative of an unlisted code (J3490) is qualifier
    ZZ and the description.
  * item 25: the tax id without hyphens and an X in EIN; item 26 the patient account number,
    here the claim id (it carries the part of a split claim, as the 837's CLM01 does).
  * item 28: the total of the charges in 24F, written like 24F (right justified, no commas, no
    dollar sign, 00 cents for whole dollars). The NUCC text describes one form; for a claim that
    needs several forms we follow the payer manuals that spell it out (HMSA "Multi-page Claims",
    TMHP "Multipage Claim Forms"): only the service lines and item 28 differ between the pages,
    each page says "Page n of N" in its top right corner, the pages before the last say CONTINUED
    in item 28 and the last page carries the total charge of the whole claim.
  * item 33: name, address and phone of the billing provider; 33a its NPI; 33b qualifier ZZ and
    the taxonomy code, no space or hyphen between them.
Items the claim holds no data for (signatures, accident questions, other insurance, assignment,
amount paid, service facility for services at home) are left blank rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from hitclaims.core.claim import Claim, ClaimLine
from hitclaims.core.records import Address, Person
from hitclaims.formats.cms1500.form import (
    CHOICES,
    DIAGNOSIS_FIELDS,
    FIELDS,
    FIRST_LINE_ROW,
    LINE_FIELDS,
    LINES_PER_PAGE,
    MAX_DIAGNOSES,
    MAX_MODIFIERS,
    MAX_POINTERS,
    Field,
)

# Item 1 by the payer's kind; a commercial plan is a group health plan when it has a group number.
INSURANCE_TYPE: Final[dict[str, str]] = {
    "medicare": "medicare",
    "medicaid": "medicaid",
    "tricare": "tricare",
    "medicare_advantage": "other",
    "workers_comp": "other",
    "commercial": "other",
}
ORDERING_PROVIDER: Final = "DK"
TAXONOMY_QUALIFIER: Final = "ZZ"
NDC_QUALIFIER: Final = "N4"
NARRATIVE_QUALIFIER: Final = "ZZ"
SUPPLEMENTAL_GAP: Final = "   "  # three blank spaces between two supplemental items
ICD10_INDICATOR: Final = "0"
CONTINUED: Final = "CONTINUED"


Put = tuple[Field, str]


def _plain(text: str) -> str:
    """Upper case without the punctuation the NUCC manual keeps out of names and addresses."""
    return re.sub(r"\s+", " ", re.sub(r"[.,#]", " ", text)).strip().upper()


def _last_first(person: Person) -> str:
    return f"{_plain(person.last_name)}, {_plain(person.first_name)}"


def _mm_dd_yy(day: date) -> str:
    return f"{day.month:02d} {day.day:02d} {day.year % 100:02d}"


def _mm_dd_yyyy(day: date) -> str:
    return f"{day.month:02d} {day.day:02d} {day.year:04d}"


def _zip(code: str) -> str:
    return f"{code[:5]}-{code[5:]}" if len(code) == 9 else code


def _money(amount: Decimal) -> str:
    """Dollars, a blank where the form's dotted line divides them from the cents, and the cents."""
    cents = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    dollars, _, fraction = f"{cents:f}".partition(".")
    return f"{dollars} {fraction}"


def _quantity(amount: Decimal) -> str:
    """250, 2.5, 83.33: no exponent and no trailing zeros."""
    return f"{amount.normalize():f}"


def _street(address: Address) -> str:
    return _plain(" ".join(filter(None, [address.line1, address.line2])))


def _address_puts(prefix: str, address: Address) -> list[Put]:
    return [
        (FIELDS[f"{prefix}_street"], _street(address)),
        (FIELDS[f"{prefix}_city"], _plain(address.city)),
        (FIELDS[f"{prefix}_state"], address.state),
        (FIELDS[f"{prefix}_zip"], _zip(address.zip)),
    ]


def _insured(claim: Claim) -> Person:
    subscriber = claim.coverage.subscriber
    return subscriber if claim.coverage.relationship != "self" and subscriber is not None else claim.patient


def _insurance_type(claim: Claim) -> str:
    if claim.payer.payer_kind == "commercial" and claim.coverage.group_number:
        return "group"
    return INSURANCE_TYPE.get(claim.payer.payer_kind, "other")


def _prior_authorizations(lines: Iterable[ClaimLine]) -> str:
    # One item 23 for the whole claim: every distinct number, in line order.
    numbers = dict.fromkeys(line.authorization for line in lines if line.authorization)
    return " ".join(numbers)


def _check(item: str, answer: str) -> list[Put]:
    field = CHOICES[item].get(answer)
    return [(field, "X")] if field is not None else []


def _patient_puts(claim: Claim) -> list[Put]:
    patient, insured = claim.patient, _insured(claim)
    return [
        (FIELDS["payer_name"], _plain(claim.payer.name)),
        *_check("1_insurance_type", _insurance_type(claim)),
        (FIELDS["1a_insured_id"], claim.coverage.member_id),
        (FIELDS["2_patient_name"], _last_first(patient)),
        (FIELDS["3_birth_date"], _mm_dd_yyyy(patient.birth_date)),
        *_check("3_sex", patient.sex),
        (FIELDS["4_insured_name"], _last_first(insured)),
        *_address_puts("5", patient.address),
        *_check("6_relationship", claim.coverage.relationship),
        *_address_puts("7", insured.address),
        (FIELDS["11_group_number"], claim.coverage.group_number or ""),
        (FIELDS["11a_birth_date"], _mm_dd_yyyy(insured.birth_date)),
        *_check("11a_sex", insured.sex),
        (FIELDS["11c_plan_name"], _plain(claim.payer.name)),
    ]


def _diagnosis_puts(claim: Claim) -> list[Put]:
    codes = [code.replace(".", "") for code in claim.diagnoses[:MAX_DIAGNOSES]]
    return [
        (FIELDS["21_icd_indicator"], ICD10_INDICATOR),
        *zip(DIAGNOSIS_FIELDS, codes, strict=False),
    ]


def _provider_puts(claim: Claim) -> list[Put]:
    provider, prescriber = claim.provider, claim.prescriber
    puts: list[Put] = [
        (FIELDS["17_qualifier"], ORDERING_PROVIDER),
        (FIELDS["17_name"], f"{_plain(prescriber.first_name)} {_plain(prescriber.last_name)}"),
        (FIELDS["17b_npi"], prescriber.npi),
        (FIELDS["23_prior_auth"], _prior_authorizations(claim.lines)),
        (FIELDS["25_tax_id"], provider.tax_id),
        *_check("25_id_type", "EIN"),
        (FIELDS["26_account"], claim.claim_id),
        (FIELDS["33_area_code"], provider.contact.phone[:3]),
        (FIELDS["33_phone"], provider.contact.phone[3:]),
        (FIELDS["33_name"], _plain(provider.name)),
        (FIELDS["33_street"], _street(provider.address)),
        (
            FIELDS["33_city"],
            f"{_plain(provider.address.city)} {provider.address.state} {_zip(provider.address.zip)}",
        ),
        (FIELDS["33a_npi"], provider.npi),
        (FIELDS["33b_other_id"], TAXONOMY_QUALIFIER + provider.taxonomy),
    ]
    if claim.frequency_code != "1":  # a replacement (7) or void (8) names the claim it replaces
        puts += [
            (FIELDS["22_code"], claim.frequency_code),
            (FIELDS["22_original_ref"], claim.original_claim_id or ""),
        ]
    return puts


def claim_puts(claim: Claim) -> list[Put]:
    """Everything that is the same on every page of the claim."""
    return [*_patient_puts(claim), *_diagnosis_puts(claim), *_provider_puts(claim)]


def supplemental(line: ClaimLine) -> str:
    """The shaded half of a service line: NDC, unit and quantity, and an unlisted drug's name."""
    items: list[str] = []
    if line.ndc:
        items.append(NDC_QUALIFIER + line.ndc)
        if line.ndc_quantity is not None and line.ndc_unit:
            items.append(line.ndc_unit + _quantity(line.ndc_quantity))
    if line.description:  # the engine describes only lines with no specific code (J3490)
        items.append(NARRATIVE_QUALIFIER + _plain(line.description))
    return SUPPLEMENTAL_GAP.join(items)


def _line_puts(line: ClaimLine, index: int) -> list[Put]:
    """Service line `index` (0-5) of a page."""
    data_row = FIRST_LINE_ROW + 2 * index
    values = {
        "supplemental": supplemental(line),
        "from": _mm_dd_yy(line.from_),
        "to": _mm_dd_yy(line.to),
        "place_of_service": line.place_of_service,
        "code": line.code,
        **{f"modifier_{n}": m for n, m in enumerate(line.modifiers[:MAX_MODIFIERS], start=1)},
        "pointers": "".join("ABCDEFGHIJKL"[p - 1] for p in line.diagnosis_pointers[:MAX_POINTERS]),
        "charges": _money(line.charge),
        "units": str(line.units),
    }
    return [
        (replace(LINE_FIELDS[name], row=LINE_FIELDS[name].row + data_row), text)
        for name, text in values.items()
    ]


def page_puts(claim: Claim, lines: Sequence[ClaimLine], page: int, pages: int) -> list[Put]:
    """What differs between the pages of one claim: the lines, item 28 and the page number."""
    puts = [put for index, line in enumerate(lines) for put in _line_puts(line, index)]
    if page < pages:
        puts.append((FIELDS["28_continued"], CONTINUED))
    else:
        puts.append((FIELDS["28_total"], _money(claim.total_charge)))
    if pages > 1:
        puts.append((FIELDS["page"], f"PAGE {page} OF {pages}"))
    return puts


def page_lines(claim: Claim) -> list[Sequence[ClaimLine]]:
    """The claim's lines six to a form; a claim with no lines still gets its one form."""
    lines = claim.lines
    return [lines[i : i + LINES_PER_PAGE] for i in range(0, len(lines), LINES_PER_PAGE)] or [[]]
