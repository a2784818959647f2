"""FHIR R4 out: a Bundle of Claims that parses with the R4B models and uses the standard systems."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.claim import Claim as FhirClaim

from hitclaims.formats.fhir.claim_bundle import claims_bundle, render_fhir
from hitclaims.formats.fhir.systems import CPT, HCPCS, ICD10CM, NDC, NPI, POS

from .builders import BASE, bill, dispense, episode, policy


def _resources(text: str, kind: str) -> list[dict[str, Any]]:
    data = json.loads(text, parse_float=Decimal)
    return [e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == kind]


def _claim_with_everything() -> Any:
    dispenses = [dispense("morphine", "250")]
    visits = [
        {
            "date": "2025-03-17",
            "start": "2025-03-17T13:00:00-05:00",
            "end": "2025-03-17T15:45:00-05:00",
            "credential": "RN",
            "note": "Site care.",
        },
    ]
    auth = {"number": "PA-1", "start": "2025-03-01", "end": "2025-03-31", "units": 31, "codes": ["S9326"]}
    concurrent = [{"code": "S9500", "start": "2025-03-05", "end": "2025-03-12", "rate": "220.00"}]
    ep = episode(
        dispenses=dispenses,
        nursing_visits=visits,
        concurrent_therapies=concurrent,
        coverage=dict(BASE["coverage"], prior_authorization=auth, group_number="G-1"),
    )
    return bill(ep, policy(prior_authorization_required=True))


def test_the_bundle_parses_with_the_r4b_models() -> None:
    text = render_fhir([_claim_with_everything()])
    bundle = Bundle.model_validate_json(text)
    kinds = sorted({e.resource.__class__.__name__ for e in bundle.entry or []})
    assert kinds == ["Claim", "Coverage", "Organization", "Patient", "Practitioner"]


def test_claim_items_use_the_standard_code_systems() -> None:
    (claim,) = _resources(render_fhir([_claim_with_everything()]), "Claim")
    FhirClaim.model_validate(claim)
    systems = {c["system"] for item in claim["item"] for c in item["productOrService"]["coding"]}
    assert systems == {HCPCS, CPT}
    assert {item["locationCodeableConcept"]["coding"][0]["system"] for item in claim["item"]} == {POS}
    assert claim["diagnosis"][0]["diagnosisCodeableConcept"]["coding"][0] == {
        "system": ICD10CM,
        "code": "G89.3",
    }
    drug = next(i for i in claim["item"] if i["productOrService"]["coding"][0]["code"] == "J2270")
    assert drug["detail"][0]["productOrService"]["coding"][0] == {"system": NDC, "code": "00409123401"}
    assert drug["detail"][0]["quantity"]["code"] == "mL"
    sh = next(i for i in claim["item"] if i.get("modifier"))
    assert sh["modifier"][0]["coding"][0] == {"system": HCPCS, "code": "SH"}
    (practitioner,) = _resources(render_fhir([_claim_with_everything()]), "Practitioner")
    assert practitioner["identifier"][0] == {"system": NPI, "value": "1234567893"}


def test_quantities_periods_and_prices_equal_the_claims() -> None:
    source = _claim_with_everything()
    (claim,) = _resources(render_fhir([source]), "Claim")
    for item, line in zip(claim["item"], source.lines, strict=True):
        assert item["sequence"] == line.line_number
        assert item["quantity"]["value"] == line.units
        assert item["unitPrice"]["value"] == line.unit_charge
        assert item["net"]["value"] == line.charge
        if line.from_ == line.to:
            assert item["servicedDate"] == line.from_.isoformat()
        else:
            assert item["servicedPeriod"] == {"start": line.from_.isoformat(), "end": line.to.isoformat()}
    assert claim["total"]["value"] == source.total_charge
    assert claim["insurance"][0]["preAuthRef"] == ["PA-1"]


def test_per_diem_quantities_are_days_in_ucum() -> None:
    (claim,) = _resources(render_fhir([bill()]), "Claim")
    assert claim["item"][0]["quantity"] == {
        "value": 29,
        "unit": "day",
        "system": "http://unitsofmeasure.org",
        "code": "d",
    }


def test_money_keeps_its_cents_in_the_json_text() -> None:
    source = _claim_with_everything()
    text = render_fhir([source])
    assert f'"value": {source.total_charge}' in text
    assert str(source.total_charge).endswith(".00")
    assert '"value": 9.00' in text  # J2270's unit price
    assert "dec:" not in text


def test_a_held_claim_is_a_draft_and_says_why_in_its_tag() -> None:
    (claim,) = _resources(render_fhir([bill(episode(supplies=[]))]), "Claim")
    assert claim["status"] == "draft"
    assert claim["meta"]["tag"][0]["code"] == "held"


def test_shared_resources_appear_once_and_rendering_is_deterministic() -> None:
    claims = [bill(), bill(pol=policy(line_format="daily"))]
    text = render_fhir(claims)
    assert len(_resources(text, "Patient")) == 1
    assert text == render_fhir(claims)
    assert claims_bundle(claims)["type"] == "collection"
