"""The bookkeeping of reading a Bundle into an episode: which entries were used, what each
episode record came from, the notes on whatever could not be mapped, and the guarded reading
of FHIR values (references, identifiers, extensions, instants) that the record mappers share.

A reader never lets a malformed value escape as a crash: it fails with an InputError naming the
entry and the FHIR element, never the value (which may be personal).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.extension import Extension
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.resource import Resource

from hitclaims.core.errors import InputError
from hitclaims.formats.fhir.systems import (
    EPISODE_ID,
    LOINC,
    LOINC_PROGRESS_NOTE,
    OBSERVATION,
    PATIENT_ID,
    PROGRESS_NOTE,
    RECORD_ID,
    TZ_CODE,
    X_ADMINISTERED,
    X_AMOUNT,
    X_CONCURRENT,
    X_DEVICE,
    X_MODE,
    X_PRIOR_AUTH,
    X_PUMP_END,
    X_PUMP_EVENT,
    X_ROUTE,
    X_SINGLE_DOSE,
    X_SITE,
    X_STOP_ID,
    X_VISIT_DATE,
)

# Top-level elements each mapped resource type reads; anything else present is reported.
_COMMON = {"resourceType", "id", "meta", "text", "language"}
READS: dict[str, set[str]] = {
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
_LABEL_SYSTEMS = (RECORD_ID, EPISODE_ID, PATIENT_ID)
# A count with more digits than this is not a count: it goes on as text, and the episode refuses
# it by name (turning it into an int could take minutes, or exceed what JSON may write).
_COUNT_DIGITS = 18


def raw_label(index: int, resource: dict[str, Any]) -> str:
    """How an error or a note names an entry: its index, type and record id ("entry[3] Patient/P-1")."""
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
class Entry:
    """One bundle entry: its validated resource, its raw JSON (for labels), and whether it was used."""

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
        return raw_label(self.index, self.raw)


def identifier(identifiers: Sequence[Identifier] | None, system: str) -> str | None:
    return next((i.value for i in identifiers or [] if i.system == system and i.value), None)


def extensions(found: Sequence[Extension] | None, url: str) -> list[Extension]:
    return [e for e in found or [] if e.url == url]


def extension(found: Sequence[Extension] | None, url: str) -> Extension | None:
    matching = extensions(found, url)
    return matching[0] if matching else None


def codes(concept: CodeableConcept | None, system: str) -> list[str]:
    return [c.code for c in (concept.coding or []) if c.system == system and c.code] if concept else []


def is_progress_note(concept: CodeableConcept | None) -> bool:
    if concept is None:
        return False
    return (
        concept.text == PROGRESS_NOTE
        or PROGRESS_NOTE in codes(concept, OBSERVATION)
        or LOINC_PROGRESS_NOTE in codes(concept, LOINC)
    )


def integral(value: Decimal | None) -> int | str | None:
    """A whole count as an int; anything else goes on as text so the episode rejects it by name."""
    if value is None:
        return None
    if value.is_finite() and value == value.to_integral_value() and value.adjusted() < _COUNT_DIGITS:
        return int(value)
    return str(value)


def some(**values: Any) -> dict[str, Any]:
    """Only the values that are there: a missing required one is then reported as missing."""
    return {k: v for k, v in values.items() if v is not None}


def date_text(value: object) -> str | None:
    """A FHIR date as episode text (a dateTime goes through `Reader.moment`, which checks it)."""
    if value is None:
        return None
    return value.isoformat() if isinstance(value, date) else str(value)


@dataclass
class Reader:
    """Reads the validated bundle into an episode dict, noting whatever it cannot map."""

    file: str
    entries: list[Entry]
    found: list[tuple[int, str]] = field(default_factory=list)  # (entry index, note)
    # Episode record path ("orders[2]", "coverage.subscriber") -> the entry it came from.
    where: dict[str, str] = field(default_factory=dict)
    zone: ZoneInfo | None = None
    by_ref: dict[str, Entry] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for entry in self.entries:
            if entry.url:
                self.by_ref[entry.url] = entry
            if entry.resource.id:
                self.by_ref[f"{entry.kind}/{entry.resource.id}"] = entry

    def note(self, entry: Entry, text: str) -> None:
        self.found.append((entry.index, f"{entry.label}: {text}"))

    @property
    def notes(self) -> list[str]:
        """The notes in bundle order, so a biller can walk the file alongside them."""
        return [text for _, text in sorted(self.found, key=lambda item: item[0])]

    def fail(self, entry: Entry | None, field_name: str | None, problem: str) -> InputError:
        return InputError(self.file, entry.label if entry else None, field_name, problem)

    def of(self, kind: type[Resource]) -> list[Entry]:
        return [e for e in self.entries if isinstance(e.resource, kind) and not e.used]

    def resolve(self, ref: Reference | None) -> Entry | None:
        if ref is None or not ref.reference:
            return None
        return self.by_ref.get(ref.reference)

    def use(self, entry: Entry, path: str | None = None) -> None:
        entry.used = True
        if path is not None:
            self.where[path] = entry.label
        self.check_elements(entry)

    def check_elements(self, entry: Entry) -> None:
        if "modifierExtension" in entry.raw:
            # FHIR: a modifier extension that is not understood changes the meaning; refuse it.
            raise self.fail(
                entry, "modifierExtension", "carries a modifier extension that hitclaims does not understand"
            )
        ignored = sorted(set(entry.raw) - _COMMON - READS.get(entry.kind, set()))
        if ignored:
            self.note(entry, f"element(s) {', '.join(ignored)} not mapped; ignored.")
        known = _KNOWN_EXTENSIONS.get(entry.kind, set())
        self.unknown_extensions(entry, getattr(entry.resource, "extension", None), known)

    def unknown_extensions(
        self, entry: Entry, found: Sequence[Extension] | None, known: set[str], where: str = ""
    ) -> None:
        for ext in found or []:
            if ext.url not in known:
                self.note(entry, f"extension {ext.url}{where} is not mapped; ignored.")

    def moment(self, entry: Entry, field_name: str, value: object) -> str | None:
        """A FHIR dateTime as episode text, its UTC offset kept as written."""
        if isinstance(value, datetime):
            self.local(entry, field_name, value)
        return date_text(value)

    def day(self, entry: Entry, field_name: str, value: object) -> str | None:
        """A FHIR date or dateTime as a calendar date; a timestamp is read in the patient's zone."""
        if isinstance(value, datetime):
            return self.local(entry, field_name, value).date().isoformat()
        return date_text(value)

    def local(self, entry: Entry, field_name: str, value: datetime) -> datetime:
        """The instant in the patient's zone, refused when it has no place on the calendar there
        (0001-01-01T00:00:00+14:00 is in year 0 in UTC), where the engine could not count it."""
        try:
            if value.tzinfo is not None:
                value.astimezone(UTC)
            return value.astimezone(self.zone) if self.zone else value
        except OverflowError:
            raise self.fail(
                entry, field_name, "is outside the calendar (before year 1 or after 9999)"
            ) from None

    def record_id(self, entry: Entry) -> str | None:
        return identifier(getattr(entry.resource, "identifier", None), RECORD_ID)

    def first(self, kind: type[Resource], essential: str) -> Entry:
        found = self.of(kind)
        live = [e for e in found if not self.skipped(e)]
        if not live:
            raise self.fail(None, kind.__name__, f"the bundle has no {essential}")
        for extra in live[1:]:
            self.note(extra, f"a second {extra.kind}; only {live[0].label} is used, this one is ignored.")
            extra.used = True
        return live[0]

    def skipped(self, entry: Entry) -> bool:
        status = getattr(entry.resource, "status", None)
        if status == "entered-in-error":
            if not entry.used:
                self.note(entry, "status entered-in-error; ignored.")
            entry.used = True
            return True
        return False

    def live(self, kind: type[Resource]) -> list[Entry]:
        return [e for e in self.of(kind) if not self.skipped(e)]
