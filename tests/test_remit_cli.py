"""`hitclaims remit` and `hitclaims simulate-835`: an 837 we wrote, answered by the simulated
payer, reads back with every line matched and the money balanced to the cent."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hitclaims.cli import app
from hitclaims.formats.x12.validate import validate_x12

ROOT = Path(__file__).resolve().parent.parent
EX3 = ROOT / "examples" / "ex3-epidural-cocktail.json"
FIXTURES = Path(__file__).parent / "fixtures" / "835"
runner = CliRunner()
MONEY = re.compile(r"^-?\d+\.\d{2}$")


@pytest.fixture(scope="module")
def claims_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("remit")
    billed = runner.invoke(
        app, ["bill", str(EX3), "--from", "2025-09-01", "--to", "2025-09-14", "--as-of", "2025-09-16"]
    )
    assert billed.exit_code == 0, billed.stderr
    path = folder / "claims.json"
    path.write_text(billed.stdout)
    return path


def _simulate(claims_file: Path, *more: str) -> Path:
    out = claims_file.parent / f"payer{len(more)}.835"
    done = runner.invoke(
        app, ["simulate-835", str(claims_file), "--out", str(out), "--paid-on", "2025-10-01", *more]
    )
    assert done.exit_code == 0, done.stderr
    return out


def test_a_simulated_answer_to_our_claims_matches_every_line_and_balances(claims_file: Path) -> None:
    answer = _simulate(claims_file, "--patient-share", "0.2")
    assert validate_x12(answer.read_text()).valid
    result = runner.invoke(app, ["remit", str(answer), "--claims", str(claims_file)])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    (remit,) = data["remittances"]
    assert set(remit) >= {
        "payer",
        "trace_number",
        "paid_on",
        "amount",
        "balanced",
        "provider_adjustments",
        "claims",
    }
    assert remit["balanced"] is True
    (claim,) = remit["claims"]
    assert set(claim) >= {
        "claim_id", "status_code", "status", "charge", "paid", "patient_responsibility",
        "payer_claim_id", "adjustments", "lines", "balanced", "matched",
    }  # fmt: skip
    assert claim["matched"] is True
    assert all(line["matched_line"] is not None for line in claim["lines"])
    assert [line["matched_line"] for line in claim["lines"]] == list(range(1, len(claim["lines"]) + 1))
    for key in ("charge", "paid", "patient_responsibility"):
        assert MONEY.match(claim[key])
    assert set(claim["lines"][0]) >= {
        "code",
        "modifiers",
        "from",
        "to",
        "units",
        "charge",
        "paid",
        "adjustments",
        "line_control",
    }
    assert data["findings"] == []


def test_a_denied_line_reads_with_its_reason(claims_file: Path) -> None:
    claim_id = json.loads(claims_file.read_text())["claims"][0]["claim_id"]
    answer = _simulate(claims_file, "--deny-auth", f"{claim_id}#1")
    data = json.loads(runner.invoke(app, ["remit", str(answer), "--claims", str(claims_file)]).stdout)
    first = data["remittances"][0]["claims"][0]["lines"][0]
    assert first["paid"] == "0.00"
    assert {(a["group"], a["reason"]) for a in first["adjustments"]} == {("CO", "197")}


@pytest.mark.parametrize("name", ["managed_care.835", "medicare_part_a.835", "reversal_correction.835"])
def test_the_guides_examples_read_and_balance_on_the_command_line(name: str) -> None:
    result = runner.invoke(app, ["remit", str(FIXTURES / name), "--format", "text"])
    assert result.exit_code == 0, result.stderr
    assert "balances" in result.stdout
    assert "DOES NOT BALANCE" not in result.stdout


def test_an_unreadable_835_is_exit_2_naming_the_line_and_segment(tmp_path: Path) -> None:
    cut = (FIXTURES / "managed_care.835").read_text()
    broken = tmp_path / "cut.835"
    broken.write_text(cut[: len(cut) // 2])
    result = runner.invoke(app, ["remit", str(broken)])
    assert result.exit_code == 2
    assert "cut.835" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
