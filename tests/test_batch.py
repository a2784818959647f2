"""Billing a population in bulk (issue 10, items 2 and 7): Parquet tables sorted by their keys,
pyx12-valid 837s per payer, a bad episode reported by its line, the same results as billing each
episode with `bill_one`, and the same bytes from one worker or two."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from hitclaims.cli_batch import register
from hitclaims.core.claim import Claim
from hitclaims.core.days import Period
from hitclaims.core.errors import InputError
from hitclaims.formats.parquet_out import SORT_KEYS, TABLES, claim_tables
from hitclaims.formats.x12.validate import validate_x12
from hitclaims.inputs.loading import parse_episode
from hitclaims.services.batch import MAX_CLAIMS_PER_FILE, BatchOutcome, run_batch
from hitclaims.services.billing import Setup, bill_one
from hitclaims.services.population import generate

PERIOD = Period(date(2025, 3, 1), date(2025, 3, 31))
AS_OF = date(2025, 4, 5)
EPISODES = 40
NOT_JSON_LINE = 5  # a line that is not JSON at all
UNKNOWN_PAYER_LINE = 9  # a well-formed episode whose payer has no policy


@dataclass(frozen=True)
class Batch:
    source: Path
    one: Path
    two: Path
    outcome: BatchOutcome


@pytest.fixture(scope="module")
def billed(setup: Setup, tmp_path_factory: pytest.TempPathFactory) -> Batch:
    folder = tmp_path_factory.mktemp("batch")
    population = folder / "population.ndjson"
    generate(population, EPISODES, 21, None, "2025-03", workers=1)
    lines = population.read_text().splitlines()
    lines.insert(NOT_JSON_LINE - 1, "{not json")
    unknown = json.loads(lines[UNKNOWN_PAYER_LINE - 1])
    unknown["coverage"]["payer_id"] = "no-such-payer"
    lines[UNKNOWN_PAYER_LINE - 1] = json.dumps(unknown)
    population.write_text("\n".join(lines) + "\n")
    outcome = run_batch(population, folder / "one", setup, PERIOD, AS_OF, workers=1, chunk_episodes=7)
    run_batch(population, folder / "two", setup, PERIOD, AS_OF, workers=2, chunk_episodes=7)
    return Batch(population, folder / "one", folder / "two", outcome)


def _bill_each(setup: Setup, source: Path) -> list[Claim]:
    claims: list[Claim] = []
    for number, text in enumerate(source.read_text().splitlines(), start=1):
        try:
            episode = parse_episode(f"{source.name}:{number}", text, setup.catalog)
            claims.extend(bill_one(f"{source.name}:{number}", episode, setup, PERIOD, AS_OF))
        except InputError:
            continue
    return claims


def test_batch_writes_every_table_sorted_by_its_key(billed: Batch) -> None:
    for table in TABLES:
        content = pq.read_table(billed.one / f"{table}.parquet")
        keys = list(zip(*(content.column(k).to_pylist() for k in SORT_KEYS[table]), strict=True))
        assert keys == sorted(keys), table
    assert pq.read_table(billed.one / "claims.parquet").num_rows == billed.outcome.claims


def test_batch_results_equal_billing_each_episode_with_bill_one(setup: Setup, billed: Batch) -> None:
    expected = claim_tables(_bill_each(setup, billed.source))
    with duckdb.connect() as db:
        for table in TABLES:
            reference = expected[table]
            db.register("reference", reference)
            written = f"read_parquet('{billed.one / table}.parquet')"
            assert db.execute(f"SELECT count(*) FROM {written}").fetchone() == (reference.num_rows,)
            for query in (f"SELECT * FROM reference EXCEPT ALL SELECT * FROM {written}",
                          f"SELECT * FROM {written} EXCEPT ALL SELECT * FROM reference"):  # fmt: skip
                assert db.execute(query).fetchall() == [], table
            db.unregister("reference")


def test_a_bad_episode_is_reported_with_its_line_and_the_rest_are_billed(billed: Batch) -> None:
    lines = [line for line, _ in billed.outcome.errors]
    assert lines == [NOT_JSON_LINE, UNKNOWN_PAYER_LINE]
    assert "payer_id" in billed.outcome.errors[1][1]
    reported = [json.loads(line) for line in (billed.one / "errors.ndjson").read_text().splitlines()]
    assert [r["line"] for r in reported] == lines
    assert billed.outcome.episodes == EPISODES + 1
    episodes = pq.read_table(billed.one / "claims.parquet").column("episode_id").to_pylist()
    assert len(set(episodes)) == EPISODES - 1


def test_837_files_are_per_payer_pyx12_valid_and_hold_every_ready_claim(billed: Batch) -> None:
    claims = pq.read_table(billed.one / "claims.parquet").to_pylist()
    ready = {c["claim_id"]: c["payer_id"] for c in claims if c["status"] == "ready"}
    found: dict[str, str] = {}
    for path in sorted((billed.one / "837").iterdir()):
        text = path.read_text()
        report = validate_x12(text)
        assert report.valid, [p.sentence() for p in report.problems]
        ids = [s.split("*")[1] for s in text.splitlines() if s.startswith("CLM*")]
        assert 0 < len(ids) <= MAX_CLAIMS_PER_FILE
        found.update(dict.fromkeys(ids, path.name.rsplit("-", 1)[0]))
    assert found == ready


def test_one_worker_and_two_give_the_same_bytes(billed: Batch) -> None:
    names = sorted(p.relative_to(billed.one) for p in billed.one.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(billed.two) for p in billed.two.rglob("*") if p.is_file())
    for name in names:
        assert (billed.one / name).read_bytes() == (billed.two / name).read_bytes(), name


def test_the_summary_is_queryable_with_duckdb_and_adds_up(billed: Batch) -> None:
    with duckdb.connect() as db:
        summary = f"read_json('{billed.one / 'summary.json'}')"
        charges = db.execute(f"SELECT sum(charge_cents) FROM {summary} WHERE rule IS NULL").fetchone()
        claims = f"read_parquet('{billed.one / 'claims.parquet'}')"
        total = db.execute(f"SELECT CAST(sum(total_charge) * 100 AS BIGINT) FROM {claims}").fetchone()
        assert charges == total
        held = db.execute(f"SELECT sum(held_days) FROM {summary} WHERE rule IS NOT NULL").fetchone()
        rows = pq.read_table(billed.one / "held_days.parquet").num_rows
        assert held is not None
        assert held[0] == rows
        refused = db.execute(
            f"SELECT refused FROM {summary} WHERE payer_id = 'medicare-ffs' AND rule IS NULL"
        )
        assert refused.fetchone()[0] > 0  # type: ignore[index]


def test_a_parquet_input_bills_the_same_as_ndjson(setup: Setup, billed: Batch, tmp_path: Path) -> None:
    source = tmp_path / "population.parquet"
    texts = billed.source.read_text().splitlines()
    pq.write_table(pa.table({"episode": texts}), source)
    outcome = run_batch(source, tmp_path / "out", setup, PERIOD, AS_OF, workers=1)
    assert [line for line, _ in outcome.errors] == [NOT_JSON_LINE, UNKNOWN_PAYER_LINE]
    for table in TABLES:
        assert (tmp_path / "out" / f"{table}.parquet").read_bytes() == (
            billed.one / f"{table}.parquet"
        ).read_bytes()


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_the_command_line_generates_and_bills(tmp_path: Path) -> None:
    runner = CliRunner()
    population = tmp_path / "p.ndjson"
    made = runner.invoke(_app(), ["generate", "--episodes", "12", "--seed", "4", "--out", str(population)])
    assert made.exit_code == 0, made.output
    billed = runner.invoke(
        _app(),
        ["batch", str(population), "--from", "2025-03-01", "--to", "2025-03-31", "--as-of", "2025-04-05",
         "--out", str(tmp_path / "out"), "--workers", "1"],
    )  # fmt: skip
    assert billed.exit_code == 0, billed.output
    assert (tmp_path / "out" / "summary.json").is_file()


_KILLED_PARENT = """
import os, sys, time
from hitclaims.services.pool import Workers

def nothing() -> None:
    pass

def pid(_: int) -> int:
    time.sleep(0.2)
    return os.getpid()

if __name__ == "__main__":
    with Workers(2, nothing) as workers:
        print(" ".join(str(p) for p in set(workers.map(pid, range(8)))), flush=True)
        time.sleep(120)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone but for its exit status.
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    return True


def test_workers_end_when_the_batch_that_started_them_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "killed_parent.py"
    script.write_text(_KILLED_PARENT)
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    workers = [int(p) for p in parent.stdout.readline().split()]
    assert workers
    assert all(_alive(p) for p in workers)
    parent.kill()  # and not reaped yet: a zombie's pid still answers os.kill
    deadline = time.monotonic() + 60  # generous on a busy machine; they check once a second
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    parent.wait()
    assert not any(_alive(p) for p in workers)
