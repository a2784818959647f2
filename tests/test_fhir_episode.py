"""FHIR R4 Bundles in and out: episodes survive the round trip, or at least bill identically."""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from hypothesis import HealthCheck, given, settings

from hitclaims.core.claim import Result
from hitclaims.core.days import Period
from hitclaims.core.engine import bill_episode
from hitclaims.core.errors import InputError
from hitclaims.core.policy import PayerPolicy
from hitclaims.core.records import Episode
from hitclaims.formats.fhir.episode_in import bundle_to_episode
from hitclaims.formats.fhir.episode_out import episode_to_bundle
from hitclaims.formats.result_json import render_json
from hitclaims.inputs.loading import (
    PolicyBook,
    bundled_policy_folders,
    is_fhir_bundle,
    load_policies,
    parse_episode,
)

from .builders import AS_OF, CATALOG, MARCH, PROVIDER, episode, episode_dict, policy
from .strategies import scenarios

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
EXAMPLE_FILES = sorted(p.name for p in EXAMPLES.glob("*.json") if not p.name.endswith(".expected.json"))
# Distinctive personal values, so an error text that quotes one cannot pass unnoticed.
PERSON = {"family": "Quillfeather", "given": "Zelphine", "line": "77 Hollow Lane", "city": "Hiddenvale"}


@pytest.fixture(scope="module")
def book() -> PolicyBook:
    return load_policies(bundled_policy_folders(), CATALOG)


def round_trip(ep: Episode) -> tuple[Episode, list[str]]:
    return bundle_to_episode("ep.fhir.json", json.dumps(episode_to_bundle(ep)), CATALOG)


def billed(ep: Episode, pol: PayerPolicy, period: Period, as_of: date) -> str:
    return render_json(Result(claims=bill_episode(ep, pol, CATALOG, PROVIDER, period, as_of)))


def read_example(name: str) -> tuple[Episode, Period, date]:
    ep = parse_episode(name, (EXAMPLES / name).read_text("utf-8"), CATALOG)
    expected = json.loads((EXAMPLES / name.replace(".json", ".expected.json")).read_text("utf-8"))
    first, last = (date.fromisoformat(d) for d in expected["period"])
    return ep, Period(first, last), date.fromisoformat(expected["as_of"])


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def import_raw(bundle: dict[str, Any]) -> tuple[Episode, list[str]]:
    return bundle_to_episode("ep.fhir.json", json.dumps(bundle), CATALOG)


def import_error(bundle: dict[str, Any] | str) -> InputError:
    text = bundle if isinstance(bundle, str) else json.dumps(bundle)
    with pytest.raises(InputError) as caught:
        bundle_to_episode("ep.fhir.json", text, CATALOG)
    return caught.value


def base_bundle() -> dict[str, Any]:
    return episode_to_bundle(episode())


def entry_index(bundle: dict[str, Any], kind: str) -> int:
    return next(i for i, e in enumerate(bundle["entry"]) if e["resource"]["resourceType"] == kind)


