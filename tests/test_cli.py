"""The command line as SPEC describes it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hitclaims.cli import app
from hitclaims.formats.result_json import read_json
from hitclaims.inputs.schemas import schema_text

ROOT = Path(__file__).resolve().parent.parent
EX1 = ROOT / "examples" / "ex1-morphine-cancer.json"
EX3 = ROOT / "examples" / "ex3-epidural-cocktail.json"
MARCH = ["--from", "2025-03-01", "--to", "2025-03-31", "--as-of", "2025-04-02"]
runner = CliRunner()


def test_bill_prints_the_result_json_by_default() -> None:
    result = runner.invoke(app, ["bill", str(EX1), *MARCH])
    assert result.exit_code == 0, result.stderr
    claims = read_json(result.stdout).claims
    assert [c.claim_id for c in claims] == ["EX1-MORPHINE-202503"]
    assert claims[0].lines[0].units == 29


def test_bill_text_prints_status_lines_findings_and_the_ledger_calendar() -> None:
    result = runner.invoke(
        app,
        [
            "bill",
            str(EX3),
            "--from",
            "2025-09-01",
            "--to",
            "2025-09-14",
            "--as-of",
            "2025-09-16",
            "--format",
            "text",
        ],
    )
    assert result.exit_code == 0
    text = result.stdout
    for expected in (
        "READY",
        "S9326",
        "Held days: 2025-09-12 note.missing",
        "September 2025",
        " 12H",
        "  9-",
        "note.missing",
    ):
        assert expected in text, expected


def test_bill_out_writes_the_files_and_billing_twice_is_byte_identical(tmp_path: Path) -> None:
    for run in ("a", "b"):
        result = runner.invoke(app, ["bill", str(EX1), *MARCH, "--out", str(tmp_path / run)])
        assert result.exit_code == 0
    for name in ("claims.json", "report.txt"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


@pytest.mark.parametrize("name", ["episode", "result"])
def test_the_committed_json_schemas_are_the_ones_the_code_generates(name: str) -> None:
    committed = (ROOT / "schemas" / f"{name}.schema.json").read_text()
    assert committed == schema_text(name), "run `make schemas` and commit the result"
    result = runner.invoke(app, ["schema", name])
    assert result.stdout == committed


def test_the_episode_schema_refuses_unknown_fields() -> None:
    schema = json.loads(schema_text("episode"))
    assert schema["additionalProperties"] is False


def test_demo_bills_the_bundled_examples_into_out_and_prints_the_report(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    claims = read_json((tmp_path / "claims.json").read_text()).claims
    assert sorted(c.episode_id for c in claims) == ["EX1-MORPHINE", "EX2-FENTANYL", "EX3-EPIDURAL-COCKTAIL"]
    assert "3 claim(s), 3 ready" in result.stdout
    assert (tmp_path / "report.txt").read_text().startswith("hitclaims")
