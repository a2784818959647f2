"""Reading the care given from a Bundle: orders and their adjustments, the pump log, holds,
nursing visits, progress notes, dispenses and supplies.

Each function takes the `Reader` and returns episode records as dicts, marking the entries it
used and noting what it could not map; the episode's own validation then checks the values.
"""

from __future__ import annotations

import binascii
from collections.abc import Sequence
from datetime import datetime
from decimal import DecimalException
from typing import Any

from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.dosage import Dosage
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.extension import Extension
from fhir.resources.R4B.medicationadministration import (
    MedicationAdministration,
    MedicationAdministrationDosage,
)
from fhir.resources.R4B.medicationdispense import MedicationDispense
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.quantity import Quantity
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.resource import Resource
from fhir.resources.R4B.supplydelivery import SupplyDelivery

from hitclaims.formats.fhir.decimals import decimal_text
from hitclaims.formats.fhir.episode_in_reader import (
    Entry,
    Reader,
    codes,
    date_text,
    extension,
    identifier,
    integral,
    is_progress_note,
    some,
)
from hitclaims.formats.fhir.systems import (
    DRUG_KEY,
    HCPCS,
    MASS_UNIT,
    NDC,
    NDC_UNIT_UCUM,
    PUMP_EVENT_ORDER,
    RX_NUMBER,
    UCUM,
    UCUM_NDC_UNIT,
    X_ADMINISTERED,
    X_AMOUNT,
    X_MODE,
    X_PUMP_END,
    X_PUMP_EVENT,
    X_RATE_TEXT,
    X_SINGLE_DOSE,
    X_STOP_ID,
    X_VISIT_DATE,
)

__all__ = [
    "adjustment",
    "dispense",
    "encounters",
    "medication_requests",
    "order",
    "progress_notes",
    "pump_events",
    "supply",
]

_HOLD_CLASSES = {"IMP", "ACUTE", "NONAC"}
_HOLD_REASONS = {"inpatient", "skilled_nursing", "hospice", "other"}
_MINUTES_PER = {"min": 1, "h": 60}
# A pump event as read: the instant (for ordering) and its episode record, labelled by its entry.
_Event = tuple[object, dict[str, Any]]


# --- notes --------------------------------------------------------------------------------------


def progress_notes(reader: Reader) -> list[dict[str, Any]]:
    """Progress notes, as DocumentReferences or as Observations, in bundle order."""
    notes: list[dict[str, Any]] = []
    for entry in reader.live(Resource):
        res = entry.resource
        note = None
        if isinstance(res, DocumentReference) and is_progress_note(res.type):
            note = _document_note(reader, entry, res)
        elif isinstance(res, Observation) and is_progress_note(res.code):
            performer = res.performer[0].display if res.performer else None
            day = reader.day(entry, "effectiveDateTime", res.effectiveDateTime)
            note = some(date=day, author=performer, text=res.valueString or "")
        if note is not None:
            reader.use(entry, f"progress_notes[{len(notes)}]")
            notes.append(some(id=reader.record_id(entry)) | note)
    return notes


def _document_note(reader: Reader, entry: Entry, res: DocumentReference) -> dict[str, Any] | None:
    text = _attachment_text(reader, entry, res)
    if text is None:
        return None
    period = res.context.period if res.context else None
    if period and period.start:
        day = reader.day(entry, "context.period.start", period.start)
    else:
        day = reader.day(entry, "date", res.date)
    author = res.author[0].display if res.author else None
    return some(date=day, author=author, text=text)


def _attachment_text(reader: Reader, entry: Entry, res: DocumentReference) -> str | None:
    if not res.content:
        raise reader.fail(entry, "content", "has no content attachment (FHIR requires at least one)")
    if len(res.content) > 1:
        reader.note(entry, "only the first content attachment is used; the others are ignored.")
    attachment = res.content[0].attachment
    if attachment is None:  # required, yet fhir.resources lets a JSON null through
        raise reader.fail(entry, "content[0].attachment", "is required and missing")
    if attachment.data is None:
        if attachment.size == 0:
            return ""
        reader.note(entry, "the document has no inline text (data); not used.")
        entry.used = True
        return None
    if (attachment.contentType or "text/plain").split(";")[0].strip() != "text/plain":
        reader.note(entry, f"content type {attachment.contentType} is not plain text; not used.")
        entry.used = True
        return None
    try:
        return bytes(attachment.data).decode("utf-8")
    except (UnicodeDecodeError, binascii.Error):
        raise reader.fail(entry, "content.attachment.data", "is not UTF-8 text") from None


# --- orders and adjustments ---------------------------------------------------------------------


