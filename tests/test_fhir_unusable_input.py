"""FHIR in: a malformed bundle is unusable input (an InputError naming the entry and element),
never a crash, and the error never quotes a personal value."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from hitclaims.core.errors import InputError
from hitclaims.core.records import Episode
from hitclaims.formats.fhir.episode_in import bundle_to_episode
from hitclaims.formats.fhir.episode_out import episode_to_bundle
from hitclaims.formats.fhir.systems import PRECISION

from .builders import CATALOG
from .test_fhir_episode import RICH

Bundle = dict[str, Any]
# A JSON number json.dumps cannot write from Python: the sentinel string is replaced by its digits.
HUGE, HUGE_HOURS = "<1e999999>", "<9.99e999999>"
NUMBERS = {f'"{HUGE}"': "1e999999", f'"{HUGE_HOURS}"': "9.99e999999"}
FAR_PAST = "0001-01-01T00:00:00+14:00"  # year 0 in UTC: no calendar can count it


def rich_bundle() -> Bundle:
    return episode_to_bundle(Episode.model_validate_json(json.dumps(RICH)))


def nth(bundle: Bundle, kind: str, n: int = 0) -> tuple[int, dict[str, Any]]:
    found = [
        (i, e["resource"]) for i, e in enumerate(bundle["entry"]) if e["resource"]["resourceType"] == kind
    ]
    return found[n]


def text_of(bundle: Bundle) -> str:
    text = json.dumps(bundle)
    for sentinel, digits in NUMBERS.items():
        text = text.replace(sentinel, digits)
    return text


def import_error(bundle: Bundle | str) -> InputError:
    text = bundle if isinstance(bundle, str) else text_of(bundle)
    with pytest.raises(InputError) as caught:
        bundle_to_episode("ep.fhir.json", text, CATALOG)
    return caught.value


def outcome(text: str) -> InputError | None:
    """The InputError the text gives, or None when it reads as an episode; anything else escapes."""
    try:
        bundle_to_episode("ep.fhir.json", text, CATALOG)
    except InputError as error:
        return error
    return None


def broken(kind: str, n: int, mutate: Callable[[dict[str, Any]], object]) -> tuple[Bundle, int]:
    bundle = rich_bundle()
    index, resource = nth(bundle, kind, n)
    mutate(resource)
    return bundle, index


# (case, resource type, which one, mutation, the element the error must name)
HUGE_DECIMALS: list[tuple[str, str, int, Callable[[dict[str, Any]], object], str]] = [
    ("visit length in hours past Decimal's range", "Encounter", 2,
     lambda r: r["length"].update(value=HUGE_HOURS, unit="h", code="h"), "length"),
    ("supply quantity 1e999999", "SupplyDelivery", 0,
     lambda r: r["suppliedItem"]["quantity"].update(value=HUGE), "suppliedItem.quantity"),
    ("visit length 1e999999 minutes", "Encounter", 2, lambda r: r["length"].update(value=HUGE), "length"),
    ("dispense quantity 10**400", "MedicationDispense", 0,
     lambda r: r["quantity"].update(value=10**400), "quantity.value"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "kind", "n", "mutate", "element"), HUGE_DECIMALS, ids=[h[0] for h in HUGE_DECIMALS]
)
def test_a_huge_decimal_is_unusable_input_not_a_crash(
    case: str, kind: str, n: int, mutate: Callable[[dict[str, Any]], object], element: str
) -> None:
    bundle, index = broken(kind, n, mutate)
    error = import_error(bundle)
    assert (error.record or "").startswith(f"entry[{index}] {kind}")
    assert error.field == element


def test_a_document_reference_with_no_content_is_unusable_input() -> None:
    bundle, index = broken("DocumentReference", 0, lambda r: r.update(content=[]))
    error = import_error(bundle)
    assert (error.record, error.field) == (f"entry[{index}] DocumentReference", "content")


def test_an_extension_without_a_value_is_unusable_input() -> None:
    bundle, index = broken("MedicationAdministration", 0, lambda r: r["extension"][0].pop("valueCode"))
    error = import_error(bundle)
    assert (error.record, error.field) == (
        f"entry[{index}] MedicationAdministration/E-1",
        "extension(pump-event)",
    )
    assert "missing" in error.problem


@pytest.mark.parametrize(
    ("kind", "n", "mutate", "element"),
    [
        ("MedicationDispense", 0, lambda r: r.update(whenHandedOver=FAR_PAST), "whenHandedOver"),
        ("Encounter", 0, lambda r: r["period"].update(start=FAR_PAST), "period.start"),
        ("MedicationRequest", 0, lambda r: r.update(authoredOn=FAR_PAST), "authoredOn"),
        ("MedicationAdministration", 0, lambda r: r["effectivePeriod"].update(start=FAR_PAST),
         "effectivePeriod.start"),
    ],
)  # fmt: skip
def test_an_instant_outside_the_calendar_is_unusable_input(
    kind: str, n: int, mutate: Callable[[dict[str, Any]], object], element: str
) -> None:
    bundle, index = broken(kind, n, mutate)
    error = import_error(bundle)
    assert (error.record or "").startswith(f"entry[{index}] {kind}")
    assert error.field == element
    assert "calendar" in error.problem


@pytest.mark.parametrize("zone", ["America", "A" * 300])
def test_a_time_zone_that_is_no_zone_file_is_unusable_input(zone: str) -> None:
    bundle, _ = broken("Patient", 0, lambda r: r["extension"][0].update(valueCode=zone))
    error = import_error(bundle)
    assert (error.record, error.field) == ("entry[0] Patient/P-T1", "extension(tz-code)")
    assert "unknown IANA time zone" in error.problem


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"resourceType": "Bundle", "x": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
        ('{"resourceType": "Bundle", "x": ' + "1" * 5000 + "}", "too many digits"),
    ],
    ids=["deep", "long number"],
)
def test_json_that_python_cannot_read_is_unusable_input(text: str, problem: str) -> None:
    assert problem in import_error(text).problem


def _drop_encounter_class(r: dict[str, Any]) -> None:
    r["class"] = None


MALFORMED: list[tuple[str, str, int, Callable[[dict[str, Any]], object]]] = [
    *((h[0], h[1], h[2], h[3]) for h in HUGE_DECIMALS),
    ("no content", "DocumentReference", 0, lambda r: r.update(content=[])),
    ("content without attachment", "DocumentReference", 0, lambda r: r["content"][0].pop("attachment")),
    ("null attachment", "DocumentReference", 1, lambda r: r["content"][0].update(attachment=None)),
    ("pump event without value", "MedicationAdministration", 0, lambda r: r["extension"][0].pop("valueCode")),
    ("pump end without value", "MedicationAdministration", 0, lambda r: r["extension"][1].pop("valueCode")),
    ("prior authorization parts without values", "Coverage", 0,
     lambda r: [p.pop(k) for p in r["extension"][0]["extension"] for k in list(p) if k != "url"]),
    ("concurrent therapy without values", "EpisodeOfCare", 0,
     lambda r: [p.pop(k) for p in r["extension"][3]["extension"] for k in list(p) if k != "url"]),
    ("tz without value", "Patient", 0, lambda r: r["extension"][0].pop("valueCode")),
    ("precision 2**31-1 places", "MedicationDispense", 0,
     lambda r: r["quantity"].update(_value={"extension": [{"url": PRECISION, "valueInteger": 2**31 - 1}]})),
    ("huge rate", "MedicationRequest", 0,
     lambda r: r["dosageInstruction"][0]["doseAndRate"][0]["rateQuantity"].update(value=HUGE)),
    ("dispensed amount 1e999999", "MedicationDispense", 0,
     lambda r: r["extension"][0]["valueQuantity"].update(value=HUGE)),
    ("far past dispense", "MedicationDispense", 0, lambda r: r.update(whenHandedOver=FAR_PAST)),
    ("far future visit", "Encounter", 3, lambda r: r["period"].update(end="9999-12-31T23:59:59-14:00")),
    ("far past note", "DocumentReference", 1, lambda r: r["context"]["period"].update(start=FAR_PAST)),
    ("encounter without class", "Encounter", 0, _drop_encounter_class),
    ("payor empty", "Coverage", 0, lambda r: r.update(payor=[])),
    ("zone folder", "Patient", 0, lambda r: r["extension"][0].update(valueCode="America")),
    ("attachment not UTF-8", "DocumentReference", 0,
     lambda r: r["content"][0]["attachment"].update(data="//79")),
]  # fmt: skip


@pytest.mark.parametrize(("case", "kind", "n", "mutate"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_malformed_bundle_gives_an_input_error_or_an_episode_never_a_crash(
    case: str, kind: str, n: int, mutate: Callable[[dict[str, Any]], object]
) -> None:
    bundle, _ = broken(kind, n, mutate)
    error = outcome(text_of(bundle))
    if error is not None:
        assert error.file == "ep.fhir.json"
        assert "Spouse" not in str(error)  # the subscriber's name: never quoted