# An episode with every optional field set, so each mapping is exercised both ways.
RICH = episode_dict(
    coverage={
        "payer_id": "test-payer",
        "member_id": "M123",
        "group_number": "G-7",
        "relationship": "spouse",
        "subscriber": {
            "first_name": "Sam",
            "last_name": "Spouse",
            "birth_date": "1949-07-08",
            "sex": "M",
            "address": {
                "line1": "1 Test St",
                "line2": "Apt 2",
                "city": "Fargo",
                "state": "ND",
                "zip": "581021234",
            },
        },
        "prior_authorization": [
            {"number": "PA-1", "start": "2025-03-01", "end": "2025-03-15", "units": 15, "codes": ["S9326"]},
            {
                "number": "PA-2",
                "start": "2025-03-16",
                "end": "2025-03-31",
                "units": 0,
                "codes": ["S9326", "S9328"],
            },
        ],
    },
    therapy={
        "category": "pain_management",
        "device": "implanted_pump",
        "route": "intrathecal",
        "site": "infusion_suite",
    },
    medical_necessity={
        "continuous_infusion_indicated": False,
        "alternatives_tried": [],
        "alternatives_outcome": None,
    },
    orders=[
        {
            "id": "O-1",
            "signed_at": "2025-03-02T16:00:00-06:00",
            "start": "2025-03-03",
            "end": "2025-03-20",
            "drug": ["morphine_pf", "bupivacaine"],
            "dose": "2 mg/h",
            "rate": "2.50 mL/h",
            "mode": "continuous",
        },
        {"id": "O-2", "start": "2025-03-21", "mode": "intermittent", "rate": "40 mL over 30 minutes"},
    ],
    adjustments=[
        {"id": "A-1", "at": "2025-03-10T09:00:00-05:00", "order_id": "O-1", "rate": "3 mL/h"},
        {"at": "2025-03-12T09:00:00-05:00", "order_id": "O-1", "rate": "02 mL/h", "reason": "sedation"},
    ],
    pump_events=[
        {"id": "E-1", "at": "2025-03-03T10:00:00-06:00", "type": "start", "rate": "2.50 mL/h"},
        {"id": "E-2", "at": "2025-03-10T09:05:00-05:00", "type": "rate_change", "rate": "3 mL/h"},
        {"id": "E-3", "at": "2025-03-11T08:00:00-05:00", "type": "stop"},
        {"id": "E-4", "at": "2025-03-11T08:30:00-05:00", "type": "rate_change", "rate": "2 mL/h"},
        {"id": "E-5", "at": "2025-03-11T09:00:00-05:00", "type": "start", "rate": "2 mL/h"},
        {"at": "2025-03-12T09:00:00-05:00", "type": "start"},
    ],
    holds=[
        {
            "id": "H-1",
            "start": "2025-03-14T07:30:00-05:00",
            "end": "2025-03-15T18:00:00-05:00",
            "reason": "hospice",
        },
        {"start": "2025-03-30T07:30:00-05:00", "reason": "skilled_nursing"},
    ],
    discontinued_at="2025-03-31T12:00:00-05:00",
    supplies=[
        {"id": "S-1", "date": "2025-03-03", "description": "pump kit", "hcpcs": "A4221", "quantity": 2}
    ],
    dispenses=[
        {
            "id": "D-1",
            "date": "2025-03-03",
            "drug": "morphine_pf",
            "ndc": "0409-1234-01",
            "quantity": "83.33",
            "unit": "ML",
            "amount": "2.50",
            "amount_unit": "mcg",
            "administered_amount": "0",
            "single_dose": True,
            "rx_number": "RX-9",
        },
        {
            "date": "2025-03-04",
            "drug": "bupivacaine",
            "ndc": "bad ndc",
            "quantity": "250",
            "unit": "UN",
            "amount": "250.0",
            "amount_unit": "g",
        },
    ],
    nursing_visits=[
        {"id": "V-1", "date": "2025-03-05", "duration_minutes": 45, "credential": "LPN"},
        {
            "date": "2025-03-06",
            "start": "2025-03-06T09:00:00-06:00",
            "end": "2025-03-06T11:00:00-06:00",
            "duration_minutes": 120,
            "credential": "RN",
            "note": "",
        },
    ],
    concurrent_therapies=[
        {"id": "C-1", "code": "S9500", "start": "2025-03-05", "end": "2025-03-09", "rate": "120.50"},
        {"code": "S9373", "start": "2025-03-10", "rate": "80"},
    ],
    progress_notes=[{"id": "N-1", "date": "2025-03-03", "author": "RPh Lee", "text": "Started; pain 5/10."}],
    home_infusion_reason="",
)


# --- round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", EXAMPLE_FILES)
def test_example_comes_back_as_an_equal_episode(name: str) -> None:
    ep, _, _ = read_example(name)
    back, notes = round_trip(ep)
    assert back.model_dump() == ep.model_dump()
    assert notes == []


@pytest.mark.parametrize("name", EXAMPLE_FILES)
def test_example_round_trip_bills_identically(name: str, book: PolicyBook) -> None:
    ep, period, as_of = read_example(name)
    pol = book.for_payer(ep.coverage.payer_id, period.start)
    back, _ = round_trip(ep)
    assert billed(back, pol, period, as_of) == billed(ep, pol, period, as_of)


