"""FHIR R4 Bundles in and out for episodes: a Bundle becomes an Episode (import) and back (export).

Resources are built and checked with `fhir.resources.R4B`, whose elements match R4 4.0.1 for every
resource used here. The library checks structure and datatypes only; the code systems and the
meaning of each element are this module's, and an imported bundle still goes through the same
validation as episode JSON (`Episode` in JSON mode, `episode_problems`, `catalog_problems`).

Systems: identifiers, drug keys, observation codes and extensions of our own live under
https://hitclaims.example/fhir/; standard ones (NPI, ICD-10-CM, NDC, HCPCS, UCUM, v3-ActCode,
subscriber-relationship, coverage-class, tz-code, quantity-precision) are used where they exist.

What an export cannot carry (export has no notes channel, so it is stated here):
- pump `alarm` events: FHIR has no resource for a pump alarm, and alarms never change billing;
- the rate written on a `stop` event: the engine ignores it, and an administration's end has no
  place for it;
- a list of one drug or of one prior authorization comes back as the single value (same billing);
- decimals with more significant digits than a JSON number (a double) holds.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.coverage import Coverage as FhirCoverage
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.dosage import Dosage
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.episodeofcare import EpisodeOfCare
from fhir.resources.R4B.extension import Extension
from fhir.resources.R4B.fhirprimitiveextension import FHIRPrimitiveExtension
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.medicationadministration import (
    MedicationAdministration,
    MedicationAdministrationDosage,
)
from fhir.resources.R4B.medicationdispense import MedicationDispense
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.quantity import Quantity
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.relatedperson import RelatedPerson
from fhir.resources.R4B.resource import Resource
from fhir.resources.R4B.supplydelivery import SupplyDelivery
from pydantic import ValidationError

from hitclaims.core.catalog import Catalog
from hitclaims.core.errors import InputError
from hitclaims.core.records import (
    Adjustment,
    ConcurrentTherapy,
    Dispense,
    Episode,
    Hold,
    NursingVisit,
    Order,
    Person,
    PriorAuthorization,
    Problem,
    ProgressNote,
    PumpEvent,
    Supply,
    episode_problems,
)
from hitclaims.inputs.loading import catalog_problems, validation_error

# --- systems ------------------------------------------------------------------------------------

OURS = "https://hitclaims.example/fhir/"
EXT = OURS + "StructureDefinition/"
EPISODE_ID = OURS + "episode-id"
PATIENT_ID = OURS + "patient-id"
PAYER_ID = OURS + "payer-id"
RECORD_ID = OURS + "record-id"
RX_NUMBER = OURS + "rx-number"
DRUG_KEY = OURS + "drug-key"
OBSERVATION = OURS + "observation"
NDC_UNIT = OURS + "ndc-unit"
NPI = "http://hl7.org/fhir/sid/us-npi"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
NDC = "http://hl7.org/fhir/sid/ndc"
HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
UCUM = "http://unitsofmeasure.org"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
RELATIONSHIP = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"
COVERAGE_CLASS = "http://terminology.hl7.org/CodeSystem/coverage-class"
LOINC = "http://loinc.org"
LOINC_PROGRESS_NOTE = "11506-3"
TZ_CODE = "http://hl7.org/fhir/StructureDefinition/tz-code"
PRECISION = "http://hl7.org/fhir/StructureDefinition/quantity-precision"

X_DEVICE = EXT + "therapy-device"
X_ROUTE = EXT + "therapy-route"
X_SITE = EXT + "therapy-site"
X_CONCURRENT = EXT + "concurrent-therapy"
X_PRIOR_AUTH = EXT + "prior-authorization"
X_MODE = EXT + "infusion-mode"
X_RATE_TEXT = EXT + "rate-text"
# The pump log event at an administration's start (start | rate_change | stop) and at its end.
X_PUMP_EVENT = EXT + "pump-event"
X_PUMP_END = EXT + "pump-end-event"
X_STOP_ID = EXT + "pump-stop-event-id"
X_VISIT_DATE = EXT + "visit-date"
X_AMOUNT = EXT + "dispensed-amount"
X_ADMINISTERED = EXT + "administered-amount"
X_SINGLE_DOSE = EXT + "single-dose"

PROGRESS_NOTE = "progress-note"
VISIT_NOTE = "nursing-visit-note"
_NAMESPACE = uuid.UUID("0b8f6f3e-5c1d-5e2a-9a47-1f6d2c3b4a59")
_GENDER = {"F": "female", "M": "male", "U": "unknown"}
_SEX = {v: k for k, v in _GENDER.items()}
_UCUM_MASS = {"mg": "mg", "mcg": "ug", "g": "g"}
_MASS_UNIT = {v: k for k, v in _UCUM_MASS.items()} | {"mcg": "mcg"}
# NDC units also accepted as UCUM, the way FHIR senders usually write them.
_NDC_UNITS = {"F2", "GR", "ME", "ML", "UN"}
_UCUM_NDC_UNIT = {"mL": "ML", "g": "GR", "mg": "ME", "[iU]": "F2", "{unit}": "UN"}
_HOLD_CLASSES = {"IMP", "ACUTE", "NONAC"}
_HOLD_REASONS = {"inpatient", "skilled_nursing", "hospice", "other"}
# At one instant the engine applies a stop before a start (per_diem._EVENT_ORDER).
_EVENT_ORDER = {"stop": 0, "start": 1, "rate_change": 2, "alarm": 3}
_RATE_PARTS = re.compile(r"(\d+(?:\.\d+)?) (\S+)")


# --- export -------------------------------------------------------------------------------------


def episode_to_bundle(episode: Episode) -> dict[str, Any]:
    """An Episode as a FHIR R4 Bundle (type 'collection'), JSON-ready dict.

    Deterministic byte for byte: every fullUrl is a uuid5 of the episode id and the resource's
    key. Pump alarm events and the rate written on a stop event are left out (see the module
    docstring): there is no notes channel here, and neither changes billing. Expects a checked
    episode (as loading returns): an adjustment naming a missing order is a ValueError.
    """
    exporter = _Exporter(episode)
    exporter.build()
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "collection", "entry": exporter.entries}
    # A mapping mistake must fail here, not in the receiver's validator.
    Bundle.model_validate(bundle)
    return bundle


def _prune(value: Any) -> Any:
    """Drop empty elements: FHIR forbids empty strings, lists and objects."""
    if isinstance(value, dict):
        pruned = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        return [v for v in (_prune(item) for item in value) if v not in (None, "", [], {})]
    return value


def _number(value: Decimal) -> dict[str, Any]:
    """A decimal as a FHIR `value` (a JSON number), exact when read back with parse_float=Decimal.

    A whole number becomes an int ("250" stays 250), others a float whose repr has the same
    digits ("83.33" stays 83.33); trailing zeros a float drops ("2.50") are restated with the
    standard quantity-precision extension.
    """
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= 0:
        return {"value": int(value)}
    number = float(value)
    if str(Decimal(repr(number))) == str(value) or not isinstance(exponent, int):
        return {"value": number}
    return {"value": number, "_value": {"extension": [{"url": PRECISION, "valueInteger": -exponent}]}}


def _exact_number(text: str) -> bool:
    """Does this number's text come back unchanged through `_number` and `_decimal_text`?"""
    element = _number(Decimal(text))
    # json.dumps writes a number's repr; the reader parses it back as a Decimal.
    back = Decimal(repr(element["value"]))
    places = element["_value"]["extension"][0]["valueInteger"] if "_value" in element else None
    return _with_places(back, places) == text


def _rate_parts(rate: str | None) -> dict[str, Any]:
    """A rate as Dosage elements: a rateQuantity, plus the words when the quantity would lose them."""
    if rate is None:
        return {}
    match = _RATE_PARTS.fullmatch(rate)
    parts: dict[str, Any] = {}
    if match:
        parts["rateQuantity"] = {**_number(Decimal(match[1])), "unit": match[2]}
    if not match or not _exact_number(match[1]):
        parts["extension"] = [{"url": X_RATE_TEXT, "valueString": rate}]
    return parts


def _ids(record_id: str | None) -> list[dict[str, str]]:
    return [{"system": RECORD_ID, "value": record_id}] if record_id else []


def _ext(url: str, kind: str, value: Any) -> dict[str, Any]:
    return {"url": url, kind: value}


def _person(person: Person) -> dict[str, Any]:
    address = person.address
    return {
        "name": [{"family": person.last_name, "given": [person.first_name]}],
        "gender": _GENDER[person.sex],
        "birthDate": person.birth_date.isoformat(),
        "address": [
            {
                "line": [address.line1, address.line2],
                "city": address.city,
                "state": address.state,
                "postalCode": address.zip,
            }
        ],
    }


