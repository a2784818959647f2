"""The same engine on Apache Spark (issue 10, item 4): `hitclaims batch --engine spark` on
`local[2]` writes the very bytes `--engine local` writes on the same population, bad lines and
all; a Parquet input bills the same as NDJSON.

One Spark session serves the whole run (it takes seconds to start). Under CI a missing Java or
pyspark fails the run: the Spark engine must be proved there, not skipped.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from hitclaims.cli_batch import register
from hitclaims.core.days import Period
from hitclaims.formats.parquet_out import TABLES
from hitclaims.services.batch import run_batch
from hitclaims.services.billing import Setup
from hitclaims.services.population import generate
from hitclaims.services.spark_batch import run_spark_batch, spark_session

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

PERIOD = Period(date(2025, 3, 1), date(2025, 3, 31))
AS_OF = "2025-04-05"
EPISODES = 60
NOT_JSON_LINE = 5  # a line that is not JSON at all
BLANK_LINE = 12  # counted, but no episode
UNKNOWN_PAYER_LINE = 20  # a well-formed episode whose payer has no policy


def _need_spark() -> None:
    missing = [
        problem
        for problem, absent in (
            ("java is not on PATH (Debian: openjdk-17-jre-headless)", shutil.which("java") is None),
            ("pyspark is not installed (the dev extra pins it)", importlib.util.find_spec("pyspark") is None),
        )
        if absent
    ]
    if not missing:
        return
    message = "the Spark engine cannot be tested: " + "; ".join(missing)
    if os.environ.get("CI"):
        pytest.fail(message + " (scripts/system-deps.sh installs Java; make test installs pyspark)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    _need_spark()
    with spark_session("local[2]") as session:
        # Blocks of 64 kB: the small population is read as several blocks, so numbering lines
        # across blocks (as a big file is read) is what these tests prove.
        session.conf.set("spark.sql.files.maxPartitionBytes", str(64 * 1024))
        yield session


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated population with a bad line, a blank line and an unknown payer among it."""
    source = tmp_path_factory.mktemp("spark") / "population.ndjson"
    generate(source, EPISODES, 7, None, "2025-03", workers=1)
    lines = source.read_text().splitlines()
    lines.insert(NOT_JSON_LINE - 1, "{not json")
    lines.insert(BLANK_LINE - 1, "")
    unknown = json.loads(lines[UNKNOWN_PAYER_LINE - 1])
    unknown["coverage"]["payer_id"] = "no-such-payer"
    lines[UNKNOWN_PAYER_LINE - 1] = json.dumps(unknown)
    source.write_text("\n".join(lines) + "\n")
    return source


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _batch(source: Path, out: Path, *engine: str) -> None:
    app = typer.Typer()
    register(app)
    answer = CliRunner().invoke(
        app,
        ["batch", str(source), "--from", "2025-03-01", "--to", "2025-03-31", "--as-of", AS_OF,
         "--out", str(out), "--workers", "1", *engine],
    )  # fmt: skip
    assert answer.exit_code == 2, answer.output  # 2: the bad lines were reported
    assert f"line {NOT_JSON_LINE}" in answer.output


def test_spark_and_local_engines_write_byte_identical_results(
    spark: SparkSession, population: Path, tmp_path: Path
) -> None:
    _batch(population, tmp_path / "local")
    _batch(population, tmp_path / "spark", "--engine", "spark", "--master", "local[2]")
    local, on_spark = _files(tmp_path / "local"), _files(tmp_path / "spark")
    expected = {*(f"{t}.parquet" for t in TABLES), "summary.json", "errors.ndjson"}
    assert expected <= set(local)
    assert any(name.startswith("837/") for name in local)
    assert sorted(on_spark) == sorted(local)  # no work folder left behind, no file missing
    for name, content in local.items():
        assert on_spark[name] == content, name
    errors = [
        json.loads(line)["line"] for line in (tmp_path / "spark" / "errors.ndjson").read_text().splitlines()
    ]
    assert errors == [NOT_JSON_LINE, UNKNOWN_PAYER_LINE]  # numbered as the file's lines, blank one counted


def test_a_parquet_input_bills_the_same_on_spark(
    spark: SparkSession, setup: Setup, population: Path, tmp_path: Path
) -> None:
    source = tmp_path / "population.parquet"
    texts: list[str | None] = [t for t in population.read_text().splitlines() if t]
    texts[0] = None  # a null episode is a bad one, reported by its row
    pq.write_table(pa.table({"episode": pa.array(texts, pa.string())}), source, row_group_size=16)
    local = run_batch(source, tmp_path / "local", setup, PERIOD, date.fromisoformat(AS_OF), workers=1)
    on_spark = run_spark_batch(spark, source, tmp_path / "spark", setup, PERIOD, date.fromisoformat(AS_OF), 1)
    assert sorted(on_spark.errors) == sorted(local.errors)
    assert [line for line, _ in sorted(on_spark.errors)] == [1, NOT_JSON_LINE, UNKNOWN_PAYER_LINE - 1]
    assert (on_spark.episodes, on_spark.claims) == (local.episodes, local.claims)
    assert _files(tmp_path / "spark") == _files(tmp_path / "local")