def test_an_episode_with_every_optional_field_comes_back_equal() -> None:
    ep = Episode.model_validate_json(json.dumps(RICH))
    back, notes = round_trip(ep)
    assert back.model_dump() == ep.model_dump()
    assert notes == []
    # Decimal text survives exactly, trailing zeros included, and reaches the episode as a string.
    assert [str(d.quantity) for d in back.dispenses] == ["83.33", "250"]
    assert [str(d.amount) for d in back.dispenses] == ["2.50", "250.0"]
    assert str(back.concurrent_therapies[0].rate) == "120.50"
    assert [o.rate for o in back.orders] == ["2.50 mL/h", "40 mL over 30 minutes"]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_random_episode_bills_identically_after_a_round_trip(case: Any) -> None:
    # Scenarios hold pump alarms (not exported) and rates on stops (not kept): billing must not see it.
    data, pol, period = case
    ep = Episode.model_validate_json(json.dumps(data))
    back, notes = round_trip(ep)
    as_of = period.end + timedelta(days=2)
    assert billed(back, pol, period, as_of) == billed(ep, pol, period, as_of)
    assert notes == []


def test_pump_alarms_are_left_out_of_the_export_yet_billing_is_unchanged() -> None:
    # Export has no notes channel: dropping alarms (and a stop's rate) is documented in
    # episode_to_bundle's docstring. A stop while stopped is kept: it makes the log the evidence.
    events = [
        {"at": "2025-03-03T10:00:00-06:00", "type": "start", "rate": "2 mL/h"},
        {"at": "2025-03-05T10:00:00-06:00", "type": "alarm"},
        {"at": "2025-03-10T10:00:00-05:00", "type": "rate_change", "rate": "3 mL/h"},
        {"at": "2025-03-12T10:00:00-05:00", "type": "stop", "rate": "3 mL/h"},
        {"at": "2025-03-12T11:00:00-05:00", "type": "stop"},
    ]
    ep = episode(pump_events=events)
    back, notes = round_trip(ep)
    assert notes == []
    assert [(e.type, e.rate) for e in back.pump_events] == [
        ("start", "2 mL/h"),
        ("rate_change", "3 mL/h"),
        ("stop", None),
        ("stop", None),
    ]
    assert billed(back, policy(), MARCH, AS_OF) == billed(ep, policy(), MARCH, AS_OF)


def test_a_rate_change_ends_one_administration_and_starts_the_next_at_the_same_instant() -> None:
    ep = episode(
        pump_events=[
            {"at": "2025-03-03T10:00:00-06:00", "type": "start", "rate": "2 mL/h"},
            {"at": "2025-03-10T10:00:00-05:00", "type": "rate_change", "rate": "3 mL/h"},
        ]
    )
    runs = resources(episode_to_bundle(ep), "MedicationAdministration")
    assert [r["effectivePeriod"] for r in runs] == [
        {"start": "2025-03-03T10:00:00-06:00", "end": "2025-03-10T10:00:00-05:00"},
        {"start": "2025-03-10T10:00:00-05:00"},
    ]
    assert [r["dosage"]["rateQuantity"] for r in runs] == [
        {"value": 2, "unit": "mL/h"},
        {"value": 3, "unit": "mL/h"},
    ]
    assert [r["status"] for r in runs] == ["completed", "in-progress"]


# --- the exported bundle ----------------------------------------------------------------------


@pytest.mark.parametrize("name", EXAMPLE_FILES)
def test_exported_bundle_is_valid_fhir_r4_with_resolvable_references(name: str) -> None:
    bundle = episode_to_bundle(read_example(name)[0])
    assert Bundle.model_validate(bundle).type == "collection"
    urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(set(urls)) == len(urls)
    assert all(u.startswith("urn:uuid:") for u in urls)
    text = json.dumps(bundle)
    for ref in (part.split('"')[0] for part in text.split('"reference": "')[1:]):
        assert ref in urls


def test_export_is_deterministic_byte_for_byte() -> None:
    ep = Episode.model_validate_json(json.dumps(RICH))
    assert json.dumps(episode_to_bundle(ep)) == json.dumps(episode_to_bundle(copy.deepcopy(ep)))


