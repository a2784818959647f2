"""The printed CMS-1500 (02/12): what each page carries, read back from the PDF's text."""

from __future__ import annotations

import io
import json
import logging
import math
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pypdf import PageObject, PdfReader

from hitclaims.core.claim import Claim, ClaimLine
from hitclaims.core.days import Period
from hitclaims.core.engine import bill_episode
from hitclaims.formats.cms1500.fill import supplemental
from hitclaims.formats.cms1500.form import (
    BASELINE,
    FIELDS,
    FIRST_LINE_ROW,
    LINE_FIELDS,
    Field,
    edge_x,
    row_bottom,
)
from hitclaims.formats.cms1500.render import place, render_pdf
from hitclaims.inputs.catalog_files import load_catalog
from hitclaims.inputs.loading import (
    bundled_policy_folders,
    bundled_provider_file,
    load_policies,
    load_provider,
)
from hitclaims.services.billing import Setup, bill_files

from .builders import BASE, CATALOG, MARCH, PROVIDER, bill, days, dispense, episode, lines_of, policy

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
def example_setup() -> Setup:
    catalog = load_catalog()
    return Setup(
        catalog, load_policies(bundled_policy_folders(), catalog), load_provider(bundled_provider_file())
    )


def example_claim(name: str, setup: Setup) -> Claim:
    expected = json.loads((EXAMPLES / f"{name}.expected.json").read_text())
    first, last = (date.fromisoformat(d) for d in expected["period"])
    outcome = bill_files(
        [EXAMPLES / f"{name}.json"], setup, Period(first, last), date.fromisoformat(expected["as_of"])
    )
    (claim,) = outcome.claims
    return claim


def pages_of(pdf: bytes) -> list[PageObject]:
    return list(PdfReader(io.BytesIO(pdf)).pages)


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in pages_of(pdf)]


def data_at(page: PageObject, field: Field) -> str:
    """The text drawn in one field's box on its data baseline, read back by position."""
    found: list[str] = []

    def visit(text: str, cm: list[float], tm: list[float], font: Any, size: Any) -> None:
        x, y = cm[4] + tm[4], cm[5] + tm[5]
        on_row = abs(y - (row_bottom(field.row) + BASELINE)) < 0.5
        if on_row and edge_x(field.col - 1) <= x < edge_x(field.col - 1 + field.width) and text.strip():
            found.append(text.strip())

    page.extract_text(visitor_text=visit)
    return " ".join(found)


def mdy(day: date) -> str:
    return day.strftime("%m %d %y")


def money(amount: Decimal) -> str:
    dollars, cents = f"{amount:.2f}".split(".")
    return f"{dollars} {cents}"


def line_text(line: ClaimLine) -> str:
    """How a service line reads back: 24A from and to, B, D code and modifiers, E, F, G."""
    pointers = "".join("ABCDEFGHIJKL"[p - 1] for p in line.diagnosis_pointers)
    return " ".join(
        [
            mdy(line.from_),
            mdy(line.to),
            line.place_of_service,
            line.code,
            *line.modifiers,
            pointers,
            money(line.charge),
            str(line.units),
        ]
    )


def visit(day: str) -> dict[str, Any]:
    offset = "-06:00" if day < "2025-03-09" else "-05:00"
    return {
        "date": day,
        "start": f"{day}T09:00:00{offset}",
        "end": f"{day}T10:00:00{offset}",
        "credential": "RN",
        "note": "Site check.",
    }


def suite_claim_with_modifiers() -> Claim:
    """Per-diem lines at the infusion suite (POS 49, SS) and a single-dose drug split JW/plain."""
    therapy = dict(BASE["therapy"], site="infusion_suite")
    drugs = [
        dispense("ziconotide", "100", amount_unit="mcg", administered_amount="60", single_dose=True),
        dispense("morphine", "250", date="2025-03-10"),
    ]
    return bill(episode(therapy=therapy, dispenses=drugs), policy(waste_modifiers=True))


def fourteen_line_claim() -> Claim:
    claim = bill(episode(nursing_visits=[visit(d) for d in days("2025-03-03", "2025-03-15")]))
    assert len(claim.lines) == 14
    return claim


# --- pages ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "lines", "pages"),
    [("ex1-morphine-cancer", 14, 3), ("ex2-fentanyl-postop", 7, 2), ("ex3-epidural-cocktail", 26, 5)],
)
def test_the_pdf_parses_with_pypdf_and_has_a_page_per_six_lines(
    name: str, lines: int, pages: int, example_setup: Setup
) -> None:
    claim = example_claim(name, example_setup)
    assert len(claim.lines) == lines
    reader = PdfReader(io.BytesIO(render_pdf([claim])))
    assert len(reader.pages) == pages == math.ceil(lines / 6)
    assert all(
        float(page.mediabox.width) == 612 and float(page.mediabox.height) == 792 for page in reader.pages
    )


