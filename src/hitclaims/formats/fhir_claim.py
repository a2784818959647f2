"""FHIR R4 out: a Bundle of Claim resources with the Patient, Coverage, payer and billing
Organizations and the prescribing Practitioner they reference.

Built and validated with `fhir.resources.R4B`, whose Claim matches R4 4.0.1 element for element
(STACK-NOTES §2). Neither library checks bindings, so the code systems below are this module's
responsibility and the tests assert them. Every value is the neutral claim's: no recomputation.
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
from hitclaims.core.records import Address, Person

HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
CPT = "http://www.ama-assn.org/go/cpt"
NDC = "http://hl7.org/fhir/sid/ndc"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
POS = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
NPI = "http://hl7.org/fhir/sid/us-npi"
TIN = "urn:oid:2.16.840.1.113883.4.4"
UCUM = "http://unitsofmeasure.org"
CLAIM_ID = "https://hitclaims.example/fhir/claim-id"
PATIENT_ID = "https://hitclaims.example/fhir/patient-id"
PAYER_ID = "https://hitclaims.example/fhir/payer-id"
X12_PAYER_ID = "https://hitclaims.example/fhir/x12-payer-id"
STATUS_TAG = "https://hitclaims.example/fhir/claim-status"
TZ_EXTENSION = "http://hl7.org/fhir/StructureDefinition/tz-code"
_NAMESPACE = uuid.UUID("6f1d0c2e-7f43-5a7b-9d0c-3c3f4a1e2b10")
# NCPDP/837 NDC units as UCUM, so a FHIR reader need not know X12's code list.
_NDC_UNIT = {
    "ML": ("mL", "mL"),
    "GR": ("g", "g"),
    "ME": ("mg", "mg"),
    "F2": ("[iU]", "IU"),
    "UN": ("{unit}", "unit"),
}
_GENDER = {"F": "female", "M": "male", "U": "unknown"}
_RELATIONSHIP = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"


def _url(*key: str) -> str:
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, '|'.join(key))}"


def _money(value: Decimal) -> dict[str, Any]:
    return {"value": value, "currency": "USD"}


def _address(address: Address) -> dict[str, Any]:
    lines = [address.line1] + ([address.line2] if address.line2 else [])
    return {
        "line": lines,
        "city": address.city,
        "state": address.state,
        "postalCode": address.zip,
        "country": "US",
    }


def _person(person: Person) -> dict[str, Any]:
    return {
        "name": [{"family": person.last_name, "given": [person.first_name]}],
        "gender": _GENDER[person.sex],
        "birthDate": person.birth_date.isoformat(),
        "address": [_address(person.address)],
    }


def _code_system(code: str) -> str:
    # CPT codes (99601/99602) and the CPT modifier 59 are five digits; HCPCS Level II starts with a letter.
    return CPT if code.isdigit() else HCPCS


class _Resources:
    """The bundle's shared resources, each once, keyed so that claims reference one another's."""

    def __init__(self) -> None:
        self.entries: dict[str, dict[str, Any]] = {}

    def add(self, key: tuple[str, ...], resource: dict[str, Any]) -> str:
        url = _url(*key)
        self.entries.setdefault(url, {"fullUrl": url, "resource": resource})
        return url


def _patient(claim: Claim, res: _Resources) -> str:
    p = claim.patient
    resource = {
        "resourceType": "Patient",
        "identifier": [{"system": PATIENT_ID, "value": p.id}],
        "extension": [{"url": TZ_EXTENSION, "valueCode": p.timezone}],
        **_person(p),
    }
    return res.add(("Patient", p.id), resource)


def _payer(claim: Claim, res: _Resources) -> str:
    resource = {
        "resourceType": "Organization",
        "identifier": [
            {"system": PAYER_ID, "value": claim.payer.id},
            {"system": X12_PAYER_ID, "value": claim.payer.x12_payer_id},
        ],
        "type": [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/organization-type", "code": "pay"}]}
        ],
        "name": claim.payer.name,
    }
    return res.add(("Organization", "payer", claim.payer.id), resource)


def _provider(claim: Claim, res: _Resources) -> str:
    prov = claim.provider
    resource = {
        "resourceType": "Organization",
        "identifier": [{"system": NPI, "value": prov.npi}, {"system": TIN, "value": prov.tax_id}],
        "type": [
            {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/organization-type", "code": "prov"}
                ]
            }
        ],
        "name": prov.name,
        "telecom": [{"system": "phone", "value": prov.contact.phone}],
        "address": [_address(prov.address)],
    }
    return res.add(("Organization", "provider", prov.npi), resource)


def _prescriber(claim: Claim, res: _Resources) -> str:
    doc = claim.prescriber
    resource = {
        "resourceType": "Practitioner",
        "identifier": [{"system": NPI, "value": doc.npi}],
        "name": [{"family": doc.last_name, "given": [doc.first_name]}],
    }
    return res.add(("Practitioner", doc.npi), resource)


def _coverage(claim: Claim, patient: str, payer: str, res: _Resources) -> str:
    cov = claim.coverage
    resource: dict[str, Any] = {
        "resourceType": "Coverage",
        "status": "active",
        "beneficiary": {"reference": patient},
        "subscriberId": cov.member_id,
        "relationship": {"coding": [{"system": _RELATIONSHIP, "code": cov.relationship}]},
        "payor": [{"reference": payer}],
    }
    if cov.group_number:
        resource["class"] = [
            {
                "type": {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/coverage-class", "code": "group"}
                    ]
                },
                "value": cov.group_number,
            }
        ]
    if cov.subscriber is not None:
        related = {
            "resourceType": "RelatedPerson",
            "patient": {"reference": patient},
            "relationship": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
                            "code": _role(cov.relationship),
                        }
                    ]
                }
            ],
            **_person(cov.subscriber),
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
    product: dict[str, Any] = {"coding": [{"system": _code_system(line.code), "code": line.code}]}
    if line.description:
        product["text"] = line.description
    item: dict[str, Any] = {
        "sequence": line.line_number,
        "careTeamSequence": [1],
        "diagnosisSequence": line.diagnosis_pointers,
        "productOrService": product,
        "locationCodeableConcept": {"coding": [{"system": POS, "code": line.place_of_service}]},
        "quantity": (
            {"value": line.units, "unit": "day", "system": UCUM, "code": "d"}
            if line.kind == "per_diem"
            else {"value": line.units, "unit": "unit"}
        ),
        "unitPrice": _money(line.unit_charge),
        "net": _money(line.charge),
    }
    if line.modifiers:
        item["modifier"] = [{"coding": [{"system": _code_system(m), "code": m}]} for m in line.modifiers]
    if line.from_ == line.to:
        item["servicedDate"] = line.from_.isoformat()
    else:
        item["servicedPeriod"] = {"start": line.from_.isoformat(), "end": line.to.isoformat()}
    if line.ndc and line.ndc_quantity is not None and line.ndc_unit:
        code, unit = _NDC_UNIT[line.ndc_unit]
        item["detail"] = [
            {
                "sequence": 1,
                "productOrService": {"coding": [{"system": NDC, "code": line.ndc}]},
                "quantity": {"value": line.ndc_quantity, "unit": unit, "system": UCUM, "code": code},
            }
        ]
    return item


def _claim(claim: Claim, res: _Resources) -> dict[str, Any]:
    patient = _patient(claim, res)
    payer = _payer(claim, res)
    coverage = _coverage(claim, patient, payer, res)
    auths = sorted({line.authorization for line in claim.lines if line.authorization})
    insurance: dict[str, Any] = {"sequence": 1, "focal": True, "coverage": {"reference": coverage}}
    if auths:
        insurance["preAuthRef"] = auths
    return {
        "resourceType": "Claim",
        "id": claim.claim_id,
        "meta": {"tag": [{"system": STATUS_TAG, "code": claim.status}]},
        "identifier": [{"system": CLAIM_ID, "value": claim.claim_id}],
        # A held or refused claim is not to be sent: in FHIR terms a draft, not an active claim.
        "status": "active" if claim.status == "ready" else "draft",
        "type": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "professional"}]
        },
        "use": "claim",
        "patient": {"reference": patient},
        "billablePeriod": {"start": claim.period.from_.isoformat(), "end": claim.period.to.isoformat()},
        "created": claim.as_of.isoformat(),
        "insurer": {"reference": payer},
        "provider": {"reference": _provider(claim, res)},
        "priority": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/processpriority", "code": "normal"}]
        },
        "careTeam": [
            {
                "sequence": 1,
                "provider": {"reference": _prescriber(claim, res)},
                "role": {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/claimcareteamrole", "code": "other"}
                    ],
                    "text": "ordering provider",
                },
            }
        ],
        "diagnosis": [
            {"sequence": i, "diagnosisCodeableConcept": {"coding": [{"system": ICD10CM, "code": code}]}}
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