def medication_requests(reader: Reader) -> tuple[list[Entry], list[Entry]]:
    """The signed orders, and the adjustments (requests with a priorPrescription) apart."""
    orders: list[Entry] = []
    adjustments: list[Entry] = []
    for entry in reader.live(MedicationRequest):
        res = entry.resource
        assert isinstance(res, MedicationRequest)
        if res.intent in ("proposal", "plan"):
            reader.note(entry, f"intent {res.intent} is not a signed order; ignored.")
            entry.used = True
            continue
        (adjustments if res.priorPrescription is not None else orders).append(entry)
    return orders, adjustments


def _dosage(reader: Reader, entry: Entry, res: MedicationRequest) -> Dosage | None:
    dosages = res.dosageInstruction or []
    if len(dosages) > 1:
        reader.note(entry, "only the first dosageInstruction is used; the others are ignored.")
    return dosages[0] if dosages else None


def _rate(reader: Reader, entry: Entry, dosage: Dosage | MedicationAdministrationDosage | None) -> str | None:
    """A rate from a dosage: its words when stated, else its rateQuantity."""
    if dosage is None:
        return None
    reader.unknown_extensions(entry, dosage.extension, {X_RATE_TEXT}, " in the dosage")
    text = extension(dosage.extension, X_RATE_TEXT)
    if text is not None and text.valueString:
        return str(text.valueString)
    quantity: Quantity | None = getattr(dosage, "rateQuantity", None)
    for dose_and_rate in getattr(dosage, "doseAndRate", None) or []:
        quantity = quantity or dose_and_rate.rateQuantity
        if dose_and_rate.rateRatio is not None or dose_and_rate.rateRange is not None:
            reader.note(entry, "a rate given as a ratio or range is not mapped; ignored.")
    if getattr(dosage, "rateRatio", None) is not None:
        reader.note(entry, "a rate given as a ratio is not mapped; ignored.")
    if quantity is None or quantity.value is None:
        return None
    value = decimal_text(quantity.value, quantity.value__ext)
    unit = quantity.unit or quantity.code
    return f"{value} {unit}" if unit else value


def order(reader: Reader, entry: Entry, index: int) -> dict[str, Any]:
    """An order: when it was signed and runs, the drugs, the dose, the rate and the mode."""
    res = entry.resource
    assert isinstance(res, MedicationRequest)
    reader.use(entry, f"orders[{index}]")
    dosage = _dosage(reader, entry, res)
    repeat = dosage.timing.repeat if dosage and dosage.timing else None
    bounds = repeat.boundsPeriod if repeat else None
    mode = extension(res.extension, X_MODE)
    within = "dosageInstruction.timing.repeat.boundsPeriod"
    return some(
        id=reader.record_id(entry) or res.id,
        signed_at=reader.moment(entry, "authoredOn", res.authoredOn),
        start=reader.day(entry, f"{within}.start", bounds.start) if bounds else None,
        end=reader.day(entry, f"{within}.end", bounds.end) if bounds else None,
        drug=_drugs(reader, entry, res.medicationCodeableConcept, res.medicationReference),
        dose=dosage.text if dosage else None,
        rate=_rate(reader, entry, dosage),
        mode=mode.valueCode if mode else None,
    )


def _drugs(
    reader: Reader, entry: Entry, concept: CodeableConcept | None, reference: Reference | None
) -> str | list[str] | None:
    keys = codes(concept, DRUG_KEY)
    if not keys and (reference is not None or (concept and concept.coding)):
        reader.note(
            entry, f"the medication has no drug-key coding (system {DRUG_KEY}); the drug is left empty."
        )
    return keys[0] if len(keys) == 1 else (keys or None)


def adjustment(reader: Reader, entry: Entry, index: int, orders: Sequence[Entry]) -> dict[str, Any]:
    """A rate adjustment of an order, named by the order it leads back to."""
    res = entry.resource
    assert isinstance(res, MedicationRequest)
    reader.use(entry, f"adjustments[{index}]")
    target = _order_of(reader, entry, orders)
    order_id = reader.record_id(target) or target.resource.id
    reasons = res.reasonCode or []
    return some(
        id=reader.record_id(entry),
        at=reader.moment(entry, "authoredOn", res.authoredOn),
        order_id=order_id,
        rate=_rate(reader, entry, _dosage(reader, entry, res)),
        reason=reasons[0].text if reasons else None,
    )


def _order_of(reader: Reader, entry: Entry, orders: Sequence[Entry]) -> Entry:
    """The order an adjustment changes, following a chain of adjustments back to it."""
    seen: set[int] = set()
    current = entry
    while current not in orders and current.index not in seen:
        seen.add(current.index)
        res = current.resource
        target = reader.resolve(res.priorPrescription) if isinstance(res, MedicationRequest) else None
        if target is None or not isinstance(target.resource, MedicationRequest):
            break
        current = target
    if current not in orders:
        raise reader.fail(
            entry, "priorPrescription", "does not lead to an order (a MedicationRequest) in this bundle"
        )
    return current