def test_several_claims_go_into_one_pdf_each_on_its_own_pages(example_setup: Setup) -> None:
    claims = [example_claim(n, example_setup) for n in ("ex1-morphine-cancer", "ex2-fentanyl-postop")]
    texts = page_texts(render_pdf(claims))
    assert len(texts) == 3 + 2
    assert all(claims[0].claim_id in t for t in texts[:3])
    assert all(claims[1].claim_id in t for t in texts[3:])


def test_no_claims_give_a_valid_pdf_with_one_blank_form() -> None:
    (page,) = pages_of(render_pdf([]))
    assert data_at(page, FIELDS["26_account"]) == ""


def test_a_claim_with_no_lines_still_prints_one_form_with_its_total() -> None:
    claim = bill().model_copy(update={"lines": [], "total_charge": Decimal("0.00")})
    (page,) = pages_of(render_pdf([claim]))
    assert data_at(page, FIELDS["28_total"]) == "0 00"


# --- service lines --------------------------------------------------------------------------------


def test_each_page_carries_its_lines_code_modifiers_dates_pos_pointers_charge_and_units() -> None:
    claim = suite_claim_with_modifiers()
    assert {"SS", "JW"} <= {m for line in claim.lines for m in line.modifiers}
    (text,) = page_texts(render_pdf([claim]))
    for line in claim.lines:
        assert line_text(line) in text