def test_exported_bundle_uses_the_standard_systems() -> None:
    bundle = episode_to_bundle(Episode.model_validate_json(json.dumps(RICH)))
    patient = resources(bundle, "Patient")[0]
    assert patient["extension"] == [
        {"url": "http://hl7.org/fhir/StructureDefinition/tz-code", "valueCode": "America/Chicago"}
    ]
    assert patient["gender"] == "female"
    practitioner = resources(bundle, "Practitioner")[0]
    assert practitioner["identifier"][0]["system"] == "http://hl7.org/fhir/sid/us-npi"
    conditions = resources(bundle, "Condition")
    assert [c["code"]["coding"][0] for c in conditions] == [
        {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "G89.3"},
        {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C79.51"},
    ]
    coverage = resources(bundle, "Coverage")[0]
    assert coverage["relationship"]["coding"][0] == {
        "system": "http://terminology.hl7.org/CodeSystem/subscriber-relationship",
        "code": "spouse",
    }
    assert coverage["class"][0]["type"]["coding"][0]["code"] == "group"
    assert (
        coverage["subscriber"]["reference"]
        == bundle["entry"][entry_index(bundle, "RelatedPerson")]["fullUrl"]
    )
    payer = resources(bundle, "Organization")[0]
    assert payer["identifier"] == [
        {"system": "https://hitclaims.example/fhir/payer-id", "value": "test-payer"}
    ]
    dispense = resources(bundle, "MedicationDispense")[0]
    assert dispense["medicationCodeableConcept"]["coding"][0] == {
        "system": "http://hl7.org/fhir/sid/ndc",
        "code": "0409-1234-01",
    }
    assert dispense["quantity"]["value"] == 83.33
    supply = resources(bundle, "SupplyDelivery")[0]
    assert supply["suppliedItem"]["itemCodeableConcept"]["coding"] == [
        {"system": "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets", "code": "A4221"}
    ]
    classes = {e["class"]["code"] for e in resources(bundle, "Encounter")}
    assert classes == {"IMP", "HH"}
    assert {e["class"]["system"] for e in resources(bundle, "Encounter")} == {
        "http://terminology.hl7.org/CodeSystem/v3-ActCode"
    }
    order = resources(bundle, "MedicationRequest")[0]
    assert [c["system"] for c in order["medicationCodeableConcept"]["coding"]] == [
        "https://hitclaims.example/fhir/drug-key"
    ] * 2
    adjustment = resources(bundle, "MedicationRequest")[2]
    assert (
        adjustment["priorPrescription"]["reference"]
        == bundle["entry"][entry_index(bundle, "MedicationRequest")]["fullUrl"]
    )


def test_decimals_are_exact_json_numbers() -> None:
    text = json.dumps(episode_to_bundle(Episode.model_validate_json(json.dumps(RICH))))
    assert '"value": 83.33,' in text
    assert '"value": 250,' in text
    # 2.50 as a number is 2.5: the standard quantity-precision extension restores the zero.
    assert (
        '"_value": {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/quantity-precision"'
        in text
    )
    back, _ = bundle_to_episode("ep.fhir.json", text, CATALOG)
    assert back.dispenses[0].quantity == Decimal("83.33")
    assert back.dispenses[0].amount.as_tuple() == Decimal("2.50").as_tuple()


# --- import: notes and errors -----------------------------------------------------------------


def test_an_unmappable_resource_is_reported_in_the_notes() -> None:
    bundle = base_bundle()
    bundle["entry"].append(
        {
            "fullUrl": "urn:uuid:00000000-0000-0000-0000-000000000001",
            "resource": {
                "resourceType": "Immunization",
                "status": "completed",
                "vaccineCode": {"text": "influenza"},
                "patient": {"reference": bundle["entry"][0]["fullUrl"]},
                "occurrenceDateTime": "2025-03-04",
            },
        }
    )
    ep, notes = import_raw(bundle)
    assert ep.model_dump() == episode().model_dump()
    index = len(bundle["entry"]) - 1
    assert notes == [
        f"entry[{index}] Immunization: resource type Immunization is not mapped to an episode; ignored."
    ]


def test_an_unknown_extension_and_an_unread_element_are_reported_in_the_notes() -> None:
    bundle = base_bundle()
    patient = bundle["entry"][0]["resource"]
    patient["extension"].append({"url": "https://example.org/fhir/religion", "valueString": "x"})
    patient["deceasedBoolean"] = False
    _, notes = import_raw(bundle)
    assert (
        "entry[0] Patient/P-T1: extension https://example.org/fhir/religion is not mapped; ignored." in notes
    )
    assert "entry[0] Patient/P-T1: element(s) deceasedBoolean not mapped; ignored." in notes


def test_a_second_patient_is_reported_and_the_first_is_used() -> None:
    bundle = base_bundle()
    other = copy.deepcopy(bundle["entry"][0])
    other["fullUrl"] = "urn:uuid:00000000-0000-0000-0000-000000000002"
    other["resource"]["identifier"][0]["value"] = "P-OTHER"
    bundle["entry"].append(other)
    ep, notes = import_raw(bundle)
    assert ep.patient.id == "P-T1"
    assert any("Patient/P-OTHER: a second Patient; only entry[0] Patient/P-T1 is used" in n for n in notes)


def test_a_progress_note_observation_is_accepted() -> None:
    bundle = base_bundle()
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] != "DocumentReference"]
    bundle["entry"].append(
        {
            "fullUrl": "urn:uuid:00000000-0000-0000-0000-000000000003",
            "resource": {
                "resourceType": "Observation",
                "status": "final",
                "code": {"text": "progress-note"},
                "effectiveDateTime": "2025-03-04T23:30:00-06:00",
                "performer": [{"display": "RN Ray"}],
                "valueString": "Site clean.",
            },
        }
    )
    ep, notes = import_raw(bundle)
    assert notes == []
    assert [(n.date.isoformat(), n.author, n.text) for n in ep.progress_notes] == [
        ("2025-03-04", "RN Ray", "Site clean.")
    ]


