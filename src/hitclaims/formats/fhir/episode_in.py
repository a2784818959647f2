"""FHIR R4 in for episodes: a Bundle (JSON text) becomes an Episode, plus notes on whatever
in it could not be mapped.

The bundle is parsed with `fhir.resources.R4B`, which checks structure and datatypes only; the
meaning of each element is ours (`episode_in_people`, `episode_in_records`). The episode it
gives still goes through the same validation as episode JSON (`Episode` in JSON mode,
`episode_problems`, `catalog_problems`), and each error is re-addressed to the bundle entry and
FHIR element it came from. Unusable input is always an InputError, never a crash.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.medicationdispense import MedicationDispense
from fhir.resources.R4B.supplydelivery import SupplyDelivery
from pydantic import ValidationError

from hitclaims.core.catalog import Catalog
from hitclaims.core.errors import InputError
from hitclaims.core.records import Episode, Problem, episode_problems
from hitclaims.formats.fhir.episode_in_people import (
    coverage,
    diagnoses,
    episode_of_care,
    observations,
    patient,
    prescriber,
)
from hitclaims.formats.fhir.episode_in_reader import READS, Entry, Reader, raw_label
from hitclaims.formats.fhir.episode_in_records import (
    adjustment,
    dispense,
    encounters,
    medication_requests,
    order,
    progress_notes,
    pump_events,
    supply,
)
from hitclaims.inputs.loading import catalog_problems, validation_error

__all__ = ["bundle_to_episode"]

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


def bundle_to_episode(file: str, text: str, catalog: Catalog) -> tuple[Episode, list[str]]:
    """A FHIR Bundle (JSON text) as an Episode, plus plain-sentence notes on everything in the
    bundle that could not be mapped (never dropped silently). Raises InputError for unusable
    content, naming the file, the record (e.g. "entry[3] MedicationRequest/O-1") and the field."""
    raw = _load_bundle(file, text)
    bundle = _validate_bundle(file, raw)
    entries = [
        Entry(i, e.fullUrl, e.resource, raw["entry"][i]["resource"])
        for i, e in enumerate(bundle.entry or [])
        if e.resource is not None
    ]
    reader = Reader(file, entries)
    data = _episode_dict(reader)
    return _episode(reader, data, catalog), reader.notes


def _load_bundle(file: str, text: str) -> dict[str, Any]:
    try:
        # parse_float=Decimal: "83.33" must reach the episode as 83.33, not as a binary float.
        raw = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise InputError(
            file, None, None, f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except ValueError:  # Python refuses to read an integer of more than 4,300 digits
        raise InputError(file, None, None, "not usable JSON: a number has too many digits") from None
    except RecursionError:
        raise InputError(file, None, None, "not usable JSON: nested too deeply") from None
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
            record = raw_label(loc[1], raw["entry"][loc[1]]["resource"])
            loc = loc[3:] if loc[2:3] == ["resource"] else loc[2:]
        # Only the message, never the input: the input may be a name or a birth date.
        message = str(errors[0]["msg"]).removeprefix("Value error, ")
        problem = "not valid FHIR R4: " + message[:1].lower() + message[1:]
        raise InputError(file, record, _path(loc) or None, problem, len(errors) - 1) from None
    except (KeyError, TypeError, ValueError, RecursionError) as exc:
        raise InputError(file, None, None, f"not a valid FHIR R4 Bundle ({type(exc).__name__})") from None


def _path(loc: Sequence[int | str]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _episode_dict(reader: Reader) -> dict[str, Any]:
    # The patient comes first: its time zone reads every later timestamp.
    data: dict[str, Any] = {"patient": patient(reader)}
    data |= episode_of_care(reader)
    data["coverage"] = coverage(reader)
    orders, adjustments = medication_requests(reader)
    data["prescriber"] = prescriber(reader, orders)
    data["diagnoses"] = diagnoses(reader)
    data |= observations(reader)
    data["orders"] = [order(reader, e, i) for i, e in enumerate(orders)]
    data["adjustments"] = [adjustment(reader, e, i, orders) for i, e in enumerate(adjustments)]
    data["pump_events"] = pump_events(reader)
    data["holds"], data["nursing_visits"] = encounters(reader)
    data["progress_notes"] = progress_notes(reader)
    data["dispenses"] = [dispense(reader, e, i) for i, e in enumerate(reader.live(MedicationDispense))]
    data["supplies"] = [supply(reader, e, i) for i, e in enumerate(reader.live(SupplyDelivery))]
    for entry in reader.entries:
        if not entry.used and not reader.skipped(entry):
            text = (
                "not mapped to any episode record; ignored."
                if entry.kind in READS
                else f"resource type {entry.kind} is not mapped to an episode; ignored."
            )
            reader.note(entry, text)
    return data


def _episode(reader: Reader, data: dict[str, Any], catalog: Catalog) -> Episode:
    try:
        episode = Episode.model_validate_json(json.dumps(data))
    except ValidationError as exc:
        error = validation_error(reader.file, exc, data)
        raise _locate(reader, error.record, error.field, error.problem, error.more) from None
    problems: list[Problem] = episode_problems(episode) + catalog_problems(episode, catalog)
    if problems:
        first = problems[0]
        raise _locate(reader, first.record, first.field, first.problem, len(problems) - 1)
    return episode


def _locate(
    reader: Reader, record: str | None, field_name: str | None, problem: str, more: int
) -> InputError:
    """An episode-level error re-addressed to the bundle entry and FHIR element it came from."""
    path = re.sub(r" \(.*\)$", "", record) if record else (field_name or "")
    if path.split(".")[0] in _EPISODE_FIELDS or path.startswith("therapy"):
        path = "episode"
    label = None
    candidate = path
    while candidate:
        if candidate in reader.where:
            label = reader.where[candidate]
            break
        candidate = re.sub(r"(\.[a-z_]+|\[\d+\])$", "", candidate)
    section = re.sub(r"\[\d+\].*$", "", candidate or path)
    if section.startswith("coverage.") and section != "coverage.subscriber":
        section = "coverage"
    fhir_field = _FHIR_FIELDS.get(section, {}).get(field_name or "", field_name)
    if field_name not in _QUOTABLE:
        problem = re.sub(r" \(got .*\)$", "", problem)
    return InputError(reader.file, label or record, fhir_field, problem, more)
