"""Test data builders: a small, complete, billable episode that each test bends to its rule."""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hitclaims.core.claim import Claim
from hitclaims.core.days import Period
from hitclaims.core.engine import History, bill_episode
from hitclaims.core.policy import PayerPolicy
from hitclaims.core.provider import Provider
from hitclaims.core.records import Episode
from hitclaims.inputs.catalog_files import load_catalog
from hitclaims.inputs.loading import bundled_provider_file, load_provider

CATALOG = load_catalog()
PROVIDER = load_provider(bundled_provider_file())
MARCH = Period(date(2025, 3, 1), date(2025, 3, 31))
AS_OF = date(2025, 4, 2)


def days(first: str, last: str) -> list[str]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]


def notes(first: str, last: str) -> list[dict[str, Any]]:
    return [{"date": d, "author": "RPh Lee", "text": "Pump running; pain 3/10."} for d in days(first, last)]


BASE: dict[str, Any] = {
    "episode_id": "EP-T1",
    "patient": {
        "id": "P-T1",
        "first_name": "Test",
        "last_name": "Patient",
        "birth_date": "1950-01-02",
        "sex": "F",
        "timezone": "America/Chicago",
        "address": {"line1": "1 Test St", "city": "Fargo", "state": "ND", "zip": "58102"},
    },
    "coverage": {"payer_id": "test-payer", "member_id": "M123", "relationship": "self"},
    "prescriber": {"npi": "1234567893", "first_name": "Jane", "last_name": "Smith"},
    "diagnoses": ["G89.3", "C79.51"],
    "medical_history": "Metastatic cancer with bone pain.",
    "home_infusion_reason": "Pain control at home.",
    "medical_necessity": {
        "continuous_infusion_indicated": True,
        "alternatives_tried": ["oral morphine"],
        "alternatives_outcome": "unsuccessful",
    },
    "therapy": {"category": "pain_management", "device": "external_pump", "route": "IV"},
    "orders": [
        {
            "id": "O-1",
            "signed_at": "2025-03-02T16:00:00-06:00",
            "start": "2025-03-03",
            "end": None,
            "drug": "morphine",
            "dose": "2 mg/h",
            "rate": "2 mL/h",
            "mode": "continuous",
        }
    ],
    "adjustments": [],
    "pump_events": [{"at": "2025-03-03T10:00:00-06:00", "type": "start", "rate": "2 mL/h"}],
    "holds": [],
    "discontinued_at": None,
    "progress_notes": notes("2025-03-01", "2025-03-31"),
    "supplies": [{"date": "2025-03-03", "description": "CADD cassettes", "hcpcs": None, "quantity": 4}],
    "dispenses": [],
    "nursing_visits": [],
    "concurrent_therapies": [],
}


def dispense(drug: str, amount: str, **more: Any) -> dict[str, Any]:
    """A dispense of `amount` mg (or `amount_unit`) of a catalog drug, 250 mL, on 2025-03-03."""
    data: dict[str, Any] = {
        "date": "2025-03-03",
        "drug": drug,
        "ndc": "0409-1234-01",
        "quantity": "250",
        "unit": "ML",
        "amount": amount,
        "amount_unit": "mg",
        "administered_amount": None,
    }
    data.update(more)
    return data


def episode_dict(**changes: Any) -> dict[str, Any]:
    """The base episode with top-level fields replaced."""
    data = copy.deepcopy(BASE)
    data.update(copy.deepcopy(changes))
    return data


def episode(**changes: Any) -> Episode:
    return Episode.model_validate_json(json.dumps(episode_dict(**changes)))


def policy(**settings: Any) -> PayerPolicy:
    base: dict[str, Any] = {
        "id": "test-payer",
        "name": "Test Payer",
        "payer_kind": "commercial",
        "x12_payer_id": "12345",
        "claim_filing_indicator": "CI",
        "fee_schedule": {"S9326": "175.00", "S9327": "140.00", "S9328": "160.00", "99601": "150.00"},
    }
    base.update(settings)
    return PayerPolicy.model_validate(base)


def bill(
    ep: Episode | None = None,
    pol: PayerPolicy | None = None,
    period: Period = MARCH,
    as_of: date = AS_OF,
    history: History | None = None,
    provider: Provider = PROVIDER,
) -> Claim:
    claims = bill_episode(ep or episode(), pol or policy(), CATALOG, provider, period, as_of, history)
    assert len(claims) == 1, f"expected one claim, got {len(claims)}"
    return claims[0]


def billed_dates(claim: Claim) -> list[str]:
    return [row.date.isoformat() for row in claim.ledger if row.status == "billed"]


def ledger_row(claim: Claim, day: str) -> Any:
    return next(row for row in claim.ledger if row.date.isoformat() == day)


def rules(claim: Claim, severity: str | None = None) -> list[str]:
    return sorted(f.rule for f in claim.findings if severity is None or f.severity == severity)


def per_diem(claim: Claim) -> list[tuple[str, list[str], str, str, int]]:
    return [
        (ln.code, ln.modifiers, ln.from_.isoformat(), ln.to.isoformat(), ln.units)
        for ln in claim.lines
        if ln.kind == "per_diem"
    ]


def lines_of(claim: Claim, kind: str) -> list[Any]:
    return [ln for ln in claim.lines if ln.kind == kind]


def dec(text: str) -> Decimal:
    return Decimal(text)