def test_a_bundle_without_a_patient_is_unusable_and_the_error_names_the_file() -> None:
    bundle = base_bundle()
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] != "Patient"]
    error = import_error(bundle)
    assert error.file == "ep.fhir.json"
    assert str(error).startswith("ep.fhir.json: ")
    assert "no Patient" in error.problem


def test_a_dispense_without_an_ndc_is_unusable_and_the_error_names_the_record() -> None:
    ep = Episode.model_validate_json(json.dumps(RICH))
    bundle = episode_to_bundle(ep)
    index = entry_index(bundle, "MedicationDispense")
    coding = bundle["entry"][index]["resource"]["medicationCodeableConcept"]["coding"]
    coding[:] = [c for c in coding if c["system"] != "http://hl7.org/fhir/sid/ndc"]
    error = import_error(bundle)
    assert error.record == f"entry[{index}] MedicationDispense/D-1"
    assert error.field == "medicationCodeableConcept"
    assert "NDC" in error.problem


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{not json", "not valid JSON"),
        ('["Bundle"]', "not a FHIR Bundle"),
        ('{"resourceType": "Patient"}', "not a FHIR Bundle"),
        (json.dumps({"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Nope"}}]}),
         "'Nope' is not a FHIR R4 resource type"),
    ],
)  # fmt: skip
def test_text_that_is_not_a_fhir_bundle_is_unusable(text: str, problem: str) -> None:
    assert problem in import_error(text).problem


def test_is_fhir_bundle_is_a_cheap_shape_check() -> None:
    assert is_fhir_bundle(json.dumps(base_bundle()))
    assert not is_fhir_bundle(json.dumps(episode_dict()))
    assert not is_fhir_bundle("{not json")
    assert not is_fhir_bundle('"Bundle"')


def test_malformed_fhir_names_the_entry_and_element() -> None:
    bundle = base_bundle()
    bundle["entry"][0]["resource"]["birthDate"] = "Patient-1950"
    error = import_error(bundle)
    assert (error.record, error.field) == ("entry[0] Patient/P-T1", "birthDate")
    assert "not valid FHIR R4" in error.problem


def test_an_episode_level_error_points_at_the_bundle_entry_it_came_from() -> None:
    bundle = base_bundle()
    index = entry_index(bundle, "MedicationRequest")
    bundle["entry"][index]["resource"]["medicationCodeableConcept"]["coding"][0]["code"] = "aspirin"
    error = import_error(bundle)
    assert (error.record, error.field) == (
        f"entry[{index}] MedicationRequest/O-1",
        "medicationCodeableConcept",
    )
    assert "unknown drug 'aspirin'" in error.problem


