"""The data files: catalogs with effective dates and sources; the bundled payer policies."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import get_args

import pytest

import hitclaims.core
from hitclaims.core.errors import UnusableInputError
from hitclaims.core.policy import catalog_problems
from hitclaims.core.vocabulary import ModifierUse, NursingUse
from hitclaims.inputs.catalog_files import load_catalog
from hitclaims.inputs.loading import bundled_policy_folders, load_policies

CATALOG = load_catalog()
BOOK = load_policies(bundled_policy_folders(), CATALOG)


def test_the_pain_per_diem_family_is_in_the_catalog_with_other_home_infusion_per_diems() -> None:
    kinds = {code: entry.kind for code, entry in CATALOG.per_diem.items()}
    assert kinds["S9325"] == "nonspecific"
    assert kinds["S9326"] == "continuous"
    assert kinds["S9327"] == "intermittent"
    assert kinds["S9328"] == "implanted"
    assert "S9500" in kinds
    assert set(CATALOG.per_diem["S9325"].excludes) == {"S9326", "S9327", "S9328"}


def test_every_catalog_entry_has_an_effective_date_and_a_source() -> None:
    for code in CATALOG.per_diem.values():
        assert code.source.strip()
        assert code.effective.from_ <= date(2025, 1, 1)
    for drug in CATALOG.drugs.values():
        assert drug.source.strip()
        assert drug.effective.from_ <= date(2025, 1, 1)
    for modifier in CATALOG.modifiers.values():
        assert modifier.source.strip()
        assert modifier.effective.from_ <= date(2025, 1, 1)
    for dx in CATALOG.diagnoses.values():
        assert dx.source.strip()
        assert dx.valid.from_ <= date(2021, 10, 1)
    for rule in CATALOG.rules.values():
        assert rule.source
        assert rule.summary


def test_the_drug_catalog_matches_domain_section_5() -> None:
    table = {
        k: (d.hcpcs, str(d.unit_size) if d.unit_size else None, d.unit) for k, d in CATALOG.drugs.items()
    }
    assert table["morphine"] == ("J2270", "10", "mg")
    assert table["morphine_pf"] == ("J2274", "10", "mg")
    assert table["hydromorphone"] == ("J1170", "4", "mg")
    assert table["fentanyl"] == ("J3010", "0.1", "mg")
    assert table["meperidine"] == ("J2175", "100", "mg")
    assert table["methadone"] == ("J1230", "10", "mg")
    assert table["ziconotide"] == ("J2278", "1", "mcg")
    assert table["ropivacaine"] == ("J2795", "1", "mg")
    assert table["clonidine"] == ("J0735", "1", "mg")
    assert table["bupivacaine"] == ("J0665", "0.5", "mg")
    assert table["ketamine"] == ("J3490", None, "mg")


def test_the_modifiers_are_in_the_catalog() -> None:
    assert {"SH", "SJ", "SD", "SS", "JW", "JZ", "59"} <= set(CATALOG.modifiers)


def test_the_icd10_pain_codes_carry_validity_dates() -> None:
    assert CATALOG.diagnoses["M54.5"].valid.to == date(2021, 9, 30)
    assert CATALOG.diagnoses["M54.50"].valid.from_ == date(2021, 10, 1)
    assert not CATALOG.diagnoses["G89"].billable
    assert CATALOG.diagnoses["G89.3"].requires_neoplasm
    assert CATALOG.is_neoplasm("C79.51")
    assert not CATALOG.is_neoplasm("G89.3")


@pytest.mark.parametrize(
    ("payer", "setting", "value"),
    [
        ("nhia-commercial-access", "billable_day", "access"),
        ("nhia-commercial-access", "line_format", "span"),
        ("blue-nd-infusion-monthly", "billable_day", "infusion"),
        ("blue-nd-infusion-monthly", "line_format", "calendar_month"),
        ("blue-nc-elapsed-24h", "billable_day", "elapsed_24h"),
        ("state-medicaid-daily", "payer_kind", "medicaid"),
        ("state-medicaid-daily", "line_format", "daily"),
        ("state-medicaid-daily", "prior_authorization_required", True),
        ("medicare-ffs", "payer_kind", "medicare"),
    ],
)
def test_the_bundled_policies_model_the_payers_of_the_research(
    payer: str, setting: str, value: object
) -> None:
    assert getattr(BOOK.for_payer(payer, date(2025, 3, 1)), setting) == value


def test_every_bundled_policy_names_its_source_or_is_an_example() -> None:
    for payer, versions in BOOK.policies.items():
        for _, pol in versions:
            assert pol.source or payer.startswith("example-"), payer


def test_medicare_ffs_never_takes_s_codes() -> None:
    assert not BOOK.for_payer("medicare-ffs", date(2025, 3, 1)).takes_s_codes


def test_a_policy_is_chosen_by_its_effective_dates() -> None:
    with pytest.raises(UnusableInputError, match="in force on 2023-06-01"):
        BOOK.for_payer("nhia-commercial-access", date(2023, 6, 1))


# --- the catalog drives the engine ------------------------------------------------------------

CORE = Path(hitclaims.core.__file__).resolve().parent
_CODE_LITERAL = re.compile(r"S93\d\d")


def _modifier_literal(codes: set[str]) -> re.Pattern[str]:
    return re.compile("[\"'](" + "|".join(sorted(codes)) + ")[\"']")


def test_no_per_diem_code_nursing_code_or_modifier_literal_remains_in_the_engine() -> None:
    # Medicare's KX, GA and GZ are named in the rule table's refusal sentence, not in code.
    modifier = _modifier_literal(set(CATALOG.modifiers) | set(CATALOG.nursing) | {"KX", "GA", "GZ"})
    found = [
        f"{path.name}:{n}: {line.strip()}"
        for path in sorted(CORE.glob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), start=1)
        if _CODE_LITERAL.search(line) or modifier.search(line)
    ]
    assert found == []


def test_the_engine_reads_no_file_clock_or_environment() -> None:
    forbidden = re.compile(
        r"date\.today|datetime\.now|datetime\.utcnow|time\.time|os\.environ|getenv|open\(|read_text"
    )
    found = [
        f"{path.name}:{n}: {line.strip()}"
        for path in sorted(CORE.glob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), start=1)
        if forbidden.search(line)
    ]
    assert found == []


def test_every_modifier_use_names_one_modifier_of_the_catalog() -> None:
    uses = get_args(ModifierUse)
    assert sorted(CATALOG.modifier(use) for use in uses) == sorted(CATALOG.modifiers)


def test_every_nursing_use_names_one_nursing_code_of_the_catalog() -> None:
    uses = get_args(NursingUse)
    assert sorted(CATALOG.nursing_code(use) for use in uses) == sorted(CATALOG.nursing) == ["99601", "99602"]


def test_every_drug_without_a_specific_code_names_its_medicare_code() -> None:
    for drug in CATALOG.drugs.values():
        assert (drug.medicare_hcpcs is not None) == drug.unclassified, drug.key


def test_a_policy_may_only_name_a_per_diem_modifier_of_the_catalog() -> None:
    for payer, versions in BOOK.policies.items():
        for _, pol in versions:
            assert catalog_problems(pol, CATALOG) == [], payer
    pol = BOOK.for_payer("blue-nc-elapsed-24h", date(2025, 3, 1))
    for wrong in ("JW", "XX"):
        (problem,) = catalog_problems(pol.model_copy(update={"concurrent_extra_modifier": wrong}), CATALOG)
        assert problem.field == "concurrent_extra_modifier"
