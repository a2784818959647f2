"""FHIR R4 out: a Bundle of Claim resources with the Patient, Coverage, payer and billing
Organizations and the prescribing Practitioner they reference.

Built and validated with `fhir.resources.R4B`, whose Claim matches R4 4.0.1 element for element
(STACK-NOTES §2). Neither library checks bindings, so the code systems (`systems`) are ours to
get right, and the tests assert them. Every value is the neutral claim's: no recomputation.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from hitclaims.core.claim import Claim, ClaimLine
from hitclaims.formats.fhir import people
from hitclaims.formats.fhir.systems import (
    CARE_TEAM_ROLE,
    CLAIM_ID,
    CLAIM_TYPE,
    COVERAGE_CLASS,
    CPT,
    HCPCS,
    ICD10CM,
    NDC,
    NDC_UNIT_UCUM,
    NPI,
    ORGANIZATION_TYPE,
    POS,
    PROCESS_PRIORITY,
    RELATIONSHIP,
    ROLE_CODE,
    STATUS_TAG,
    TIN,
    UCUM,
)

__all__ = ["claims_bundle", "render_fhir"]

_NAMESPACE = uuid.UUID("6f1d0c2e-7f43-5a7b-9d0c-3c3f4a1e2b10")
# The claim bundle states the country; the 837 it mirrors is for US addresses only.
_COUNTRY = "US"


def _url(*key: str) -> str:
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, '|'.join(key))}"


def _money(value: Decimal) -> dict[str, Any]:
    return {"value": value, "currency": "USD"}


def _code_system(code: str) -> str:
    # CPT codes (99601/99602) and the CPT modifier 59 are five digits; HCPCS Level II starts with a letter.
    return CPT if code.isdigit() else HCPCS


def _coding(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


class _Resources:
    """The bundle's shared resources, each once, keyed so that claims reference one another's."""

    def __init__(self) -> None:
        self.entries: dict[str, dict[str, Any]] = {}

    def add(self, key: tuple[str, ...], resource: dict[str, Any]) -> str:
        url = _url(*key)
        self.entries.setdefault(url, {"fullUrl": url, "resource": resource})
        return url


def _patient(claim: Claim, res: _Resources) -> str:
    return res.add(("Patient", claim.patient.id), people.patient(claim.patient, _COUNTRY))


def _payer(claim: Claim, res: _Resources) -> str:
    payer = people.payer(claim.payer.id, claim.payer.x12_payer_id, claim.payer.name)
    return res.add(("Organization", "payer", claim.payer.id), payer)


def _provider(claim: Claim, res: _Resources) -> str:
    prov = claim.provider
    resource = {
        "resourceType": "Organization",
        "identifier": [{"system": NPI, "value": prov.npi}, {"system": TIN, "value": prov.tax_id}],
        "type": [_coding(ORGANIZATION_TYPE, "prov")],
        "name": prov.name,
        "telecom": [{"system": "phone", "value": prov.contact.phone}],
        "address": [people.address(prov.address, _COUNTRY)],
    }
    return res.add(("Organization", "provider", prov.npi), resource)


def _prescriber(claim: Claim, res: _Resources) -> str:
    return res.add(("Practitioner", claim.prescriber.npi), people.practitioner(claim.prescriber))


def _coverage(claim: Claim, patient: str, payer: str, res: _Resources) -> str:
    cov = claim.coverage
    resource: dict[str, Any] = {
        "resourceType": "Coverage",
        "status": "active",
        "beneficiary": {"reference": patient},
        "subscriberId": cov.member_id,
        "relationship": _coding(RELATIONSHIP, cov.relationship),
        "payor": [{"reference": payer}],
    }
    if cov.group_number:
        resource["class"] = [{"type": _coding(COVERAGE_CLASS, "group"), "value": cov.group_number}]
    if cov.subscriber is not None:
        related = {
            "resourceType": "RelatedPerson",
            "patient": {"reference": patient},
            "relationship": [_coding(ROLE_CODE, _role(cov.relationship))],
            **people.person(cov.subscriber, _COUNTRY),
        }
        resource["subscriber"] = {
            "reference": res.add(("RelatedPerson", claim.patient.id, cov.member_id), related)
        }
    else:
        resource["subscriber"] = {"reference": patient}
    return res.add(("Coverage", claim.patient.id, claim.payer.id, cov.member_id), resource)


def _role(relationship: str) -> str:
    return {"spouse": "SPS", "child": "CHILD"}.get(relationship, "FAMMEMB")


def _item(line: ClaimLine) -> dict[str, Any]:
    product: dict[str, Any] = _coding(_code_system(line.code), line.code)
    if line.description:
        product["text"] = line.description
    item: dict[str, Any] = {
        "sequence": line.line_number,
        "careTeamSequence": [1],
        "diagnosisSequence": line.diagnosis_pointers,
        "productOrService": product,
        "locationCodeableConcept": _coding(POS, line.place_of_service),
        "quantity": (
            {"value": line.units, "unit": "day", "system": UCUM, "code": "d"}
            if line.kind == "per_diem"
            else {"value": line.units, "unit": "unit"}
        ),
        "unitPrice": _money(line.unit_charge),
        "net": _money(line.charge),
    }
    if line.modifiers:
        item["modifier"] = [_coding(_code_system(m), m) for m in line.modifiers]
    if line.from_ == line.to:
        item["servicedDate"] = line.from_.isoformat()
    else:
        item["servicedPeriod"] = {"start": line.from_.isoformat(), "end": line.to.isoformat()}
    if line.ndc and line.ndc_quantity is not None and line.ndc_unit:
        code, unit = NDC_UNIT_UCUM[line.ndc_unit]
        item["detail"] = [
            {
                "sequence": 1,
                "productOrService": _coding(NDC, line.ndc),
                "quantity": {"value": line.ndc_quantity, "unit": unit, "system": UCUM, "code": code},
            }
        ]
    return item


def _insurance(claim: Claim, res: _Resources, patient: str, payer: str) -> dict[str, Any]:
    coverage = _coverage(claim, patient, payer, res)
    auths = sorted({line.authorization for line in claim.lines if line.authorization})
    insurance: dict[str, Any] = {"sequence": 1, "focal": True, "coverage": {"reference": coverage}}
    if auths:
        insurance["preAuthRef"] = auths
    return insurance


def _care_team(claim: Claim, res: _Resources) -> list[dict[str, Any]]:
    role = _coding(CARE_TEAM_ROLE, "other") | {"text": "ordering provider"}
    return [{"sequence": 1, "provider": {"reference": _prescriber(claim, res)}, "role": role}]


def _claim(claim: Claim, res: _Resources) -> dict[str, Any]:
    patient = _patient(claim, res)
    payer = _payer(claim, res)
    insurance = _insurance(claim, res, patient, payer)
    return {
        "resourceType": "Claim",
        "id": claim.claim_id,
        "meta": {"tag": [{"system": STATUS_TAG, "code": claim.status}]},
        "identifier": [{"system": CLAIM_ID, "value": claim.claim_id}],
        # A held or refused claim is not to be sent: in FHIR terms a draft, not an active claim.
        "status": "active" if claim.status == "ready" else "draft",
        "type": _coding(CLAIM_TYPE, "professional"),
        "use": "claim",
        "patient": {"reference": patient},
        "billablePeriod": {"start": claim.period.from_.isoformat(), "end": claim.period.to.isoformat()},
        "created": claim.as_of.isoformat(),
        "insurer": {"reference": payer},
        "provider": {"reference": _provider(claim, res)},
        "priority": _coding(PROCESS_PRIORITY, "normal"),
        "careTeam": _care_team(claim, res),
        "diagnosis": [
            {"sequence": i, "diagnosisCodeableConcept": _coding(ICD10CM, code)}
            for i, code in enumerate(claim.diagnoses, start=1)
        ],
        "insurance": [insurance],
        "item": [_item(line) for line in claim.lines],
        "total": _money(claim.total_charge),
    }


def claims_bundle(claims: Sequence[Claim]) -> dict[str, Any]:
    """The claims as a FHIR R4 Bundle (type collection), validated by the R4B models.

    Money and quantities stay Decimal in the returned dict.
    """
    res = _Resources()
    claim_entries = []
    for claim in claims:
        resource = _claim(claim, res)
        claim_entries.append({"fullUrl": _url("Claim", claim.claim_id), "resource": resource})
    data = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid5(_NAMESPACE, "|".join(c.claim_id for c in claims))),
        "type": "collection",
        "entry": claim_entries + list(res.entries.values()),
    }
    Bundle.model_validate(data)  # raises if anything is not R4-shaped
    return data


_DECIMAL = re.compile(r'"\\u0000dec:([-0-9.]+)"')


def render_fhir(claims: Sequence[Claim]) -> str:
    """JSON text of the bundle with exact decimals: 225.00 stays 225.00, never 225.0.

    fhir.resources serialises Decimal through float, which drops the scale FHIR says is
    significant; the validated dict is written here instead, decimals as their exact digits.
    """

    def mark(value: object) -> str:
        if isinstance(value, Decimal):
            return f"\u0000dec:{value:f}"
        raise TypeError(type(value).__name__)

    text = json.dumps(claims_bundle(claims), indent=2, default=mark)
    return _DECIMAL.sub(r"\1", text) + "\n"
