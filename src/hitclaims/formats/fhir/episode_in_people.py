"""Reading who and why from a Bundle: the patient, the coverage and its subscriber, the
prescriber, the episode of care with its therapy, the diagnoses and the clinical observations.

Each function takes the `Reader` and returns that part of the episode dict, marking the entries
it used and noting what it could not map.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.coverage import Coverage
from fhir.resources.R4B.episodeofcare import EpisodeOfCare
from fhir.resources.R4B.extension import Extension
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.relatedperson import RelatedPerson

from hitclaims.formats.fhir.episode_in_reader import (
    Entry,
    Reader,
    codes,
    date_text,
    extension,
    extensions,
    identifier,
    some,
)
from hitclaims.formats.fhir.systems import (
    COVERAGE_CLASS,
    EPISODE_ID,
    ICD10CM,
    NPI,
    OBSERVATION,
    PATIENT_ID,
    PAYER_ID,
    RELATIONSHIP,
    SEX,
    TZ_CODE,
    X_CONCURRENT,
    X_DEVICE,
    X_PRIOR_AUTH,
    X_ROUTE,
    X_SITE,
)

__all__ = ["coverage", "diagnoses", "episode_of_care", "observations", "patient", "prescriber"]

_OBSERVATION_FIELDS = {"medical-history": "medical_history", "home-infusion-reason": "home_infusion_reason"}


def _person(reader: Reader, entry: Entry, res: Patient | RelatedPerson) -> dict[str, Any]:
    names, addresses = res.name or [], res.address or []
    if len(names) > 1:
        reader.note(entry, "only the first name is used; the others are ignored.")
    if len(addresses) > 1:
        reader.note(entry, "only the first address is used; the others are ignored.")
    name = names[0] if names else None
    sex = SEX.get(res.gender or "")
    if res.gender == "other":
        reader.note(entry, "gender 'other' has no episode code; read as U (unknown).")
        sex = "U"
    person = some(
        first_name=" ".join(g for g in name.given or [] if g) or None if name else None,
        last_name=name.family if name else None,
        birth_date=date_text(res.birthDate),
        sex=sex,
    )
    if addresses:
        address = addresses[0]
        lines = address.line or []
        if len(lines) > 2:
            reader.note(entry, "address lines after the second are ignored.")
        person["address"] = some(
            line1=lines[0] if lines else None,
            line2=lines[1] if len(lines) > 1 else None,
            city=address.city,
            state=address.state,
            zip=address.postalCode,
        )
    return person


def patient(reader: Reader) -> dict[str, Any]:
    """The patient, whose time zone then reads every later timestamp as a calendar day."""
    entry = reader.first(Patient, "Patient")
    res = entry.resource
    assert isinstance(res, Patient)
    reader.use(entry, "patient")
    tz = extension(res.extension, TZ_CODE)
    timezone = tz.valueCode if tz else None
    try:
        reader.zone = ZoneInfo(timezone) if timezone else None
    except (ZoneInfoNotFoundError, ValueError):
        reader.zone = None  # the episode's own check reports the zone by name
    except OSError:
        # A folder of the zone database ("America") or a name too long to be a file.
        raise reader.fail(
            entry, "extension(tz-code)", "unknown IANA time zone (use a name such as America/Chicago)"
        ) from None
    # Not any identifier: a patient's may be a social security number.
    patient_id = identifier(res.identifier, PATIENT_ID) or res.id
    return some(id=patient_id, timezone=timezone) | _person(reader, entry, res)


def episode_of_care(reader: Reader) -> dict[str, Any]:
    """The episode id, the therapy, when it was discontinued, and the concurrent therapies."""
    entry = reader.first(EpisodeOfCare, "EpisodeOfCare")
    res = entry.resource
    assert isinstance(res, EpisodeOfCare)
    reader.use(entry, "episode")
    reader.where["concurrent_therapies"] = entry.label
    episode_id = identifier(res.identifier, EPISODE_ID) or next(
        (i.value for i in res.identifier or [] if i.value), None
    )
    if episode_id is None:
        raise reader.fail(entry, "identifier", f"has no episode id (an identifier with system {EPISODE_ID})")
    device, route, site = (extension(res.extension, url) for url in (X_DEVICE, X_ROUTE, X_SITE))
    types = res.type or []
    therapy = some(
        category=types[0].text if types else None,
        device=device.valueCode if device else None,
        route=route.valueCode if route else None,
        site=site.valueCode if site else None,
    )
    concurrent = [
        _concurrent(reader, entry, ext, i) for i, ext in enumerate(extensions(res.extension, X_CONCURRENT))
    ]
    end = res.period.end if res.period else None
    return {
        "episode_id": episode_id,
        "therapy": therapy,
        "discontinued_at": reader.moment(entry, "period.end", end),
        "concurrent_therapies": concurrent,
    }


def _concurrent(reader: Reader, entry: Entry, ext: Extension, index: int) -> dict[str, Any]:
    reader.where[f"concurrent_therapies[{index}]"] = entry.label
    parts = {p.url: p for p in ext.extension or []}
    reader.unknown_extensions(
        entry, ext.extension, {"id", "code", "start", "end", "rate"}, f" in {X_CONCURRENT}"
    )
    return some(
        id=parts["id"].valueString if "id" in parts else None,
        code=parts["code"].valueCode if "code" in parts else None,
        start=date_text(parts["start"].valueDate) if "start" in parts else None,
        end=date_text(parts["end"].valueDate) if "end" in parts else None,
        rate=parts["rate"].valueString if "rate" in parts else None,
    )


def coverage(reader: Reader) -> dict[str, Any]:
    """The coverage: payer, member, group, relationship, subscriber and prior authorizations."""
    entry = reader.first(Coverage, "Coverage")
    res = entry.resource
    assert isinstance(res, Coverage)
    reader.use(entry, "coverage")
    relationship = next(iter(codes(res.relationship, RELATIONSHIP)), None)
    if relationship not in (None, "self", "spouse", "child", "other"):
        reader.note(entry, f"relationship {relationship!r} has no episode code; read as 'other'.")
        relationship = "other"
    group = next(
        (c.value for c in res.class_fhir or [] if "group" in codes(c.type, COVERAGE_CLASS) and c.value),
        None,
    )
    authorizations = [_authorization(reader, entry, ext) for ext in extensions(res.extension, X_PRIOR_AUTH)]
    return some(
        payer_id=_payer_id(reader, entry, res),
        member_id=res.subscriberId,
        group_number=group,
        relationship=relationship,
        subscriber=_subscriber(reader, res.subscriber),
        prior_authorization=authorizations[0] if len(authorizations) == 1 else (authorizations or None),
    )


def _payer_id(reader: Reader, entry: Entry, res: Coverage) -> str:
    for ref in res.payor or []:
        target = reader.resolve(ref)
        if target is not None and isinstance(target.resource, Organization):
            reader.use(target)
            found = identifier(target.resource.identifier, PAYER_ID)
        else:
            found = ref.identifier.value if ref.identifier and ref.identifier.system == PAYER_ID else None
        if found:
            return found
    raise reader.fail(
        entry, "payor", f"names no payer (an Organization with an identifier of system {PAYER_ID})"
    )


def _subscriber(reader: Reader, ref: Reference | None) -> dict[str, Any] | None:
    target = reader.resolve(ref)
    if target is None or not isinstance(target.resource, RelatedPerson):
        return None  # the patient is the subscriber
    reader.use(target, "coverage.subscriber")
    return _person(reader, target, target.resource)


def _authorization(reader: Reader, entry: Entry, ext: Extension) -> dict[str, Any]:
    known = {"number", "start", "end", "units", "code"}
    reader.unknown_extensions(entry, ext.extension, known, f" in {X_PRIOR_AUTH}")
    parts = {p.url: p for p in ext.extension or []}
    return some(
        number=parts["number"].valueString if "number" in parts else None,
        start=date_text(parts["start"].valueDate) if "start" in parts else None,
        end=date_text(parts["end"].valueDate) if "end" in parts else None,
        units=parts["units"].valueUnsignedInt if "units" in parts else None,
        codes=[p.valueCode for p in extensions(ext.extension, "code")],
    )


def prescriber(reader: Reader, orders: Sequence[Entry]) -> dict[str, Any]:
    """The prescriber: the Practitioner the orders name as requester, else the bundle's first."""
    requesters = [reader.resolve(getattr(e.resource, "requester", None)) for e in orders]
    chosen = next((e for e in requesters if e is not None and isinstance(e.resource, Practitioner)), None)
    entry = chosen or reader.first(Practitioner, "Practitioner (the prescriber)")
    res = entry.resource
    assert isinstance(res, Practitioner)
    reader.use(entry, "prescriber")
    name = res.name[0] if res.name else None
    return some(
        npi=identifier(res.identifier, NPI),
        first_name=" ".join(g for g in name.given or [] if g) or None if name else None,
        last_name=name.family if name else None,
    )


