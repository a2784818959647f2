"""Unusable input (SPEC): exit 2, one plain message naming the file, record and field; nothing
billed from that file, no traceback, and the other files still billed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hitclaims.cli import app

from .builders import episode_dict

runner = CliRunner()
PERIOD = ["--from", "2025-03-01", "--to", "2025-03-31", "--as-of", "2025-04-02"]


def write(tmp_path: Path, data: Any, name: str = "ep.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def run_bill(*args: str) -> Any:
    return runner.invoke(app, ["bill", *args, *PERIOD])


def broken(mutate: Any) -> dict[str, Any]:
    data = episode_dict()
    data["coverage"]["payer_id"] = "nhia-commercial-access"
    mutate(data)
    return data


CASES: list[tuple[str, Any, str]] = [
    ("malformed JSON", '{"episode_id": "EP-1",', "not valid JSON: Expecting"),
    ("missing field", lambda d: d.pop("prescriber"), "field 'prescriber': is required and missing"),
    (
        "wrong type",
        lambda d: d["supplies"][0].update(quantity="four"),
        "record supplies[0] (date 2025-03-03): field 'quantity'",
    ),
    (
        "impossible date",
        lambda d: d["orders"][0].update(start="2025-02-30"),
        "record orders[0] (id O-1): field 'start': input should be a valid date",
    ),
    (
        "naive timestamp",
        lambda d: d["pump_events"][0].update(at="2025-03-03T10:00:00"),
        "record pump_events[0] (at 2025-03-03T10:00:00): field 'at': input should have timezone info",
    ),
    (
        "negative quantity",
        lambda d: d["dispenses"].append(
            {
                "date": "2025-03-03",
                "drug": "morphine",
                "ndc": "0409-1234-01",
                "quantity": "-5",
                "unit": "ML",
                "amount": "250",
                "amount_unit": "mg",
            }
        ),
        "record dispenses[0] (date 2025-03-03): field 'quantity': input should be greater than 0",
    ),
    (
        "float money",
        lambda d: d["concurrent_therapies"].append({"code": "S9500", "start": "2025-03-05", "rate": 120.5}),
        "field 'rate': write decimals as JSON strings",
    ),
    (
        "unknown field",
        lambda d: d["orders"][0].update(dosage="2 mg"),
        "record orders[0] (id O-1): field 'dosage': unknown field",
    ),
    (
        "unknown drug",
        lambda d: d["orders"][0].update(drug="morfine"),
        "record orders[0] (id O-1): field 'drug': unknown drug 'morfine'",
    ),
    (
        "unknown payer",
        lambda d: d["coverage"].update(payer_id="nobody-health"),
        "record coverage: field 'payer_id': no payer policy for payer 'nobody-health'",
    ),
    (
        "adjustment naming no order",
        lambda d: d["adjustments"].append(
            {"at": "2025-03-15T09:00:00-05:00", "order_id": "O-9", "rate": "3 mL/h"}
        ),
        "record adjustments[0] (at 2025-03-15T09:00:00-05:00): field 'order_id': no order with id 'O-9'",
    ),
    (
        "unknown time zone",
        lambda d: d["patient"].update(timezone="Mars/Olympus"),
        "record patient (id P-T1): field 'timezone': unknown IANA time zone (use a name such as"
        ' America/Chicago) (got "Mars/Olympus")',
    ),
]


@pytest.mark.parametrize(("label", "mutate", "message"), CASES, ids=[c[0] for c in CASES])
def test_unusable_input_exits_2_with_a_message_naming_file_record_and_field(
    tmp_path: Path, label: str, mutate: Any, message: str
) -> None:
    path = write(tmp_path, mutate if isinstance(mutate, str) else broken(mutate))
    result = run_bill(str(path))
    assert result.exit_code == 2, result.output
    assert f"{path}: " in result.stderr
    assert message in result.stderr.replace("\n", ""), result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert json.loads(result.stdout)["claims"] == []  # nothing billed from that file


def test_a_bad_file_does_not_stop_the_good_ones(tmp_path: Path) -> None:
    good = write(tmp_path, broken(lambda d: None), "good.json")
    bad = write(tmp_path, "{", "bad.json")
    result = run_bill(str(bad), str(good))
    assert result.exit_code == 2
    assert [c["episode_id"] for c in json.loads(result.stdout)["claims"]] == ["EP-T1"]
    assert "bad.json" in result.stderr


def test_personal_values_never_appear_in_error_messages(tmp_path: Path) -> None:
    path = write(tmp_path, broken(lambda d: d["patient"].update(birth_date="1950-02-30")))
    result = run_bill(str(path))
    assert result.exit_code == 2
    assert "1950-02-30" not in result.stderr
    assert "field 'birth_date'" in result.stderr


def _policy_folder(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "acme.yaml").write_text(text)
    return folder


POLICY = "id: acme\nname: Acme\npayer_kind: commercial\nx12_payer_id: '12345'\nclaim_filing_indicator: CI\n"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("billable_days: access\n", "acme.yaml: field 'billable_days': unknown field"),
        ("billable_day: sometimes\n", "acme.yaml: field 'billable_day': input should be 'access'"),
        ("nursing: {extra_mins: 31}\n", "acme.yaml: record nursing: field 'extra_mins': unknown field"),
        (
            "severity_overrides: {note.missng: warning}\n",
            "record severity_overrides: field 'note.missng': unknown rule id",
        ),
        ("fee_schedule: {S9326: 175.5}\n", "write decimals as JSON strings"),
    ],
)
def test_an_unknown_policy_key_or_value_exits_2_naming_the_file_and_key(
    tmp_path: Path, extra: str, message: str
) -> None:
    folder = _policy_folder(tmp_path, POLICY + extra)
    path = write(tmp_path, episode_dict())
    result = runner.invoke(app, ["bill", str(path), *PERIOD, "--policies", str(folder)])
    assert result.exit_code == 2
    assert message in result.stderr.replace("\n", ""), result.stderr


def test_a_bad_period_exits_2(tmp_path: Path) -> None:
    path = write(tmp_path, episode_dict())
    result = runner.invoke(app, ["bill", str(path), "--from", "2025-03-31", "--to", "2025-03-01"])
    assert result.exit_code == 2
    assert "--to 2025-03-01 is before --from 2025-03-31" in result.stderr


def test_a_missing_file_exits_2(tmp_path: Path) -> None:
    result = run_bill(str(tmp_path / "nope.json"))
    assert result.exit_code == 2
    assert "nope.json: no such file" in result.stderr


def test_the_installed_command_prints_no_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, "[1, 2")
    done = subprocess.run(
        [sys.executable, "-m", "hitclaims", "bill", str(path), *PERIOD],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "not valid JSON" in done.stderr
    assert "Traceback" not in done.stderr


# --- issue 8: refusing input costs time linear in its size, and input is bounded ---------------


def test_16000_unknown_keys_are_refused_with_the_first_and_a_count(tmp_path: Path) -> None:
    data = broken(lambda d: None)
    data.update({f"unknown_{i:05d}": i for i in range(16_000)})
    result = run_bill(str(write(tmp_path, data)))
    assert result.exit_code == 2
    assert "field 'unknown_00000': unknown field" in result.stderr
    assert "(and 15999 more problems in this file)" in result.stderr.replace("\n", "")


def test_refusing_many_unknown_keys_looks_at_each_error_a_few_times_never_at_every_pair(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import builtins

    from hitclaims.core.errors import InputError
    from hitclaims.inputs import loading

    from .builders import CATALOG

    keys = 3_000
    data = broken(lambda d: None)
    data.update({f"unknown_{i:05d}": i for i in range(keys)})
    # Every comparison of two errors measures their locations: count what the module measures.
    measured = 0

    def counted_len(value: Any) -> int:
        nonlocal measured
        measured += 1
        return builtins.len(value)

    monkeypatch.setattr(loading, "len", counted_len, raising=False)
    with pytest.raises(InputError) as refusal:
        loading.parse_episode("ep.json", json.dumps(data), CATALOG)
    assert refusal.value.more == keys - 1
    assert measured < 10 * keys  # pairwise would be 9 million


def test_a_file_over_the_input_size_limit_is_refused_unread(tmp_path: Path) -> None:
    from hitclaims.inputs.loading import MAX_INPUT_BYTES

    path = tmp_path / "big.json"
    path.write_bytes(b" " * (MAX_INPUT_BYTES + 1))
    result = run_bill(str(path))
    assert result.exit_code == 2
    assert "big.json: is larger than 5 MB" in result.stderr.replace("\n", "")


def test_a_file_at_the_input_size_limit_is_read(tmp_path: Path) -> None:
    from hitclaims.inputs.loading import MAX_INPUT_BYTES

    text = json.dumps(broken(lambda d: None))
    path = write(tmp_path, text + " " * (MAX_INPUT_BYTES - len(text)))
    assert path.stat().st_size == MAX_INPUT_BYTES
    assert run_bill(str(path)).exit_code == 0


def test_a_pump_event_in_year_9999_is_refused_at_import_and_the_other_files_are_billed(
    tmp_path: Path,
) -> None:
    good = write(tmp_path, broken(lambda d: None), "good.json")
    bad = write(
        tmp_path, broken(lambda d: d["pump_events"][0].update(at="9999-12-31T23:59:59-12:00")), "bad.json"
    )
    result = run_bill(str(bad), str(good))
    assert result.exit_code == 2
    assert [c["episode_id"] for c in json.loads(result.stdout)["claims"]] == ["EP-T1"]
    assert "bad.json: record pump_events[0]" in result.stderr
    assert "field 'at': is outside the years 1900 to 2199" in result.stderr.replace("\n", "")


def test_any_failure_billing_one_episode_fails_that_file_only_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hitclaims.core.engine import bill_episode

    def poisoned(episode: Any, *args: Any) -> Any:
        if episode.episode_id == "EP-POISON":
            raise IndexError("list index out of range")
        return bill_episode(episode, *args)

    monkeypatch.setattr("hitclaims.services.billing.bill_episode", poisoned)
    good = write(tmp_path, broken(lambda d: None), "good.json")
    bad = write(tmp_path, broken(lambda d: d.update(episode_id="EP-POISON")), "poison.json")
    result = run_bill(str(bad), str(good))
    assert result.exit_code == 2
    assert [c["episode_id"] for c in json.loads(result.stdout)["claims"]] == ["EP-T1"]
    assert "poison.json: could not be billed" in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert "list index out of range" not in result.stderr
