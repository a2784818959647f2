"""The people and organisations both kinds of bundle carry: Patient, the person elements a
RelatedPerson shares with it, the prescribing Practitioner, and the payer Organization.

One builder each, so a claim bundle and an episode bundle describe the same patient the same way.
"""

from __future__ import annotations

from typing import Any

from hitclaims.core.records import Address, Patient, Person, Prescriber
from hitclaims.formats.fhir.systems import (
    GENDER,
    NPI,
    ORGANIZATION_TYPE,
    PATIENT_ID,
    PAYER_ID,
    TZ_CODE,
    X12_PAYER_ID,
)


def address(address: Address, country: str | None = None) -> dict[str, Any]:
    """An Address element; `country` only when the bundle states it (the claim bundle does, as US)."""
    element: dict[str, Any] = {
        "line": [address.line1] + ([address.line2] if address.line2 else []),
        "city": address.city,
        "state": address.state,
        "postalCode": address.zip,
    }
    if country is not None:
        element["country"] = country
    return element


def person(person: Person, country: str | None = None) -> dict[str, Any]:
    """The elements a Patient and a RelatedPerson share: name, gender, birth date and address."""
    return {
        "name": [{"family": person.last_name, "given": [person.first_name]}],
        "gender": GENDER[person.sex],
        "birthDate": person.birth_date.isoformat(),
        "address": [address(person.address, country)],
    }


def patient(patient: Patient, country: str | None = None) -> dict[str, Any]:
    """A Patient resource: our patient id, the time zone its days are counted in, and the person."""
    return {
        "resourceType": "Patient",
        "identifier": [{"system": PATIENT_ID, "value": patient.id}],
        "extension": [{"url": TZ_CODE, "valueCode": patient.timezone}],
        **person(patient, country),
    }


def practitioner(prescriber: Prescriber) -> dict[str, Any]:
    """The prescriber as a Practitioner, identified by NPI."""
    return {
        "resourceType": "Practitioner",
        "identifier": [{"system": NPI, "value": prescriber.npi}],
        "name": [{"family": prescriber.last_name, "given": [prescriber.first_name]}],
    }


def payer(payer_id: str, x12_payer_id: str | None = None, name: str | None = None) -> dict[str, Any]:
    """The payer as an Organization: our payer id, and its X12 payer id and name when known."""
    resource: dict[str, Any] = {
        "resourceType": "Organization",
        "identifier": [{"system": PAYER_ID, "value": payer_id}],
    }
    if x12_payer_id is not None:
        resource["identifier"].append({"system": X12_PAYER_ID, "value": x12_payer_id})
    if name is not None:
        resource["type"] = [{"coding": [{"system": ORGANIZATION_TYPE, "code": "pay"}]}]
        resource["name"] = name
    return resource