def diagnoses(reader: Reader) -> list[str]:
    """The ICD-10-CM codes of the Conditions, in bundle order; at least one is required."""
    found_codes: list[str] = []
    for entry in reader.live(Condition):
        res = entry.resource
        assert isinstance(res, Condition)
        found = codes(res.code, ICD10CM)
        if not found:
            reader.note(entry, f"has no ICD-10-CM code (system {ICD10CM}); not used as a diagnosis.")
            entry.used = True
            continue
        if len(found) > 1:
            reader.note(entry, "only the first ICD-10-CM code is used; the others are ignored.")
        reader.use(entry, f"diagnoses[{len(found_codes)}]")
        found_codes.append(found[0])
    if not found_codes:
        raise reader.fail(
            None, "Condition", f"the bundle has no Condition with an ICD-10-CM code (system {ICD10CM})"
        )
    return found_codes


def observations(reader: Reader) -> dict[str, Any]:
    """Medical history, the reason for home infusion, and medical necessity, once each."""
    data: dict[str, Any] = {}
    for entry in reader.live(Observation):
        res = entry.resource
        assert isinstance(res, Observation)
        code = next(iter(codes(res.code, OBSERVATION)), None)
        key = _OBSERVATION_FIELDS.get(code or "")
        if key is None and code != "medical-necessity":
            continue  # progress notes and unmapped observations are handled later
        key = key or "medical_necessity"
        if key in data:
            reader.note(entry, f"a second {code} Observation; ignored.")
            entry.used = True
            continue
        reader.use(entry, key)
        data[key] = _necessity(reader, entry, res) if key == "medical_necessity" else (res.valueString or "")
    return data


def _necessity(reader: Reader, entry: Entry, res: Observation) -> dict[str, Any]:
    indicated: bool | None = None
    tried: list[str] = []
    outcome: str | None = None
    for component in res.component or []:
        code = next(iter(codes(component.code, OBSERVATION)), None)
        if code == "continuous-infusion-indicated":
            indicated = component.valueBoolean
        elif code == "alternative-tried" and component.valueString:
            tried.append(component.valueString)
        elif code == "alternatives-outcome":
            outcome = component.valueString
        else:
            reader.note(entry, "a component that is not part of medical necessity; ignored.")
    return some(
        continuous_infusion_indicated=indicated, alternatives_tried=tried, alternatives_outcome=outcome
    )
