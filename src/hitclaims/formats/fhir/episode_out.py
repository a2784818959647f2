"""FHIR R4 out for episodes: an Episode as a Bundle of the resources that carry it.

Resources are built and checked with `fhir.resources.R4B`, whose elements match R4 4.0.1 for every
resource used here; the code systems are `systems`', and `episode_in` reads the bundle back.

What an export cannot carry (export has no notes channel, so it is stated here):
- pump `alarm` events: FHIR has no resource for a pump alarm, and alarms never change billing;
- the rate written on a `stop` event: the engine ignores it, and an administration's end has no
  place for it;
- a list of one drug or of one prior authorization comes back as the single value (same billing);
- decimals with more significant digits than a JSON number (a double) holds.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from hitclaims.core.records import (
    Adjustment,
    ConcurrentTherapy,
    Dispense,
    Episode,
    Hold,
    NursingVisit,
    Order,
    PriorAuthorization,
    ProgressNote,
    PumpEvent,
    Supply,
)
from hitclaims.formats.fhir import people
from hitclaims.formats.fhir.decimals import exact_number, number
from hitclaims.formats.fhir.systems import (
    ACT_CODE,
    COVERAGE_CLASS,
    DRUG_KEY,
    EPISODE_ID,
    HCPCS,
    ICD10CM,
    NDC,
    NDC_UNIT_SYSTEM,
    OBSERVATION,
    PROGRESS_NOTE,
    PUMP_EVENT_ORDER,
    RECORD_ID,
    RELATIONSHIP,
    RX_NUMBER,
    UCUM,
    UCUM_MASS,
    VISIT_NOTE,
    X_ADMINISTERED,
    X_AMOUNT,
    X_CONCURRENT,
    X_DEVICE,
    X_MODE,
    X_PRIOR_AUTH,
    X_PUMP_END,
    X_PUMP_EVENT,
    X_RATE_TEXT,
    X_ROUTE,
    X_SINGLE_DOSE,
    X_SITE,
    X_STOP_ID,
    X_VISIT_DATE,
)

__all__ = ["episode_to_bundle"]

_NAMESPACE = uuid.UUID("0b8f6f3e-5c1d-5e2a-9a47-1f6d2c3b4a59")
_RATE_PARTS = re.compile(r"(\d+(?:\.\d+)?) (\S+)")


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


def _rate_parts(rate: str | None) -> dict[str, Any]:
    """A rate as Dosage elements: a rateQuantity, plus the words when the quantity would lose them."""
    if rate is None:
        return {}
    match = _RATE_PARTS.fullmatch(rate)
    parts: dict[str, Any] = {}
    if match:
        parts["rateQuantity"] = {**number(Decimal(match[1])), "unit": match[2]}
    if not match or not exact_number(match[1]):
        parts["extension"] = [{"url": X_RATE_TEXT, "valueString": rate}]
    return parts


def _ids(record_id: str | None) -> list[dict[str, str]]:
    return [{"system": RECORD_ID, "value": record_id}] if record_id else []


def _ext(url: str, kind: str, value: Any) -> dict[str, Any]:
    return {"url": url, kind: value}


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
        (e for e in events if e.type != "alarm"),
        key=lambda e: (e.at.astimezone(UTC), PUMP_EVENT_ORDER[e.type]),
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
    """The bundle's entries in a fixed order, each keyed so that references resolve and repeat."""

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
        self.add("Patient", people.patient(ep.patient))
        if ep.coverage.subscriber is not None:
            subscriber = people.person(ep.coverage.subscriber)
            self.add(
                "RelatedPerson",
                {"resourceType": "RelatedPerson", "patient": self.ref("Patient")} | subscriber,
            )
        self.add("Organization", people.payer(ep.coverage.payer_id))
        self.add("Coverage", self.coverage())
        self.add("Practitioner", people.practitioner(ep.prescriber))
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
        mass = {"unit": dispense.amount_unit, "system": UCUM, "code": UCUM_MASS[dispense.amount_unit]}
        extensions = [_ext(X_AMOUNT, "valueQuantity", number(dispense.amount) | mass)]
        if dispense.administered_amount is not None:
            extensions.append(
                _ext(X_ADMINISTERED, "valueQuantity", number(dispense.administered_amount) | mass)
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
            "quantity": number(dispense.quantity)
            | {"unit": dispense.unit, "system": NDC_UNIT_SYSTEM, "code": dispense.unit},
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