# --- the pump log -------------------------------------------------------------------------------


def pump_events(reader: Reader) -> list[dict[str, Any]]:
    """The pump log read back from the administrations, in the engine's order."""
    events: list[_Event] = []
    for entry in reader.live(MedicationAdministration):
        res = entry.resource
        assert isinstance(res, MedicationAdministration)
        events += _administration(reader, entry, res)
    moments = [at for at, _ in events]
    if all(isinstance(at, datetime) and at.tzinfo for at in moments):
        # Time order, stops first at one instant, as the engine reads the log. An event whose
        # type is missing sorts last; the episode then reports it as missing.
        events.sort(key=lambda item: (item[0], PUMP_EVENT_ORDER.get(item[1].get("type", ""), 9)))
    result = [event for _, event in events]
    for i, (_, event) in enumerate(events):
        reader.where[f"pump_events[{i}]"] = event.pop("_label")
    return result


def _administration(reader: Reader, entry: Entry, res: MedicationAdministration) -> list[_Event]:
    """An administration as pump events: its start (with the rate) and, when it ended, a stop.

    Our own extensions say which log event each end was; without them an administration is
    a run from start to stop, and one that is not a run (not done, on hold, an instant) is
    noted and left out.
    """
    kind = extension(res.extension, X_PUMP_EVENT)
    end_kind = extension(res.extension, X_PUMP_END)
    period = res.effectivePeriod
    begin = period.start if period else res.effectiveDateTime if kind is not None else None
    if kind is None and res.status in ("not-done", "on-hold"):
        return _not_a_run(reader, entry, f"status {res.status} is not a pump run; ignored.")
    if begin is None:
        return _not_a_run(reader, entry, "has no effectivePeriod start, so it is not a pump run; ignored.")
    reader.use(entry)
    start = some(
        id=reader.record_id(entry),
        at=reader.moment(entry, "effectivePeriod.start" if period else "effectiveDateTime", begin),
        type=kind.valueCode if kind else "start",
        rate=_rate(reader, entry, res.dosage),
        _label=entry.label,
    )
    events: list[_Event] = [(begin, start)]
    if period is None:
        return events
    if period.end is not None and (end_kind is None or end_kind.valueCode == "stop"):
        stop_id = extension(res.extension, X_STOP_ID)
        stop = some(
            id=stop_id.valueString if stop_id else None,
            at=reader.moment(entry, "effectivePeriod.end", period.end),
            type="stop",
        )
        events.append((period.end, stop | {"_label": entry.label}))
    return events


def _not_a_run(reader: Reader, entry: Entry, text: str) -> list[_Event]:
    reader.note(entry, text)
    entry.used = True
    return []


# --- encounters ---------------------------------------------------------------------------------


