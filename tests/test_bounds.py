"""Bounds at the edge (issue 8, items 2, 4, 5 and 7): numbers, dates, text and periods that no
837 and no time-zone conversion can carry are refused when they arrive, naming the record and
the field and never the value; nothing of them reaches the engine."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hitclaims.cli import app
from hitclaims.core.errors import InputError, UnusableInputError
from hitclaims.core.records import MAX_YEAR, MIN_YEAR
from hitclaims.inputs.loading import parse_episode, parse_policy
from hitclaims.services.billing import checked_period

from .builders import CATALOG, dispense, episode_dict

runner = CliRunner()
PERIOD = ["--from", "2025-03-01", "--to", "2025-03-31", "--as-of", "2025-04-02"]


def refusal(data: dict[str, Any]) -> InputError:
    with pytest.raises(InputError) as caught:
        parse_episode("ep.json", json.dumps(data), CATALOG)
    return caught.value


def with_(path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    data = episode_dict(dispenses=[dispense("morphine", "250")])
    node: Any = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


# --- item 4: dates and times between 1900 and 2199 --------------------------------------------


def test_a_pump_event_at_the_end_of_year_9999_is_refused_at_import_naming_record_and_field() -> None:
    error = refusal(with_(("pump_events", 0, "at"), "9999-12-31T23:59:59-12:00"))
    assert error.record is not None
    assert error.record.startswith("pump_events[0]")
    assert error.field == "at"
    assert f"outside the years {MIN_YEAR} to {MAX_YEAR}" in error.problem


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("orders", 0, "start"), "2200-01-01"),
        (("orders", 0, "signed_at"), "1899-12-31T23:00:00-06:00"),
        (("discontinued_at",), "9999-01-01T00:00:00+14:00"),
        (("progress_notes", 0, "date"), "0001-01-01"),
        (("dispenses", 0, "date"), "2300-05-05"),
    ],
)
def test_every_date_and_time_outside_the_window_is_refused(path: tuple[str | int, ...], value: str) -> None:
    error = refusal(with_(path, value))
    assert error.field == path[-1]
    assert "outside the years" in error.problem


def test_a_birth_date_outside_the_window_is_refused_without_echoing_it() -> None:
    error = refusal(with_(("patient", "birth_date"), "1850-06-01"))
    assert error.field == "birth_date"
    assert "1850" not in str(error)


def test_a_policy_effective_date_outside_the_window_is_refused() -> None:
    text = (
        "id: acme\nname: Acme\npayer_kind: commercial\nx12_payer_id: '12345'\n"
        "claim_filing_indicator: CI\neffective: {from: 9999-01-01}\n"
    )
    with pytest.raises(InputError) as caught:
        parse_policy("acme.yaml", text, CATALOG)
    assert caught.value.field == "from"


# --- item 2: numbers an 837 can carry -----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("1e-1000000", "more than 4 decimal places"),
        ("0.000001", "more than 4 decimal places"),
        ("1234567890", "more than 9 digits before the decimal point"),
        ("1e12", "more than 9 digits before the decimal point"),
        ("1" * 60, "too long for a number"),
    ],
)
def test_a_quantity_of_1e_minus_1000000_or_any_unbounded_decimal_is_refused(value: str, problem: str) -> None:
    error = refusal(with_(("dispenses", 0, "quantity"), value))
    assert error.field == "quantity"
    assert problem in error.problem


def test_trailing_zeros_do_not_count_as_decimal_places() -> None:
    episode = parse_episode("ep.json", json.dumps(with_(("dispenses", 0, "quantity"), "250.000000")), CATALOG)
    assert str(episode.dispenses[0].quantity) == "250.000000"


def test_a_huge_whole_number_is_refused() -> None:
    error = refusal(with_(("supplies", 0, "quantity"), 10**12))
    assert error.field == "quantity"


def test_a_number_of_5000_digits_is_unusable_json_not_an_internal_error() -> None:
    text = json.dumps(with_(("supplies", 0, "quantity"), 4)).replace(
        '"quantity": 4', '"quantity": ' + "9" * 5000
    )
    with pytest.raises(InputError, match="a number is far too long"):
        parse_episode("ep.json", text, CATALOG)


def test_a_policy_fee_with_an_exponent_is_refused() -> None:
    text = (
        "id: acme\nname: Acme\npayer_kind: commercial\nx12_payer_id: '12345'\n"
        "claim_filing_indicator: CI\nfee_schedule: {S9326: '1e-1000000'}\n"
    )
    with pytest.raises(InputError) as caught:
        parse_policy("acme.yaml", text, CATALOG)
    assert "decimal places" in caught.value.problem


# --- item 2: text an 837 can carry --------------------------------------------------------------


def test_a_group_name_in_a_script_x12_cannot_carry_is_refused_naming_the_field_not_the_value() -> None:
    data = episode_dict()
    data["coverage"]["group_number"] = "グループ"
    error = refusal(data)
    assert error.field == "group_number"
    assert "X12" in error.problem
    assert "グループ" not in str(error)


def test_a_non_personal_field_with_odd_characters_is_refused_without_its_value() -> None:
    data = with_(("dispenses", 0, "rx_number"), "RX\u2603")
    error = refusal(data)
    assert error.field == "rx_number"
    assert "\u2603" not in str(error)


def test_accented_names_are_accepted_as_written() -> None:
    data = episode_dict()
    data["patient"]["last_name"] = "Muñoz-Ødegård"
    data["coverage"]["group_number"] = "Grüne Straße"
    episode = parse_episode("ep.json", json.dumps(data), CATALOG)
    assert episode.patient.last_name == "Muñoz-Ødegård"


# --- item 7: other inputs that used to be a 500 -------------------------------------------------


def test_a_deeply_nested_json_upload_is_unusable_input() -> None:
    text = "[" * 100_000 + "]" * 100_000
    with pytest.raises(InputError, match="nested too deeply"):
        parse_episode("upload.json", text, CATALOG)


def test_a_400_character_time_zone_is_unusable_input_naming_the_field() -> None:
    data = episode_dict()
    data["patient"]["timezone"] = "America/" + "x" * 400
    error = refusal(data)
    assert error.field == "timezone"
    assert "unknown IANA time zone" in error.problem


# --- item 5: billing periods within a sane window -----------------------------------------------


@pytest.mark.parametrize(
    ("first", "last", "field"),
    [
        (date(9999, 1, 1), date(9999, 12, 31), "from"),
        (date(2199, 12, 1), date(2200, 1, 31), "to"),
        (date(1899, 12, 1), date(1899, 12, 31), "from"),
    ],
)
def test_a_far_future_or_far_past_period_is_refused(first: date, last: date, field: str) -> None:
    with pytest.raises(UnusableInputError) as caught:
        checked_period(first, last)
    assert caught.value.field == field


def test_bill_refuses_a_year_9999_period_with_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "ep.json"
    path.write_text(json.dumps(episode_dict()))
    result = runner.invoke(app, ["bill", str(path), "--from", "9999-12-01", "--to", "9999-12-31"])
    assert result.exit_code == 2, result.output
    assert "outside the years" in result.stderr


def test_a_fhir_pump_event_in_year_2300_is_refused_by_the_same_record_models(tmp_path: Path) -> None:
    from hitclaims.formats.fhir.episode_out import episode_to_bundle

    from .builders import episode

    text = json.dumps(episode_to_bundle(episode())).replace(
        "2025-03-03T10:00:00-06:00", "2300-12-31T23:59:59-12:00"
    )
    path = tmp_path / "bundle.json"
    path.write_text(text)
    result = runner.invoke(app, ["bill", str(path), *PERIOD])
    assert result.exit_code == 2, result.output
    assert "outside the years 1900 to 2199" in result.stderr.replace("\n", "")
    assert "Traceback" not in result.output + result.stderr