def test_the_lines_are_spread_over_the_pages_in_order_six_to_a_page() -> None:
    claim = fourteen_line_claim()
    texts = page_texts(render_pdf([claim]))
    for page, text in enumerate(texts):
        for index, line in enumerate(claim.lines):
            assert (line_text(line) in text) == (index // 6 == page)


def test_dates_of_service_are_mm_dd_yy_and_birth_dates_mm_dd_yyyy() -> None:
    claim = bill(episode(nursing_visits=[visit("2025-03-04")]))
    (text,) = page_texts(render_pdf([claim]))
    assert "03 04 25 03 04 25 12 99601" in text
    assert "01 02 1950" in text  # the patient's birth date, item 3 (and 11a: the patient is the insured)


def test_diagnosis_pointers_are_letters_and_item_21_lists_the_codes_without_decimal_points() -> None:
    claim = bill(episode(diagnoses=["G89.3", "C79.51", "C34.90"]))
    assert claim.lines[0].diagnosis_pointers == [1, 2, 3]
    (page,) = pages_of(render_pdf([claim]))
    assert data_at(page, replace(LINE_FIELDS["pointers"], row=FIRST_LINE_ROW)) == "ABC"
    text = page.extract_text()
    assert "G893 C7951 C3490" in text
    assert "G89.3" not in text


def test_an_ndc_line_carries_n4_the_11_digit_ndc_three_blanks_and_unit_with_quantity() -> None:
    claim = bill(episode(dispenses=[dispense("morphine", "250", quantity="12.50")]))
    (line,) = lines_of(claim, "drug")
    assert supplemental(line) == "N400409123401   ML12.5"
    (text,) = page_texts(render_pdf([claim]))
    assert "N400409123401   ML12.5" in text


def test_every_ndc_line_of_an_example_shows_its_ndc_data_on_its_page(example_setup: Setup) -> None:
    claim = example_claim("ex3-epidural-cocktail", example_setup)
    texts = page_texts(render_pdf([claim]))
    for index, line in enumerate(claim.lines):
        page = texts[index // 6]
        if line.ndc:
            assert f"N4{line.ndc}   {line.ndc_unit}{line.ndc_quantity}" in page
        assert line_text(line) in page


def test_a_j3490_line_shows_the_drug_description_after_its_ndc_data() -> None:
    claim = bill(episode(dispenses=[dispense("ketamine", "500")]))
    (line,) = lines_of(claim, "drug")
    assert line.code == "J3490"
    (text,) = page_texts(render_pdf([claim]))
    assert "N400409123401   ML250   ZZKETAMINE HCL 500 MG" in text


def test_a_line_without_an_ndc_leaves_its_shaded_half_empty() -> None:
    (line,) = bill(episode(dispenses=[])).lines
    assert supplemental(line) == ""


# --- items 28 and 26 ------------------------------------------------------------------------------


def test_a_14_line_claim_gives_3_pages_continued_in_item_28_until_the_last_with_the_claim_total() -> None:
    claim = fourteen_line_claim()
    pages = pages_of(render_pdf([claim]))
    assert len(pages) == 3
    assert claim.total_charge == sum(line.charge for line in claim.lines)
    assert [data_at(page, FIELDS["28_total"]) for page in pages] == [
        "CONTINUED",
        "CONTINUED",
        money(claim.total_charge),
    ]
    assert [data_at(page, FIELDS["page"]) for page in pages] == ["PAGE 1 OF 3", "PAGE 2 OF 3", "PAGE 3 OF 3"]


def test_a_one_page_claim_has_its_total_in_item_28_and_no_page_number() -> None:
    claim = bill(episode(nursing_visits=[visit("2025-03-04")]))
    (page,) = pages_of(render_pdf([claim]))
    assert data_at(page, FIELDS["28_total"]) == money(claim.total_charge)
    assert data_at(page, FIELDS["page"]) == ""


def test_item_26_is_the_claim_id_with_its_part_when_the_claim_was_split() -> None:
    # 29 daily per-diem lines and 22 nursing visits: 51 lines, one more than an 837P claim may have.
    ep = episode(nursing_visits=[visit(d) for d in days("2025-03-03", "2025-03-24")])
    claims = bill_episode(ep, policy(line_format="daily"), CATALOG, PROVIDER, MARCH, date(2025, 4, 2))
    assert [c.part for c in claims] == [1, 2]
    pages = pages_of(render_pdf(claims))
    first_pages = math.ceil(len(claims[0].lines) / 6)
    assert len(pages) == first_pages + math.ceil(len(claims[1].lines) / 6)
    assert (claims[0].claim_id, claims[1].claim_id) == ("EP-T1-202503-1", "EP-T1-202503-2")
    accounts = [data_at(page, FIELDS["26_account"]) for page in pages]
    assert accounts == [claims[0].claim_id] * first_pages + [claims[1].claim_id] * (len(pages) - first_pages)


# --- the rest of the claim ------------------------------------------------------------------------


def test_patient_payer_prescriber_and_billing_provider_items_follow_the_nucc_qualifiers() -> None:
    claim = bill(episode(nursing_visits=[visit("2025-03-04")]))
    (text,) = page_texts(render_pdf([claim]))
    assert "PATIENT, TEST" in text  # item 2, LAST, FIRST
    assert "M123" in text  # 1a
    assert "DK JANE SMITH 1234567893" in text  # 17 ordering provider qualifier, 17b NPI
    assert f"ZZ{claim.provider.taxonomy}" in text  # 33b
    assert claim.provider.npi in text  # 33a
    assert claim.provider.tax_id in text  # 25


def test_item_23_carries_the_prior_authorization_number(example_setup: Setup) -> None:
    claim = example_claim("ex2-fentanyl-postop", example_setup)
    numbers = {line.authorization for line in claim.lines if line.authorization}
    assert numbers == {"PA-2002"}
    assert all("PA-2002" in text for text in page_texts(render_pdf([claim])))


# --- status mark ----------------------------------------------------------------------------------


def test_a_held_claim_carries_the_held_mark_on_every_page() -> None:
    claim = bill(episode(dispenses=[dispense("morphine", "250", ndc="0409123401")]))  # ndc.invalid
    assert claim.status == "held"
    texts = page_texts(render_pdf([claim.model_copy(update={"lines": claim.lines * 4})]))
    assert len(texts) > 1
    assert all("HELD — NOT FOR SUBMISSION" in text for text in texts)


def test_a_refused_claim_carries_the_refused_mark() -> None:
    claim = bill(pol=policy(payer_kind="medicare", claim_filing_indicator="MB"))
    assert claim.status == "refused"
    (text,) = page_texts(render_pdf([claim]))
    assert "REFUSED — NOT FOR SUBMISSION" in text


def test_a_ready_claim_carries_no_mark() -> None:
    claim = bill()
    assert claim.status == "ready"
    (text,) = page_texts(render_pdf([claim]))
    assert "NOT FOR SUBMISSION" not in text


# --- the document ---------------------------------------------------------------------------------


def test_rendering_the_same_claims_twice_gives_identical_bytes(example_setup: Setup) -> None:
    claims = [example_claim(n, example_setup) for n in ("ex1-morphine-cancer", "ex3-epidural-cocktail")]
    assert render_pdf(claims) == render_pdf(claims)


def test_a_hundred_pages_render_as_one_pdf_with_the_form_drawn_once() -> None:
    # How fast is bench/bench_cms1500.py's to say: a timed assertion fails on a busy machine.
    claims = [fourteen_line_claim()] * 34  # 3 pages each: 102 pages
    reader = PdfReader(io.BytesIO(render_pdf(claims)))
    assert len(reader.pages) == 102
    forms = {ref.idnum for page in reader.pages for ref in page["/Resources"]["/XObject"].values()}  # type: ignore[index]
    assert len(forms) == 1


def test_rendering_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        render_pdf([bill()])
    assert caplog.records == []


@pytest.mark.parametrize("field", [*FIELDS.values(), *LINE_FIELDS.values()])
def test_a_value_too_long_for_its_box_shrinks_or_is_cut_and_never_leaves_the_box(field: Field) -> None:
    left, right = edge_x(field.col - 1), edge_x(field.col - 1 + field.width)
    for text in ("X", "X" * field.width, "X" * (field.width + 7), "X" * 200):
        placed = place(field, text)
        ink = len(placed.text) * 0.6 * placed.size + (len(placed.text) - 1) * placed.spacing
        assert left <= placed.x
        assert placed.x + ink <= right
        assert text.startswith(placed.text)
        if len(text) <= field.width:
            assert (placed.text, placed.size) == (text, 10.0)  # on the pica grid, whole