def _drug_concept(drugs: Sequence[str]) -> dict[str, Any]:
    if not drugs:
        # medication[x] is required: say plainly that the order names none.
        return {"text": "no drug stated in the order"}
    return {"coding": [{"system": DRUG_KEY, "code": drug} for drug in drugs]}


def _stamp(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _day(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


@dataclass
class _Segment:
    """One MedicationAdministration: the event that began it and the one that ended it."""

    begin: PumpEvent
    end: PumpEvent | None = None
    # A lone event while the pump is stopped (a stop, or a rate programmed): an instant, not a run.
    # The engine still reads it: any stop makes the log the evidence, any rate change is checked.
    lone: bool = False


def _pump_segments(events: Iterable[PumpEvent]) -> list[_Segment]:
    """The pump log as administrations, following the engine's reading of it (per_diem).

    Every start and rate change begins a segment (the engine checks each rate); a stop ends the
    running one. Alarms leave no trace: the engine ignores them.
    """
    ordered = sorted(
        (e for e in events if e.type != "alarm"), key=lambda e: (e.at.astimezone(UTC), _EVENT_ORDER[e.type])
    )
    segments: list[_Segment] = []
    running: _Segment | None = None
    for event in ordered:
        if event.type == "stop" and running is not None:
            running.end, running = event, None
            continue
        if event.type != "start" and running is None:
            segments.append(_Segment(event, lone=True))
            continue
        if running is not None:
            running.end = event
        running = _Segment(event)
        segments.append(running)
    return segments


class _Exporter:
    def __init__(self, episode: Episode) -> None:
        self.ep = episode
        self.entries: list[dict[str, Any]] = []

    def url(self, key: str) -> str:
        return f"urn:uuid:{uuid.uuid5(_NAMESPACE, self.ep.episode_id + '|' + key)}"

    def ref(self, key: str) -> dict[str, str]:
        return {"reference": self.url(key)}

    def add(self, key: str, resource: dict[str, Any]) -> None:
        self.entries.append({"fullUrl": self.url(key), "resource": _prune(resource)})

    def build(self) -> None:
        ep = self.ep
        self.add("Patient", self.patient())
        if ep.coverage.subscriber is not None:
            subscriber = _person(ep.coverage.subscriber)
            self.add(
                "RelatedPerson",
                {"resourceType": "RelatedPerson", "patient": self.ref("Patient")} | subscriber,
            )
        self.add(
            "Organization",
            {
                "resourceType": "Organization",
                "identifier": [{"system": PAYER_ID, "value": ep.coverage.payer_id}],
            },
        )
        self.add("Coverage", self.coverage())
        self.add("Practitioner", self.practitioner())
        self.add("EpisodeOfCare", self.episode_of_care())
        for i, code in enumerate(ep.diagnoses):
            self.add(f"Condition/{i}", self.condition(code))
        self.observations()
        for i, order in enumerate(ep.orders):
            self.add(f"MedicationRequest/order/{i}", self.order(order))
        for i, adjustment in enumerate(ep.adjustments):
            self.add(f"MedicationRequest/adjustment/{i}", self.adjustment(adjustment))
        for i, segment in enumerate(_pump_segments(ep.pump_events)):
            self.add(f"MedicationAdministration/{i}", self.administration(segment))
        for i, hold in enumerate(ep.holds):
            self.add(f"Encounter/hold/{i}", self.hold(hold))
        for i, visit in enumerate(ep.nursing_visits):
            self.add(f"Encounter/visit/{i}", self.visit(visit))
            if visit.note is not None:
                self.add(f"DocumentReference/visit/{i}", self.visit_note(visit, i))
        for i, note in enumerate(ep.progress_notes):
            self.add(f"DocumentReference/note/{i}", self.progress_note(note))
        for i, dispense in enumerate(ep.dispenses):
            self.add(f"MedicationDispense/{i}", self.dispense(dispense))
        for i, supply in enumerate(ep.supplies):
            self.add(f"SupplyDelivery/{i}", self.supply(supply))

    def patient(self) -> dict[str, Any]:
        patient = self.ep.patient
        return {
            "resourceType": "Patient",
            "identifier": [{"system": PATIENT_ID, "value": patient.id}],
            "extension": [_ext(TZ_CODE, "valueCode", patient.timezone)],
        } | _person(patient)

    def coverage(self) -> dict[str, Any]:
        cov = self.ep.coverage
        return {
            "resourceType": "Coverage",
            "status": "active",
            "extension": [self.authorization(pa) for pa in cov.authorizations],
            "subscriber": self.ref("RelatedPerson" if cov.subscriber is not None else "Patient"),
            "subscriberId": cov.member_id,
            "beneficiary": self.ref("Patient"),
            "relationship": {"coding": [{"system": RELATIONSHIP, "code": cov.relationship}]},
            "payor": [self.ref("Organization")],
            "class": [
                {"type": {"coding": [{"system": COVERAGE_CLASS, "code": "group"}]}, "value": cov.group_number}
            ]
            if cov.group_number is not None
            else [],
        }

    @staticmethod
    def authorization(pa: PriorAuthorization) -> dict[str, Any]:
        return {
            "url": X_PRIOR_AUTH,
            "extension": [
                _ext("number", "valueString", pa.number),
                _ext("start", "valueDate", pa.start.isoformat()),
                _ext("end", "valueDate", pa.end.isoformat()),
                _ext("units", "valueUnsignedInt", pa.units),
                *(_ext("code", "valueCode", code) for code in pa.codes),
            ],
        }

    def practitioner(self) -> dict[str, Any]:
        doc = self.ep.prescriber
        return {
            "resourceType": "Practitioner",
            "identifier": [{"system": NPI, "value": doc.npi}],
            "name": [{"family": doc.last_name, "given": [doc.first_name]}],
        }

    def episode_of_care(self) -> dict[str, Any]:
        ep = self.ep
        therapy = ep.therapy
        first = min((o.start for o in ep.orders), default=None)
        end = ep.discontinued_at
        if first is not None and end is not None and end.astimezone(ep.patient.zone).date() < first:
            first = None  # a period may not start after it ends (FHIR per-1)
        return {
            "resourceType": "EpisodeOfCare",
            "identifier": [{"system": EPISODE_ID, "value": ep.episode_id}],
            "extension": [
                _ext(X_DEVICE, "valueCode", therapy.device),
                _ext(X_ROUTE, "valueCode", therapy.route),
                _ext(X_SITE, "valueCode", therapy.site),
                *(self.concurrent(c) for c in ep.concurrent_therapies),
            ],
            "status": "finished" if end is not None else "active",
            "type": [{"text": therapy.category}],
            "patient": self.ref("Patient"),
            "period": {"start": _day(first), "end": _stamp(end)},
        }

    @staticmethod
    def concurrent(therapy: ConcurrentTherapy) -> dict[str, Any]:
        return {
            "url": X_CONCURRENT,
            "extension": [
                _ext("id", "valueString", therapy.id),
                _ext("code", "valueCode", therapy.code),
                _ext("start", "valueDate", therapy.start.isoformat()),
                _ext("end", "valueDate", _day(therapy.end)),
                _ext("rate", "valueString", str(therapy.rate)),
            ],
        }

    def condition(self, code: str) -> dict[str, Any]:
        return {
            "resourceType": "Condition",
            "code": {"coding": [{"system": ICD10CM, "code": code}]},
            "subject": self.ref("Patient"),
        }

    def observation(self, code: str, **value: Any) -> dict[str, Any]:
        return {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": OBSERVATION, "code": code}]},
            "subject": self.ref("Patient"),
        } | value

    def observations(self) -> None:
        ep = self.ep
        if ep.medical_history is not None:
            self.add(
                "Observation/medical-history",
                self.observation("medical-history", valueString=ep.medical_history),
            )
        if ep.home_infusion_reason is not None:
            self.add(
                "Observation/home-infusion-reason",
                self.observation("home-infusion-reason", valueString=ep.home_infusion_reason),
            )
        need = ep.medical_necessity
        if need is not None:
            components = [
                self.component(
                    "continuous-infusion-indicated", valueBoolean=need.continuous_infusion_indicated
                )
            ]
            components += [
                self.component("alternative-tried", valueString=alt) for alt in need.alternatives_tried
            ]
            if need.alternatives_outcome is not None:
                components.append(
                    self.component("alternatives-outcome", valueString=need.alternatives_outcome)
                )
            self.add(
                "Observation/medical-necessity", self.observation("medical-necessity", component=components)
            )

    @staticmethod
    def component(code: str, **value: Any) -> dict[str, Any]:
        return {"code": {"coding": [{"system": OBSERVATION, "code": code}]}} | value

    def order_key(self, order_id: str) -> str:
        for index, order in enumerate(self.ep.orders):
            if order.id == order_id:
                return f"MedicationRequest/order/{index}"
        # Only an episode that skipped episode_problems can get here (loading always runs it).
        raise ValueError(f"an adjustment names order {order_id!r}, which the episode does not have")

    def order(self, order: Order) -> dict[str, Any]:
        rate = _rate_parts(order.rate)
        dosage = {
            "text": order.dose,
            "timing": {
                "repeat": {"boundsPeriod": {"start": order.start.isoformat(), "end": _day(order.end)}}
            },
            "extension": rate.get("extension"),
            "doseAndRate": [{"rateQuantity": rate["rateQuantity"]}] if "rateQuantity" in rate else [],
        }
        return {
            "resourceType": "MedicationRequest",
            "identifier": _ids(order.id),
            "extension": [_ext(X_MODE, "valueCode", order.mode)],
            "status": "active",
            "intent": "order",
            "medicationCodeableConcept": _drug_concept(order.drugs),
            "subject": self.ref("Patient"),
            "authoredOn": _stamp(order.signed_at),
            "requester": self.ref("Practitioner"),
            "dosageInstruction": [dosage],
        }

    def adjustment(self, adj: Adjustment) -> dict[str, Any]:
        key = self.order_key(adj.order_id)
        order = next(o for o in self.ep.orders if o.id == adj.order_id)
        rate = _rate_parts(adj.rate)
        dosage = {
            "extension": rate.get("extension"),
            "doseAndRate": [{"rateQuantity": rate["rateQuantity"]}] if "rateQuantity" in rate else [],
        }
        return {
            "resourceType": "MedicationRequest",
            "identifier": _ids(adj.id),
            "status": "active",
            "intent": "order",
            "medicationCodeableConcept": _drug_concept(order.drugs),
            "subject": self.ref("Patient"),
            "authoredOn": _stamp(adj.at),
            "reasonCode": [{"text": adj.reason}] if adj.reason is not None else [],
            "dosageInstruction": [dosage],
            "priorPrescription": self.ref(key),
        }

    def administration(self, segment: _Segment) -> dict[str, Any]:
        begin, end = segment.begin, segment.end
        day = begin.at.astimezone(self.ep.patient.zone).date()
        order = next((o for o in self.ep.orders if o.covers(day)), None)
        extensions = [_ext(X_PUMP_EVENT, "valueCode", begin.type)]
        if end is not None:
            extensions.append(_ext(X_PUMP_END, "valueCode", end.type))
            if end.type == "stop" and end.id is not None:
                extensions.append(_ext(X_STOP_ID, "valueString", end.id))
        return {
            "resourceType": "MedicationAdministration",
            "identifier": _ids(begin.id),
            "extension": extensions,
            "status": self.status(segment),
            "medicationCodeableConcept": _drug_concept(order.drugs)
            if order
            else {"text": "no order in force"},
            "subject": self.ref("Patient"),
            "context": self.ref("EpisodeOfCare"),
            "effectiveDateTime": begin.at.isoformat() if segment.lone else None,
            "effectivePeriod": None
            if segment.lone
            else {"start": begin.at.isoformat(), "end": _stamp(end.at if end else None)},
            "request": self.ref(self.order_key(order.id)) if order else None,
            "dosage": None if begin.type == "stop" else _rate_parts(begin.rate),
        }

    @staticmethod
    def status(segment: _Segment) -> str:
        if segment.lone:
            return "stopped" if segment.begin.type == "stop" else "on-hold"
        return "completed" if segment.end is not None else "in-progress"

    def encounter(self, code: str, display: str, record_id: str | None) -> dict[str, Any]:
        return {
            "resourceType": "Encounter",
            "identifier": _ids(record_id),
            "class": {"system": ACT_CODE, "code": code, "display": display},
            "subject": self.ref("Patient"),
            "episodeOfCare": [self.ref("EpisodeOfCare")],
        }

    def hold(self, hold: Hold) -> dict[str, Any]:
        return self.encounter("IMP", "inpatient encounter", hold.id) | {
            "status": "finished" if hold.end is not None else "in-progress",
            "type": [{"text": hold.reason}],
            "period": {"start": hold.start.isoformat(), "end": _stamp(hold.end)},
        }

    def visit(self, visit: NursingVisit) -> dict[str, Any]:
        timed = visit.start is not None and visit.end is not None
        minutes = visit.duration_minutes
        return self.encounter("HH", "home health", visit.id) | {
            "status": "finished",
            # Without clock times the local date would be lost: state it.
            "extension": [] if timed else [_ext(X_VISIT_DATE, "valueDate", visit.date.isoformat())],
            "participant": [{"type": [{"text": visit.credential}]}],
            "period": {"start": _stamp(visit.start), "end": _stamp(visit.end)},
            "length": {"value": minutes, "unit": "min", "system": UCUM, "code": "min"} if minutes else None,
        }

    def document(self, kind: str, text: str, record_id: str | None) -> dict[str, Any]:
        data = base64.b64encode(text.encode("utf-8")).decode("ascii")
        # An empty note has no base64 data (FHIR forbids empty strings): size 0 says it is empty.
        attachment = (
            {"contentType": "text/plain", "data": data} if text else {"contentType": "text/plain", "size": 0}
        )
        return {
            "resourceType": "DocumentReference",
            "identifier": _ids(record_id),
            "status": "current",
            "type": {"text": kind},
            "subject": self.ref("Patient"),
            "content": [{"attachment": attachment}],
        }

    def visit_note(self, visit: NursingVisit, index: int) -> dict[str, Any]:
        assert visit.note is not None
        return self.document(VISIT_NOTE, visit.note, None) | {
            "context": {"encounter": [self.ref(f"Encounter/visit/{index}")]}
        }

    def progress_note(self, note: ProgressNote) -> dict[str, Any]:
        # DocumentReference.date is an instant; the note's calendar date is the period it documents.
        day = note.date.isoformat()
        return self.document(PROGRESS_NOTE, note.text, note.id) | {
            "author": [{"display": note.author}],
            "context": {"period": {"start": day, "end": day}},
        }

    def dispense(self, dispense: Dispense) -> dict[str, Any]:
        mass = {"unit": dispense.amount_unit, "system": UCUM, "code": _UCUM_MASS[dispense.amount_unit]}
        extensions = [_ext(X_AMOUNT, "valueQuantity", _number(dispense.amount) | mass)]
        if dispense.administered_amount is not None:
            extensions.append(
                _ext(X_ADMINISTERED, "valueQuantity", _number(dispense.administered_amount) | mass)
            )
        if dispense.single_dose is not None:
            extensions.append(_ext(X_SINGLE_DOSE, "valueBoolean", dispense.single_dose))
        identifiers = _ids(dispense.id)
        if dispense.rx_number is not None:
            identifiers.append({"system": RX_NUMBER, "value": dispense.rx_number})
        return {
            "resourceType": "MedicationDispense",
            "identifier": identifiers,
            "extension": extensions,
            "status": "completed",
            "medicationCodeableConcept": {
                "coding": [{"system": NDC, "code": dispense.ndc}, {"system": DRUG_KEY, "code": dispense.drug}]
            },
            "subject": self.ref("Patient"),
            "quantity": _number(dispense.quantity)
            | {"unit": dispense.unit, "system": NDC_UNIT, "code": dispense.unit},
            "whenHandedOver": dispense.date.isoformat(),
        }

    def supply(self, supply: Supply) -> dict[str, Any]:
        coding = [{"system": HCPCS, "code": supply.hcpcs}] if supply.hcpcs else []
        return {
            "resourceType": "SupplyDelivery",
            "identifier": _ids(supply.id),
            "status": "completed",
            "patient": self.ref("Patient"),
            "suppliedItem": {
                "quantity": {"value": supply.quantity},
                "itemCodeableConcept": {"coding": coding, "text": supply.description},
            },
            "occurrenceDateTime": supply.date.isoformat(),
        }


# --- import -------------------------------------------------------------------------------------


def bundle_to_episode(file: str, text: str, catalog: Catalog) -> tuple[Episode, list[str]]:
    """A FHIR Bundle (JSON text) as an Episode, plus plain-sentence notes on everything in the
    bundle that could not be mapped (never dropped silently). Raises InputError for unusable
    content, naming the file, the record (e.g. "entry[3] MedicationRequest/O-1") and the field."""
    raw = _load_bundle(file, text)
    bundle = _validate_bundle(file, raw)
    entries = [
        _Entry(i, e.fullUrl, e.resource, raw["entry"][i]["resource"])
        for i, e in enumerate(bundle.entry or [])
        if e.resource is not None
    ]
    reader = _Reader(file, entries)
    data = reader.episode_dict()
    return reader.episode(data, catalog), reader.notes


def _load_bundle(file: str, text: str) -> dict[str, Any]:
    try:
        # parse_float=Decimal: "83.33" must reach the episode as 83.33, not as a binary float.
        raw = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise InputError(
            file, None, None, f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    if not isinstance(raw, dict) or raw.get("resourceType") != "Bundle":
        raise InputError(
            file, None, "resourceType", "not a FHIR Bundle (a JSON object with resourceType 'Bundle')"
        )
    entries = raw.get("entry", [])
    if not isinstance(entries, list):
        raise InputError(file, None, "entry", "must be a list of entries")
    for i, entry in enumerate(entries):
        _check_entry_shape(file, i, entry)
    return raw


def _check_entry_shape(file: str, index: int, entry: object) -> None:
    # fhir.resources raises KeyError, not a validation error, on an unknown resourceType.
    resource = entry.get("resource") if isinstance(entry, dict) else None
    if not isinstance(resource, dict):
        raise InputError(file, f"entry[{index}]", "resource", "every entry needs a resource object")
    kind = resource.get("resourceType")
    try:
        get_fhir_model_class(str(kind))
    except (KeyError, ValueError):
        raise InputError(
            file, f"entry[{index}]", "resourceType", f"{kind!r} is not a FHIR R4 resource type"
        ) from None


def _validate_bundle(file: str, raw: dict[str, Any]) -> Bundle:
    try:
        return Bundle.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        loc = list(errors[0]["loc"])
        record = None
        if loc[:1] == ["entry"] and len(loc) > 1 and isinstance(loc[1], int):
            record = _raw_label(loc[1], raw["entry"][loc[1]]["resource"])
            loc = loc[3:] if loc[2:3] == ["resource"] else loc[2:]
        # Only the message, never the input: the input may be a name or a birth date.
        message = str(errors[0]["msg"]).removeprefix("Value error, ")
        problem = "not valid FHIR R4: " + message[:1].lower() + message[1:]
        raise InputError(file, record, _path(loc) or None, problem, len(errors) - 1) from None
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(file, None, None, f"not a valid FHIR R4 Bundle ({type(exc).__name__})") from None


def _path(loc: Sequence[int | str]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


_LABEL_SYSTEMS = (RECORD_ID, EPISODE_ID, PATIENT_ID)


def _raw_label(index: int, resource: dict[str, Any]) -> str:
    kind = resource.get("resourceType")
    rid = None
    identifiers = resource.get("identifier")
    if isinstance(identifiers, list):
        rid = next(
            (
                i.get("value")
                for i in identifiers
                if isinstance(i, dict) and i.get("system") in _LABEL_SYSTEMS
            ),
            None,
        )
    rid = rid or resource.get("id")
    return f"entry[{index}] {kind}/{rid}" if isinstance(rid, str) else f"entry[{index}] {kind}"


@dataclass
class _Entry:
    index: int
    url: str | None
    resource: Resource
    raw: dict[str, Any]
    used: bool = False

    @property
    def kind(self) -> str:
        return str(self.raw["resourceType"])

    @property
    def label(self) -> str:
        return _raw_label(self.index, self.raw)


def _identifier(identifiers: Sequence[Identifier] | None, system: str) -> str | None:
    return next((i.value for i in identifiers or [] if i.system == system and i.value), None)


def _extensions(extensions: Sequence[Extension] | None, url: str) -> list[Extension]:
    return [e for e in extensions or [] if e.url == url]


def _extension(extensions: Sequence[Extension] | None, url: str) -> Extension | None:
    found = _extensions(extensions, url)
    return found[0] if found else None


def _codes(concept: CodeableConcept | None, system: str) -> list[str]:
    return [c.code for c in (concept.coding or []) if c.system == system and c.code] if concept else []


def _is_progress_note(concept: CodeableConcept | None) -> bool:
    if concept is None:
        return False
    return (
        concept.text == PROGRESS_NOTE
        or PROGRESS_NOTE in _codes(concept, OBSERVATION)
        or LOINC_PROGRESS_NOTE in _codes(concept, LOINC)
    )


def _decimal_text(value: Decimal | None, ext: FHIRPrimitiveExtension | None) -> str | None:
    """A FHIR decimal as the episode's decimal string, trailing zeros restored from quantity-precision."""
    if value is None:
        return None
    precision = _extension(ext.extension if ext else None, PRECISION)
    return _with_places(value, precision.valueInteger if precision is not None else None)


def _with_places(value: Decimal, places: int | None) -> str:
    if places is None or places < 0:
        return str(value)
    try:
        return str(value.quantize(Decimal(1).scaleb(-places)))
    except InvalidOperation:  # more digits than Decimal's context holds: keep what was written
        return str(value)


def _integral(value: Decimal | None) -> int | str | None:
    # A whole count stays an int; anything else goes on as text so the episode rejects it by name.
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else str(value)


def _some(**values: Any) -> dict[str, Any]:
    """Only the values that are there: a missing required one is then reported as missing."""
    return {k: v for k, v in values.items() if v is not None}


def _stamp_text(value: object) -> str | None:
    """A FHIR dateTime as episode text, its UTC offset kept as written."""
    if value is None:
        return None
    return value.isoformat() if isinstance(value, date) else str(value)


# Fields whose value an error may quote: codes, ids and dates of service, never personal text.
_QUOTABLE = {
    "id", "order_id", "code", "codes", "hcpcs", "ndc", "unit", "amount_unit", "mode", "type", "route",
    "device", "site", "category", "credential", "relationship", "payer_id", "npi", "timezone", "at",
    "start", "end", "date", "signed_at", "discontinued_at", "quantity", "amount", "administered_amount",
    "units", "rate", "drug", "duration_minutes", "number", "episode_id", "single_dose",
}  # fmt: skip

# Episode fields by the FHIR element that carries them, so an error points into the bundle.
_PERSON_FIELDS = {
    "first_name": "name.given", "last_name": "name.family", "birth_date": "birthDate", "sex": "gender",
    "address": "address", "line1": "address.line", "line2": "address.line", "city": "address.city",
    "state": "address.state", "zip": "address.postalCode",
}  # fmt: skip
_FHIR_FIELDS: dict[str, dict[str, str]] = {
    "patient": _PERSON_FIELDS | {"id": "identifier", "timezone": "extension(tz-code)"},
    "coverage.subscriber": _PERSON_FIELDS,
    "coverage": {
        "payer_id": "payor", "member_id": "subscriberId", "group_number": "class.value",
        "relationship": "relationship", "subscriber": "subscriber",
        "prior_authorization": "extension(prior-authorization)",
        "number": "extension(prior-authorization).number",
        "start": "extension(prior-authorization).start", "end": "extension(prior-authorization).end",
        "units": "extension(prior-authorization).units", "codes": "extension(prior-authorization).code",
    },
    "prescriber": {"npi": "identifier", "first_name": "name.given", "last_name": "name.family"},
    "episode": {
        "episode_id": "identifier", "discontinued_at": "period.end", "category": "type.text",
        "device": "extension(therapy-device)", "route": "extension(therapy-route)",
        "site": "extension(therapy-site)",
    },
    "concurrent_therapies": {
        "id": "extension(concurrent-therapy).id", "code": "extension(concurrent-therapy).code",
        "start": "extension(concurrent-therapy).start", "end": "extension(concurrent-therapy).end",
        "rate": "extension(concurrent-therapy).rate",
    },
    "orders": {
        "id": "identifier", "signed_at": "authoredOn", "drug": "medicationCodeableConcept",
        "start": "dosageInstruction.timing.repeat.boundsPeriod.start",
        "end": "dosageInstruction.timing.repeat.boundsPeriod.end", "dose": "dosageInstruction.text",
        "rate": "dosageInstruction.doseAndRate.rateQuantity", "mode": "extension(infusion-mode)",
    },
    "adjustments": {
        "id": "identifier", "at": "authoredOn", "order_id": "priorPrescription",
        "rate": "dosageInstruction.doseAndRate.rateQuantity", "reason": "reasonCode.text",
    },
    "pump_events": {
        "id": "identifier", "at": "effectivePeriod", "type": "extension(pump-event)",
        "rate": "dosage.rateQuantity",
    },
    "holds": {"id": "identifier", "start": "period.start", "end": "period.end", "reason": "type.text"},
    "nursing_visits": {
        "id": "identifier", "date": "extension(visit-date)", "start": "period.start", "end": "period.end",
        "duration_minutes": "length", "credential": "participant.type.text",
        "note": "DocumentReference.content.attachment",
    },
    "progress_notes": {
        "id": "identifier", "date": "context.period.start", "author": "author.display",
        "text": "content.attachment.data",
    },
    "dispenses": {
        "id": "identifier", "date": "whenHandedOver", "drug": "medicationCodeableConcept",
        "ndc": "medicationCodeableConcept", "quantity": "quantity.value", "unit": "quantity.code",
        "amount": "extension(dispensed-amount)", "amount_unit": "extension(dispensed-amount).code",
        "administered_amount": "extension(administered-amount)", "single_dose": "extension(single-dose)",
        "rx_number": "identifier",
    },
    "supplies": {
        "id": "identifier", "date": "occurrenceDateTime",
        "description": "suppliedItem.itemCodeableConcept.text",
        "hcpcs": "suppliedItem.itemCodeableConcept.coding", "quantity": "suppliedItem.quantity",
    },
    "medical_necessity": {
        "continuous_infusion_indicated": "component(continuous-infusion-indicated)",
        "alternatives_tried": "component(alternative-tried)",
        "alternatives_outcome": "component(alternatives-outcome)",
    },
}  # fmt: skip
_EPISODE_FIELDS = {"episode_id", "therapy", "discontinued_at", "category", "device", "route", "site"}

# Top-level elements each mapped resource type reads; anything else present is reported.
_COMMON = {"resourceType", "id", "meta", "text", "language"}
_READS: dict[str, set[str]] = {
    "Patient": {"identifier", "extension", "name", "gender", "birthDate", "address"},
    "RelatedPerson": {"patient", "name", "gender", "birthDate", "address"},
    "Organization": {"identifier", "name"},
    "Coverage": {
        "status", "extension", "subscriber", "subscriberId", "beneficiary", "relationship", "payor", "class",
    },
    "Practitioner": {"identifier", "name"},
    "EpisodeOfCare": {"identifier", "extension", "status", "type", "patient", "period"},
    "Condition": {"code", "subject"},
    "Observation": {
        "status", "code", "subject", "valueString", "component", "effectiveDateTime", "performer",
    },
    "MedicationRequest": {
        "identifier", "extension", "status", "intent", "medicationCodeableConcept", "subject", "authoredOn",
        "requester", "reasonCode", "dosageInstruction", "priorPrescription",
    },
    "MedicationAdministration": {
        "identifier", "extension", "status", "medicationCodeableConcept", "subject", "context",
        "effectivePeriod", "effectiveDateTime", "request", "dosage",
    },
    "Encounter": {
        "identifier", "extension", "status", "class", "type", "subject", "episodeOfCare", "participant",
        "period", "length",
    },
    "DocumentReference": {"identifier", "status", "type", "subject", "author", "content", "context", "date"},
    "MedicationDispense": {
        "identifier", "extension", "status", "medicationCodeableConcept", "subject", "quantity",
        "whenHandedOver",
    },
    "SupplyDelivery": {
        "identifier", "status", "patient", "suppliedItem", "occurrenceDateTime", "occurrencePeriod",
    },
}  # fmt: skip
_KNOWN_EXTENSIONS: dict[str, set[str]] = {
    "Patient": {TZ_CODE},
    "Coverage": {X_PRIOR_AUTH},
    "EpisodeOfCare": {X_DEVICE, X_ROUTE, X_SITE, X_CONCURRENT},
    "MedicationRequest": {X_MODE},
    "MedicationAdministration": {X_PUMP_EVENT, X_PUMP_END, X_STOP_ID},
    "Encounter": {X_VISIT_DATE},
    "MedicationDispense": {X_AMOUNT, X_ADMINISTERED, X_SINGLE_DOSE},
}


@dataclass
class _Reader:
    """Reads the validated bundle into an episode dict, noting whatever it cannot map."""

    file: str
    entries: list[_Entry]
    found: list[tuple[int, str]] = field(default_factory=list)  # (entry index, note)
    # Episode record path ("orders[2]", "coverage.subscriber") -> the entry it came from.
    where: dict[str, str] = field(default_factory=dict)
    zone: ZoneInfo | None = None
    by_ref: dict[str, _Entry] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for entry in self.entries:
            if entry.url:
                self.by_ref[entry.url] = entry
            if entry.resource.id:
                self.by_ref[f"{entry.kind}/{entry.resource.id}"] = entry

    # --- helpers ---

    def note(self, entry: _Entry, text: str) -> None:
        self.found.append((entry.index, f"{entry.label}: {text}"))

    @property
    def notes(self) -> list[str]:
        """The notes in bundle order, so a biller can walk the file alongside them."""
        return [text for _, text in sorted(self.found, key=lambda item: item[0])]

    def fail(self, entry: _Entry | None, field_name: str | None, problem: str) -> InputError:
        return InputError(self.file, entry.label if entry else None, field_name, problem)

    def of(self, kind: type[Resource]) -> list[_Entry]:
        return [e for e in self.entries if isinstance(e.resource, kind) and not e.used]

    def resolve(self, ref: Reference | None) -> _Entry | None:
        if ref is None or not ref.reference:
            return None
        return self.by_ref.get(ref.reference)

    def use(self, entry: _Entry, path: str | None = None) -> None:
        entry.used = True
        if path is not None:
            self.where[path] = entry.label
        self.check_elements(entry)

    def check_elements(self, entry: _Entry) -> None:
        if "modifierExtension" in entry.raw:
            # FHIR: a modifier extension that is not understood changes the meaning; refuse it.
            raise self.fail(
                entry, "modifierExtension", "carries a modifier extension that hitclaims does not understand"
            )
        ignored = sorted(set(entry.raw) - _COMMON - _READS.get(entry.kind, set()))
        if ignored:
            self.note(entry, f"element(s) {', '.join(ignored)} not mapped; ignored.")
        known = _KNOWN_EXTENSIONS.get(entry.kind, set())
        self.unknown_extensions(entry, getattr(entry.resource, "extension", None), known)

    def unknown_extensions(
        self, entry: _Entry, found: Sequence[Extension] | None, known: set[str], where: str = ""
    ) -> None:
        for ext in found or []:
            if ext.url not in known:
                self.note(entry, f"extension {ext.url}{where} is not mapped; ignored.")

    def day(self, value: object) -> str | None:
        """A FHIR date or dateTime as a calendar date; a timestamp is read in the patient's zone."""
        if isinstance(value, datetime):
            return (value.astimezone(self.zone) if self.zone else value).date().isoformat()
        return _stamp_text(value)

    def record_id(self, entry: _Entry) -> str | None:
        return _identifier(getattr(entry.resource, "identifier", None), RECORD_ID)

    def first(self, kind: type[Resource], essential: str) -> _Entry:
        found = self.of(kind)
        live = [e for e in found if not self.skipped(e)]
        if not live:
            raise self.fail(None, kind.__name__, f"the bundle has no {essential}")
        for extra in live[1:]:
            self.note(extra, f"a second {extra.kind}; only {live[0].label} is used, this one is ignored.")
            extra.used = True
        return live[0]

    def skipped(self, entry: _Entry) -> bool:
        status = getattr(entry.resource, "status", None)
        if status == "entered-in-error":
            if not entry.used:
                self.note(entry, "status entered-in-error; ignored.")
            entry.used = True
            return True
        return False

    def live(self, kind: type[Resource]) -> list[_Entry]:
        return [e for e in self.of(kind) if not self.skipped(e)]

    # --- the episode ---

    def episode_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"patient": self.patient()}
        data |= self.episode_of_care()
        data["coverage"] = self.coverage()
        orders, adjustments = self.medication_requests()
        data["prescriber"] = self.prescriber(orders)
        data["diagnoses"] = self.diagnoses()
        data |= self.observations()
        data["orders"] = [self.order(e, i) for i, e in enumerate(orders)]
        data["adjustments"] = [self.adjustment(e, i, orders) for i, e in enumerate(adjustments)]
        data["pump_events"] = self.pump_events()
        data["holds"], data["nursing_visits"] = self.encounters()
        data["progress_notes"] = self.progress_notes()
        data["dispenses"] = [self.dispense(e, i) for i, e in enumerate(self.live(MedicationDispense))]
        data["supplies"] = [self.supply(e, i) for i, e in enumerate(self.live(SupplyDelivery))]
        for entry in self.entries:
            if not entry.used and not self.skipped(entry):
                text = (
                    "not mapped to any episode record; ignored."
                    if entry.kind in _READS
                    else f"resource type {entry.kind} is not mapped to an episode; ignored."
                )
                self.note(entry, text)
        return data

    def episode(self, data: dict[str, Any], catalog: Catalog) -> Episode:
        try:
            episode = Episode.model_validate_json(json.dumps(data))
        except ValidationError as exc:
            error = validation_error(self.file, exc, data)
            raise self.locate(error.record, error.field, error.problem, error.more) from None
        problems: list[Problem] = episode_problems(episode) + catalog_problems(episode, catalog)
        if problems:
            first = problems[0]
            raise self.locate(first.record, first.field, first.problem, len(problems) - 1)
        return episode

    def locate(self, record: str | None, field_name: str | None, problem: str, more: int) -> InputError:
        """An episode-level error re-addressed to the bundle entry and FHIR element it came from."""
        path = re.sub(r" \(.*\)$", "", record) if record else (field_name or "")
        if path.split(".")[0] in _EPISODE_FIELDS or path.startswith("therapy"):
            path = "episode"
        label = None
        candidate = path
        while candidate:
            if candidate in self.where:
                label = self.where[candidate]
                break
            candidate = re.sub(r"(\.[a-z_]+|\[\d+\])$", "", candidate)
        section = re.sub(r"\[\d+\].*$", "", candidate or path)
        if section.startswith("coverage.") and section != "coverage.subscriber":
            section = "coverage"
        fhir_field = _FHIR_FIELDS.get(section, {}).get(field_name or "", field_name)
        if field_name not in _QUOTABLE:
            problem = re.sub(r" \(got .*\)$", "", problem)
        return InputError(self.file, label or record, fhir_field, problem, more)

    # --- people, coverage, episode ---

    def person(self, entry: _Entry, res: FhirPatient | RelatedPerson) -> dict[str, Any]:
        names, addresses = res.name or [], res.address or []
        if len(names) > 1:
            self.note(entry, "only the first name is used; the others are ignored.")
        if len(addresses) > 1:
            self.note(entry, "only the first address is used; the others are ignored.")
        name = names[0] if names else None
        sex = _SEX.get(res.gender or "")
        if res.gender == "other":
            self.note(entry, "gender 'other' has no episode code; read as U (unknown).")
            sex = "U"
        person = _some(
            first_name=" ".join(g for g in name.given or [] if g) or None if name else None,
            last_name=name.family if name else None,
            birth_date=_stamp_text(res.birthDate),
            sex=sex,
        )
        if addresses:
            address = addresses[0]
            lines = address.line or []
            if len(lines) > 2:
                self.note(entry, "address lines after the second are ignored.")
            person["address"] = _some(
                line1=lines[0] if lines else None,
                line2=lines[1] if len(lines) > 1 else None,
                city=address.city,
                state=address.state,
                zip=address.postalCode,
            )
        return person

    def patient(self) -> dict[str, Any]:
        entry = self.first(FhirPatient, "Patient")
        res = entry.resource
        assert isinstance(res, FhirPatient)
        self.use(entry, "patient")
        tz = _extension(res.extension, TZ_CODE)
        timezone = tz.valueCode if tz else None
        try:
            self.zone = ZoneInfo(timezone) if timezone else None
        except (ZoneInfoNotFoundError, ValueError):
            self.zone = None  # the episode's own check reports the zone by name
        # Not any identifier: a patient's may be a social security number.
        patient_id = _identifier(res.identifier, PATIENT_ID) or res.id
        return _some(id=patient_id, timezone=timezone) | self.person(entry, res)

    def episode_of_care(self) -> dict[str, Any]:
        entry = self.first(EpisodeOfCare, "EpisodeOfCare")
        res = entry.resource
        assert isinstance(res, EpisodeOfCare)
        self.use(entry, "episode")
        self.where["concurrent_therapies"] = entry.label
        episode_id = _identifier(res.identifier, EPISODE_ID) or next(
            (i.value for i in res.identifier or [] if i.value), None
        )
        if episode_id is None:
            raise self.fail(
                entry, "identifier", f"has no episode id (an identifier with system {EPISODE_ID})"
            )
        device, route, site = (_extension(res.extension, url) for url in (X_DEVICE, X_ROUTE, X_SITE))
        types = res.type or []
        therapy = _some(
            category=types[0].text if types else None,
            device=device.valueCode if device else None,
            route=route.valueCode if route else None,
            site=site.valueCode if site else None,
        )
        concurrent = [
            self.concurrent(entry, ext, i) for i, ext in enumerate(_extensions(res.extension, X_CONCURRENT))
        ]
        end = res.period.end if res.period else None
        return {
            "episode_id": episode_id,
            "therapy": therapy,
            "discontinued_at": _stamp_text(end),
            "concurrent_therapies": concurrent,
        }

    def concurrent(self, entry: _Entry, ext: Extension, index: int) -> dict[str, Any]:
        self.where[f"concurrent_therapies[{index}]"] = entry.label
        parts = {p.url: p for p in ext.extension or []}
        self.unknown_extensions(
            entry, ext.extension, {"id", "code", "start", "end", "rate"}, f" in {X_CONCURRENT}"
        )
        return _some(
            id=parts["id"].valueString if "id" in parts else None,
            code=parts["code"].valueCode if "code" in parts else None,
            start=_stamp_text(parts["start"].valueDate) if "start" in parts else None,
            end=_stamp_text(parts["end"].valueDate) if "end" in parts else None,
            rate=parts["rate"].valueString if "rate" in parts else None,
        )

    def coverage(self) -> dict[str, Any]:
        entry = self.first(FhirCoverage, "Coverage")
        res = entry.resource
        assert isinstance(res, FhirCoverage)
        self.use(entry, "coverage")
        relationship = next(iter(_codes(res.relationship, RELATIONSHIP)), None)
        if relationship not in (None, "self", "spouse", "child", "other"):
            self.note(entry, f"relationship {relationship!r} has no episode code; read as 'other'.")
            relationship = "other"
        group = next(
            (c.value for c in res.class_fhir or [] if "group" in _codes(c.type, COVERAGE_CLASS) and c.value),
            None,
        )
        authorizations = [self.authorization(entry, ext) for ext in _extensions(res.extension, X_PRIOR_AUTH)]
        return _some(
            payer_id=self.payer_id(entry, res),
            member_id=res.subscriberId,
            group_number=group,
            relationship=relationship,
            subscriber=self.subscriber(res.subscriber),
            prior_authorization=authorizations[0] if len(authorizations) == 1 else (authorizations or None),
        )

    def payer_id(self, entry: _Entry, res: FhirCoverage) -> str:
        for ref in res.payor:
            target = self.resolve(ref)
            if target is not None and isinstance(target.resource, Organization):
                self.use(target)
                found = _identifier(target.resource.identifier, PAYER_ID)
            else:
                found = ref.identifier.value if ref.identifier and ref.identifier.system == PAYER_ID else None
            if found:
                return found
        raise self.fail(
            entry, "payor", f"names no payer (an Organization with an identifier of system {PAYER_ID})"
        )

    def subscriber(self, ref: Reference | None) -> dict[str, Any] | None:
        target = self.resolve(ref)
        if target is None or not isinstance(target.resource, RelatedPerson):
            return None  # the patient is the subscriber
        self.use(target, "coverage.subscriber")
        return self.person(target, target.resource)

    def authorization(self, entry: _Entry, ext: Extension) -> dict[str, Any]:
        known = {"number", "start", "end", "units", "code"}
        self.unknown_extensions(entry, ext.extension, known, f" in {X_PRIOR_AUTH}")
        parts = {p.url: p for p in ext.extension or []}
        return _some(
            number=parts["number"].valueString if "number" in parts else None,
            start=_stamp_text(parts["start"].valueDate) if "start" in parts else None,
            end=_stamp_text(parts["end"].valueDate) if "end" in parts else None,
            units=parts["units"].valueUnsignedInt if "units" in parts else None,
            codes=[p.valueCode for p in _extensions(ext.extension, "code")],
        )

    def prescriber(self, orders: Sequence[_Entry]) -> dict[str, Any]:
        requesters = [self.resolve(getattr(e.resource, "requester", None)) for e in orders]
        chosen = next((e for e in requesters if e is not None and isinstance(e.resource, Practitioner)), None)
        entry = chosen or self.first(Practitioner, "Practitioner (the prescriber)")
        res = entry.resource
        assert isinstance(res, Practitioner)
        self.use(entry, "prescriber")
        name = res.name[0] if res.name else None
        return _some(
            npi=_identifier(res.identifier, NPI),
            first_name=" ".join(g for g in name.given or [] if g) or None if name else None,
            last_name=name.family if name else None,
        )

    def diagnoses(self) -> list[str]:
        codes: list[str] = []
        for entry in self.live(Condition):
            res = entry.resource
            assert isinstance(res, Condition)
            found = _codes(res.code, ICD10CM)
            if not found:
                self.note(entry, f"has no ICD-10-CM code (system {ICD10CM}); not used as a diagnosis.")
                entry.used = True
                continue
            if len(found) > 1:
                self.note(entry, "only the first ICD-10-CM code is used; the others are ignored.")
            self.use(entry, f"diagnoses[{len(codes)}]")
            codes.append(found[0])
        if not codes:
            raise self.fail(
                None, "Condition", f"the bundle has no Condition with an ICD-10-CM code (system {ICD10CM})"
            )
        return codes

    # --- observations and notes ---

    def observations(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for entry in self.live(Observation):
            res = entry.resource
            assert isinstance(res, Observation)
            code = next(iter(_codes(res.code, OBSERVATION)), None)
            key = {"medical-history": "medical_history", "home-infusion-reason": "home_infusion_reason"}.get(
                code or ""
            )
            if key is None and code != "medical-necessity":
                continue  # progress notes and unmapped observations are handled later
            key = key or "medical_necessity"
            if key in data:
                self.note(entry, f"a second {code} Observation; ignored.")
                entry.used = True
                continue
            self.use(entry, key)
            data[key] = self.necessity(entry, res) if key == "medical_necessity" else (res.valueString or "")
        return data

    def necessity(self, entry: _Entry, res: Observation) -> dict[str, Any]:
        indicated: bool | None = None
        tried: list[str] = []
        outcome: str | None = None
        for component in res.component or []:
            code = next(iter(_codes(component.code, OBSERVATION)), None)
            if code == "continuous-infusion-indicated":
                indicated = component.valueBoolean
            elif code == "alternative-tried" and component.valueString:
                tried.append(component.valueString)
            elif code == "alternatives-outcome":
                outcome = component.valueString
            else:
                self.note(entry, "a component that is not part of medical necessity; ignored.")
        return _some(
            continuous_infusion_indicated=indicated, alternatives_tried=tried, alternatives_outcome=outcome
        )

    def progress_notes(self) -> list[dict[str, Any]]:
        notes: list[dict[str, Any]] = []
        for entry in self.live(Resource):
            res = entry.resource
            note = None
            if isinstance(res, DocumentReference) and _is_progress_note(res.type):
                note = self.document_note(entry, res)
            elif isinstance(res, Observation) and _is_progress_note(res.code):
                performer = res.performer[0].display if res.performer else None
                note = _some(
                    date=self.day(res.effectiveDateTime), author=performer, text=res.valueString or ""
                )
            if note is not None:
                self.use(entry, f"progress_notes[{len(notes)}]")
                notes.append(_some(id=self.record_id(entry)) | note)
        return notes

    def document_note(self, entry: _Entry, res: DocumentReference) -> dict[str, Any] | None:
        text = self.attachment_text(entry, res)
        if text is None:
            return None
        period = res.context.period if res.context else None
        day = self.day(period.start) if period and period.start else self.day(res.date)
        author = res.author[0].display if res.author else None
        return _some(date=day, author=author, text=text)

    def attachment_text(self, entry: _Entry, res: DocumentReference) -> str | None:
        if len(res.content) > 1:
            self.note(entry, "only the first content attachment is used; the others are ignored.")
        attachment = res.content[0].attachment
        if attachment.data is None:
            if attachment.size == 0:
                return ""
            self.note(entry, "the document has no inline text (data); not used.")
            entry.used = True
            return None
        if (attachment.contentType or "text/plain").split(";")[0].strip() != "text/plain":
            self.note(entry, f"content type {attachment.contentType} is not plain text; not used.")
            entry.used = True
            return None
        try:
            return bytes(attachment.data).decode("utf-8")
        except (UnicodeDecodeError, binascii.Error):
            raise self.fail(entry, "content.attachment.data", "is not UTF-8 text") from None

    # --- orders, adjustments, pump ---

    def medication_requests(self) -> tuple[list[_Entry], list[_Entry]]:
        orders: list[_Entry] = []
        adjustments: list[_Entry] = []
        for entry in self.live(MedicationRequest):
            res = entry.resource
            assert isinstance(res, MedicationRequest)
            if res.intent in ("proposal", "plan"):
                self.note(entry, f"intent {res.intent} is not a signed order; ignored.")
                entry.used = True
                continue
            (adjustments if res.priorPrescription is not None else orders).append(entry)
        return orders, adjustments

    def dosage(self, entry: _Entry, res: MedicationRequest) -> Dosage | None:
        dosages = res.dosageInstruction or []
        if len(dosages) > 1:
            self.note(entry, "only the first dosageInstruction is used; the others are ignored.")
        return dosages[0] if dosages else None

    def rate(self, entry: _Entry, dosage: Dosage | MedicationAdministrationDosage | None) -> str | None:
        """A rate from a dosage: its words when stated, else its rateQuantity."""
        if dosage is None:
            return None
        self.unknown_extensions(entry, dosage.extension, {X_RATE_TEXT}, " in the dosage")
        text = _extension(dosage.extension, X_RATE_TEXT)
        if text is not None and text.valueString:
            return str(text.valueString)
        quantity: Quantity | None = getattr(dosage, "rateQuantity", None)
        for dose_and_rate in getattr(dosage, "doseAndRate", None) or []:
            quantity = quantity or dose_and_rate.rateQuantity
            if dose_and_rate.rateRatio is not None or dose_and_rate.rateRange is not None:
                self.note(entry, "a rate given as a ratio or range is not mapped; ignored.")
        if getattr(dosage, "rateRatio", None) is not None:
            self.note(entry, "a rate given as a ratio is not mapped; ignored.")
        if quantity is None or quantity.value is None:
            return None
        value = _decimal_text(quantity.value, quantity.value__ext)
        unit = quantity.unit or quantity.code
        return f"{value} {unit}" if unit else value

    def order(self, entry: _Entry, index: int) -> dict[str, Any]:
        res = entry.resource
        assert isinstance(res, MedicationRequest)
        self.use(entry, f"orders[{index}]")
        dosage = self.dosage(entry, res)
        repeat = dosage.timing.repeat if dosage and dosage.timing else None
        bounds = repeat.boundsPeriod if repeat else None
        mode = _extension(res.extension, X_MODE)
        return _some(
            id=self.record_id(entry) or res.id,
            signed_at=_stamp_text(res.authoredOn),
            start=self.day(bounds.start) if bounds else None,
            end=self.day(bounds.end) if bounds else None,
            drug=self.drugs(entry, res.medicationCodeableConcept, res.medicationReference),
            dose=dosage.text if dosage else None,
            rate=self.rate(entry, dosage),
            mode=mode.valueCode if mode else None,
        )

    def drugs(
        self, entry: _Entry, concept: CodeableConcept | None, reference: Reference | None
    ) -> str | list[str] | None:
        keys = _codes(concept, DRUG_KEY)
        if not keys and (reference is not None or (concept and concept.coding)):
            self.note(
                entry, f"the medication has no drug-key coding (system {DRUG_KEY}); the drug is left empty."
            )
        return keys[0] if len(keys) == 1 else (keys or None)

    def adjustment(self, entry: _Entry, index: int, orders: Sequence[_Entry]) -> dict[str, Any]:
        res = entry.resource
        assert isinstance(res, MedicationRequest)
        self.use(entry, f"adjustments[{index}]")
        target = self.order_of(entry, orders)
        order_id = self.record_id(target) or target.resource.id
        reasons = res.reasonCode or []
        return _some(
            id=self.record_id(entry),
            at=_stamp_text(res.authoredOn),
            order_id=order_id,
            rate=self.rate(entry, self.dosage(entry, res)),
            reason=reasons[0].text if reasons else None,
        )

    def order_of(self, entry: _Entry, orders: Sequence[_Entry]) -> _Entry:
        """The order an adjustment changes, following a chain of adjustments back to it."""
        seen: set[int] = set()
        current = entry
        while current not in orders and current.index not in seen:
            seen.add(current.index)
            res = current.resource
            target = self.resolve(res.priorPrescription) if isinstance(res, MedicationRequest) else None
            if target is None or not isinstance(target.resource, MedicationRequest):
                break
            current = target
        if current not in orders:
            raise self.fail(
                entry, "priorPrescription", "does not lead to an order (a MedicationRequest) in this bundle"
            )
        return current

    def pump_events(self) -> list[dict[str, Any]]:
        events: list[tuple[object, dict[str, Any]]] = []
        for entry in self.live(MedicationAdministration):
            res = entry.resource
            assert isinstance(res, MedicationAdministration)
            events += self.administration(entry, res)
        moments = [at for at, _ in events]
        if all(isinstance(at, datetime) and at.tzinfo for at in moments):
            # Time order, stops first at one instant, as the engine reads the log.
            events.sort(key=lambda item: (item[0], _EVENT_ORDER.get(item[1]["type"], 9)))
        result = [event for _, event in events]
        for i, (_, event) in enumerate(events):
            self.where[f"pump_events[{i}]"] = event.pop("_label")
        return result

    def administration(
        self, entry: _Entry, res: MedicationAdministration
    ) -> list[tuple[object, dict[str, Any]]]:
        """An administration as pump events: its start (with the rate) and, when it ended, a stop.

        Our own extensions say which log event each end was; without them an administration is
        a run from start to stop, and one that is not a run (not done, on hold, an instant) is
        noted and left out.
        """
        kind = _extension(res.extension, X_PUMP_EVENT)
        end_kind = _extension(res.extension, X_PUMP_END)
        period = res.effectivePeriod
        begin = period.start if period else res.effectiveDateTime if kind is not None else None
        if kind is None and res.status in ("not-done", "on-hold"):
            return self.not_a_run(entry, f"status {res.status} is not a pump run; ignored.")
        if begin is None:
            return self.not_a_run(entry, "has no effectivePeriod start, so it is not a pump run; ignored.")
        self.use(entry)
        start = _some(
            id=self.record_id(entry),
            at=_stamp_text(begin),
            type=kind.valueCode if kind else "start",
            rate=self.rate(entry, res.dosage),
            _label=entry.label,
        )
        events: list[tuple[object, dict[str, Any]]] = [(begin, start)]
        if period is None:
            return events
        if period.end is not None and (end_kind is None or end_kind.valueCode == "stop"):
            stop_id = _extension(res.extension, X_STOP_ID)
            stop = _some(id=stop_id.valueString if stop_id else None, at=_stamp_text(period.end), type="stop")
            events.append((period.end, stop | {"_label": entry.label}))
        return events

    def not_a_run(self, entry: _Entry, text: str) -> list[tuple[object, dict[str, Any]]]:
        self.note(entry, text)
        entry.used = True
        return []

    # --- encounters ---

    def encounters(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        holds: list[dict[str, Any]] = []
        visits: list[dict[str, Any]] = []
        for entry in self.live(Encounter):
            res = entry.resource
            assert isinstance(res, Encounter)
            code = res.class_fhir.code
            if code in _HOLD_CLASSES:
                self.use(entry, f"holds[{len(holds)}]")
                holds.append(self.hold(entry, res))
            elif code == "HH":
                self.use(entry, f"nursing_visits[{len(visits)}]")
                visits.append(self.visit(entry, res))
        return holds, visits

    def hold(self, entry: _Entry, res: Encounter) -> dict[str, Any]:
        types = res.type or []
        reason = types[0].text if types else None
        if reason not in _HOLD_REASONS:
            self.note(
                entry,
                "the hold reason (type.text) is not inpatient, skilled_nursing, hospice or other;"
                " read as other.",
            )
            reason = "other"
        period = res.period
        return _some(
            id=self.record_id(entry),
            start=_stamp_text(period.start) if period else None,
            end=_stamp_text(period.end) if period else None,
            reason=reason,
        )

    def visit(self, entry: _Entry, res: Encounter) -> dict[str, Any]:
        period = res.period
        start = period.start if period else None
        stated = _extension(res.extension, X_VISIT_DATE)
        types = [t for p in res.participant or [] for t in p.type or []]
        credential = types[0].text if types else None
        return _some(
            id=self.record_id(entry),
            date=_stamp_text(stated.valueDate) if stated else self.day(start),
            start=_stamp_text(start),
            end=_stamp_text(period.end) if period else None,
            duration_minutes=self.minutes(entry, res.length),
            credential=credential,
            note=self.visit_note(entry),
        )

    def minutes(self, entry: _Entry, length: Quantity | None) -> int | str | None:
        if length is None or length.value is None:
            return None
        unit = length.code or length.unit or "min"
        factor = {"min": 1, "h": 60}.get(unit)
        if factor is None:
            self.note(entry, f"length unit {unit!r} is not minutes or hours; length ignored.")
            return None
        return _integral(length.value * factor)

    def visit_note(self, visit: _Entry) -> str | None:
        text: str | None = None
        for entry in self.live(DocumentReference):
            res = entry.resource
            assert isinstance(res, DocumentReference)
            encounters = res.context.encounter or [] if res.context else []
            if not any(self.resolve(ref) is visit for ref in encounters):
                continue
            if text is not None:
                self.note(entry, f"a second note for {visit.label}; ignored.")
                entry.used = True
                continue
            text = self.attachment_text(entry, res)
            if text is not None:
                self.use(entry)
        return text

    # --- dispenses and supplies ---

    def dispense(self, entry: _Entry, index: int) -> dict[str, Any]:
        res = entry.resource
        assert isinstance(res, MedicationDispense)
        self.use(entry, f"dispenses[{index}]")
        ndc = next(iter(_codes(res.medicationCodeableConcept, NDC)), None)
        if ndc is None:
            raise self.fail(entry, "medicationCodeableConcept", f"has no NDC (a coding with system {NDC})")
        drug = next(iter(_codes(res.medicationCodeableConcept, DRUG_KEY)), None)
        if drug is None:
            raise self.fail(
                entry, "medicationCodeableConcept", f"has no drug key (a coding with system {DRUG_KEY})"
            )
        quantity = res.quantity
        amount = self.mass(entry, _extension(res.extension, X_AMOUNT))
        administered = self.mass(entry, _extension(res.extension, X_ADMINISTERED))
        single = _extension(res.extension, X_SINGLE_DOSE)
        return _some(
            id=self.record_id(entry),
            date=self.day(res.whenHandedOver),
            drug=drug,
            ndc=ndc,
            quantity=_decimal_text(quantity.value, quantity.value__ext) if quantity else None,
            unit=self.ndc_unit(quantity),
            amount=amount[0] if amount else None,
            amount_unit=amount[1] if amount else None,
            administered_amount=administered[0] if administered else None,
            single_dose=single.valueBoolean if single else None,
            rx_number=_identifier(res.identifier, RX_NUMBER),
        )

    @staticmethod
    def ndc_unit(quantity: Quantity | None) -> str | None:
        if quantity is None:
            return None
        for unit in (quantity.code, quantity.unit):
            if unit in _NDC_UNITS:
                return unit
            if unit in _UCUM_NDC_UNIT:
                return _UCUM_NDC_UNIT[unit]
        return quantity.code or quantity.unit

    @staticmethod
    def mass(entry: _Entry, ext: Extension | None) -> tuple[str | None, str | None] | None:
        if ext is None or ext.valueQuantity is None:
            return None
        quantity = ext.valueQuantity
        unit = quantity.code if quantity.system == UCUM else quantity.unit
        return _decimal_text(quantity.value, quantity.value__ext), _MASS_UNIT.get(unit or "", unit)

    def supply(self, entry: _Entry, index: int) -> dict[str, Any]:
        res = entry.resource
        assert isinstance(res, SupplyDelivery)
        self.use(entry, f"supplies[{index}]")
        item = res.suppliedItem
        concept = item.itemCodeableConcept if item else None
        when = res.occurrenceDateTime or (res.occurrencePeriod.start if res.occurrencePeriod else None)
        description = concept.text if concept else None
        if description is None and concept is not None:
            description = next((c.display for c in concept.coding or [] if c.display), None)
        return _some(
            id=self.record_id(entry),
            date=self.day(when),
            description=description,
            hcpcs=next(iter(_codes(concept, HCPCS)), None),
            quantity=_integral(item.quantity.value) if item and item.quantity else None,
        )