def test_a_modifier_extension_is_refused() -> None:
    bundle = base_bundle()
    index = entry_index(bundle, "Condition")
    bundle["entry"][index]["resource"]["modifierExtension"] = [
        {"url": "https://example.org/not", "valueBoolean": True}
    ]
    error = import_error(bundle)
    assert (error.record, error.field) == (f"entry[{index}] Condition", "modifierExtension")


BREAKAGES: list[tuple[str, Any]] = [
    ("birth date not a date", lambda p: p.update(birthDate="Quillfeather")),
    ("birth date impossible", lambda p: p.update(birthDate="1950-02-30")),
    ("no time zone", lambda p: p.pop("extension")),
    ("zip with the city", lambda p: p["address"][0].update(postalCode="Hiddenvale 5")),
    ("family name too long", lambda p: p["name"][0].update(family="Quillfeather" * 6)),
    ("given name blank", lambda p: p["name"][0].update(given=["  "])),
    ("state is the city", lambda p: p["address"][0].update(state="Hiddenvale")),
    ("city too short", lambda p: p["address"][0].update(city="Q")),
    ("no gender", lambda p: p.pop("gender")),
]


@pytest.mark.parametrize(("case", "mutate"), BREAKAGES, ids=[b[0] for b in BREAKAGES])
def test_error_texts_carry_no_personal_values(case: str, mutate: Any) -> None:
    bundle = base_bundle()
    patient = bundle["entry"][0]["resource"]
    patient["name"] = [{"family": PERSON["family"], "given": [PERSON["given"]]}]
    patient["address"][0].update(line=[PERSON["line"]], city=PERSON["city"])
    mutate(patient)
    text = str(import_error(bundle))
    assert "entry[0] Patient/P-T1" in text
    assert not [value for value in [*PERSON.values(), "1950"] if value in text], text


def test_a_progress_note_error_does_not_quote_the_note_or_author() -> None:
    bundle = base_bundle()
    index = entry_index(bundle, "DocumentReference")
    bundle["entry"][index]["resource"]["author"] = [{"display": "RPh Lee " + "x" * 60}]
    error = import_error(bundle)
    assert error.record == f"entry[{index}] DocumentReference"
    assert error.field == "author.display"
    assert "RPh Lee" not in str(error)


def test_a_bundle_from_another_system_maps_by_relative_references_and_notes_what_it_leaves_out() -> None:
    bundle = base_bundle()
    # Another system: server ids and relative references instead of urn:uuid fullUrls.
    ids = {e["fullUrl"]: f"{e['resource']['resourceType']}/r{i}" for i, e in enumerate(bundle["entry"])}
    text = json.dumps(bundle)
    for url, relative in ids.items():
        text = text.replace(url, relative)
    bundle = json.loads(text)
    for entry in bundle["entry"]:
        entry["resource"]["id"] = entry["fullUrl"].split("/")[1]
        entry["fullUrl"] = "https://ehr.example/fhir/" + entry["fullUrl"]
    run = bundle["entry"][entry_index(bundle, "MedicationAdministration")]["resource"]
    run.pop("extension")  # no pump-event extensions: a plain run from start (to stop, if ended)
    run["effectivePeriod"]["end"] = "2025-03-20T10:00:00-05:00"
    bundle["entry"][0]["resource"]["telecom"] = [{"system": "phone", "value": "555-0100"}]
    note = entry_index(bundle, "DocumentReference")
    bundle["entry"][note]["resource"]["status"] = "entered-in-error"
    ep, notes = import_raw(bundle)
    assert [(e.type, e.at.isoformat()) for e in ep.pump_events] == [
        ("start", "2025-03-03T10:00:00-06:00"),
        ("stop", "2025-03-20T10:00:00-05:00"),
    ]
    assert ep.progress_notes == episode().progress_notes[1:]
    assert notes == [
        "entry[0] Patient/P-T1: element(s) telecom not mapped; ignored.",
        f"entry[{note}] DocumentReference/r{note}: status entered-in-error; ignored.",
    ]