def encounters(reader: Reader) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Holds (inpatient-like encounters) and nursing visits (home health encounters)."""
    holds: list[dict[str, Any]] = []
    visits: list[dict[str, Any]] = []
    for entry in reader.live(Encounter):
        res = entry.resource
        assert isinstance(res, Encounter)
        # Without a class it is neither: left unused, so it is noted as not mapped.
        code = res.class_fhir.code if res.class_fhir is not None else None
        if code in _HOLD_CLASSES:
            reader.use(entry, f"holds[{len(holds)}]")
            holds.append(_hold(reader, entry, res))
        elif code == "HH":
            reader.use(entry, f"nursing_visits[{len(visits)}]")
            visits.append(_visit(reader, entry, res))
    return holds, visits


def _hold(reader: Reader, entry: Entry, res: Encounter) -> dict[str, Any]:
    types = res.type or []
    reason = types[0].text if types else None
    if reason not in _HOLD_REASONS:
        reader.note(
            entry,
            "the hold reason (type.text) is not inpatient, skilled_nursing, hospice or other; read as other.",
        )
        reason = "other"
    period = res.period
    return some(
        id=reader.record_id(entry),
        start=reader.moment(entry, "period.start", period.start) if period else None,
        end=reader.moment(entry, "period.end", period.end) if period else None,
        reason=reason,
    )


def _visit(reader: Reader, entry: Entry, res: Encounter) -> dict[str, Any]:
    period = res.period
    start = period.start if period else None
    stated = extension(res.extension, X_VISIT_DATE)
    types = [t for p in res.participant or [] for t in p.type or []]
    credential = types[0].text if types else None
    return some(
        id=reader.record_id(entry),
        date=date_text(stated.valueDate) if stated else reader.day(entry, "period.start", start),
        start=reader.moment(entry, "period.start", start),
        end=reader.moment(entry, "period.end", period.end) if period else None,
        duration_minutes=_minutes(reader, entry, res.length),
        credential=credential,
        note=_visit_note(reader, entry),
    )


def _minutes(reader: Reader, entry: Entry, length: Quantity | None) -> int | str | None:
    if length is None or length.value is None:
        return None
    unit = length.code or length.unit or "min"
    factor = _MINUTES_PER.get(unit)
    if factor is None:
        reader.note(entry, f"length unit {unit!r} is not minutes or hours; length ignored.")
        return None
    try:
        return integral(length.value * factor)
    except DecimalException:  # decimal.Overflow: hours past what a Decimal holds
        raise reader.fail(entry, "length", "is far longer than any visit") from None


def _visit_note(reader: Reader, visit: Entry) -> str | None:
    text: str | None = None
    for entry in reader.live(DocumentReference):
        res = entry.resource
        assert isinstance(res, DocumentReference)
        encounters = res.context.encounter or [] if res.context else []
        if not any(reader.resolve(ref) is visit for ref in encounters):
            continue
        if text is not None:
            reader.note(entry, f"a second note for {visit.label}; ignored.")
            entry.used = True
            continue
        text = _attachment_text(reader, entry, res)
        if text is not None:
            reader.use(entry)
    return text


# --- dispenses and supplies ---------------------------------------------------------------------


def dispense(reader: Reader, entry: Entry, index: int) -> dict[str, Any]:
    """A dispense: the NDC and drug key, the quantity in NDC units, and the drug amounts."""
    res = entry.resource
    assert isinstance(res, MedicationDispense)
    reader.use(entry, f"dispenses[{index}]")
    ndc = next(iter(codes(res.medicationCodeableConcept, NDC)), None)
    if ndc is None:
        raise reader.fail(entry, "medicationCodeableConcept", f"has no NDC (a coding with system {NDC})")
    drug = next(iter(codes(res.medicationCodeableConcept, DRUG_KEY)), None)
    if drug is None:
        raise reader.fail(
            entry, "medicationCodeableConcept", f"has no drug key (a coding with system {DRUG_KEY})"
        )
    quantity = res.quantity
    amount = _mass(extension(res.extension, X_AMOUNT))
    administered = _mass(extension(res.extension, X_ADMINISTERED))
    single = extension(res.extension, X_SINGLE_DOSE)
    return some(
        id=reader.record_id(entry),
        date=reader.day(entry, "whenHandedOver", res.whenHandedOver),
        drug=drug,
        ndc=ndc,
        quantity=decimal_text(quantity.value, quantity.value__ext) if quantity else None,
        unit=_ndc_unit(quantity),
        amount=amount[0] if amount else None,
        amount_unit=amount[1] if amount else None,
        administered_amount=administered[0] if administered else None,
        single_dose=single.valueBoolean if single else None,
        rx_number=identifier(res.identifier, RX_NUMBER),
    )


def _ndc_unit(quantity: Quantity | None) -> str | None:
    if quantity is None:
        return None
    for unit in (quantity.code, quantity.unit):
        if unit in NDC_UNIT_UCUM:
            return unit
        if unit in UCUM_NDC_UNIT:
            return UCUM_NDC_UNIT[unit]
    return quantity.code or quantity.unit


def _mass(ext: Extension | None) -> tuple[str | None, str | None] | None:
    if ext is None or ext.valueQuantity is None:
        return None
    quantity = ext.valueQuantity
    unit = quantity.code if quantity.system == UCUM else quantity.unit
    return decimal_text(quantity.value, quantity.value__ext), MASS_UNIT.get(unit or "", unit)


def supply(reader: Reader, entry: Entry, index: int) -> dict[str, Any]:
    """A supply delivery: when, what (HCPCS and description) and how many."""
    res = entry.resource
    assert isinstance(res, SupplyDelivery)
    reader.use(entry, f"supplies[{index}]")
    item = res.suppliedItem
    concept = item.itemCodeableConcept if item else None
    if res.occurrenceDateTime is not None:
        day = reader.day(entry, "occurrenceDateTime", res.occurrenceDateTime)
    else:
        start = res.occurrencePeriod.start if res.occurrencePeriod else None
        day = reader.day(entry, "occurrencePeriod.start", start)
    description = concept.text if concept else None
    if description is None and concept is not None:
        description = next((c.display for c in concept.coding or [] if c.display), None)
    return some(
        id=reader.record_id(entry),
        date=day,
        description=description,
        hcpcs=next(iter(codes(concept, HCPCS)), None),
        quantity=integral(item.quantity.value) if item and item.quantity else None,
    )
