"""Bill a whole population for one period: NDJSON or Parquet in; Parquet, 837s and a summary out.

Three steps, each streaming:
1. chunks of episodes go to worker processes, each billed with `billing.bill_one` (the engine
   entry point every other path uses); a chunk writes its tables and its ready claims to a work
   folder, and only counts come back;
2. each payer's ready claims become 837 interchanges of at most `MAX_CLAIMS_PER_FILE` claims and
   `MAX_X12_BYTES`, written by the workers;
3. DuckDB sorts each table by its key into `DIR/<table>.parquet` (spilling to disk, so memory
   stays bounded) and sums `DIR/summary.json` from them.

A bad episode is reported by its line (`DIR/errors.ndjson`) and never stops the others.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Final

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from hitclaims.core.days import Period
from hitclaims.formats.parquet_out import SCHEMAS, TABLES
from hitclaims.inputs.ndjson import input_size, read_chunks
from hitclaims.services.batch_work import ChunkDone, ChunkTask, X12Task, bill_chunk, start_worker, write_x12
from hitclaims.services.billing import Setup
from hitclaims.services.pool import Workers

CHUNK_EPISODES: Final = 500  # per task: big enough to amortise the hand-over, small enough to stream
# What clearinghouses accept per interchange: 5,000 claims is the common ceiling, and a few MB
# keeps a file inside upload limits.
MAX_CLAIMS_PER_FILE: Final = 5000
MAX_X12_BYTES: Final = 5_000_000
# A spilled claim is its rendered segments as a JSON list: never shorter than their bytes in the
# file (quotes and commas for the ST/SE the file adds; JSON's \u escapes for UTF-8), so files cut
# at this size keep the whole interchange, envelope included, under MAX_X12_BYTES.
_SPILL_BYTES_PER_FILE: Final = MAX_X12_BYTES - 1000
# DuckDB's own threads and memory for the sort: fixed, so the files' bytes do not depend on the
# machine or on --workers.
_DUCKDB_CONFIG: Final[dict[str, str | bool | int | float | list[str]]] = {
    "threads": 2,
    "memory_limit": "1GB",
    "preserve_insertion_order": True,
}
_ROW_GROUP: Final = 100_000  # rows per Parquet row group in the results

__all__ = ["BatchOutcome", "batch_input_size", "finish", "fresh_folders", "run_batch", "write_837s"]


@dataclass
class BatchOutcome:
    episodes: int = 0
    claims: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, message)
    x12_files: list[Path] = field(default_factory=list)
    # Time by step: read (the parent reading the input), parse, bill and write (summed over the
    # workers' CPU), x12 and sort (wall time of those steps).
    seconds: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(("read", "parse", "bill", "write", "x12", "sort"), 0.0)
    )

    def add(self, done: ChunkDone) -> None:
        self.episodes += done.episodes
        self.claims += done.claims
        self.errors.extend(done.errors)
        for step, seconds in done.seconds.items():
            self.seconds[step] += seconds


def batch_input_size(source: Path) -> int:
    """What `advance` counts to: bytes of an NDJSON file, rows of a Parquet one."""
    return input_size(source)


def run_batch(
    source: Path,
    out: Path,
    setup: Setup,
    period: Period,
    as_of: date,
    workers: int,
    advance: Callable[[int], None] = lambda n: None,
    chunk_episodes: int = CHUNK_EPISODES,
) -> BatchOutcome:
    work = fresh_folders(out)
    outcome = BatchOutcome()
    with Workers(workers, start_worker, (setup,)) as pool:
        tasks = _timed(
            (ChunkTask(c, source.name, period, as_of, work) for c in read_chunks(source, chunk_episodes)),
            outcome.seconds,
        )
        for done in pool.map(bill_chunk, tasks):
            outcome.add(done)
            advance(done.size)
        write_837s(pool, work, out, as_of, outcome)
    finish(work, out, outcome)
    return outcome


def write_837s(pool: Workers, work: Path, out: Path, as_of: date, outcome: BatchOutcome) -> None:
    """Step 2: the ready claims spilled in `work/837/<payer>/` (parts in input order) become
    `out/837/<payer>-NNNN.837`. Any engine that fills the work folder so ends with the same files."""
    started = time.perf_counter()
    for path in pool.map(write_x12, _x12_tasks(work / "837", out / "837", as_of)):
        outcome.x12_files.append(path)
    outcome.seconds["x12"] = time.perf_counter() - started


def finish(work: Path, out: Path, outcome: BatchOutcome) -> None:
    """Step 3: the work folder's table parts sorted into `out/<table>.parquet`, the summary and
    the errors written, the work folder removed."""
    started = time.perf_counter()
    _sort_tables(work, out)
    _write_summary(out)
    outcome.seconds["sort"] = time.perf_counter() - started
    _write_errors(out, outcome.errors)
    shutil.rmtree(work)


def fresh_folders(out: Path) -> Path:
    """The output folder without yesterday's results, and an empty work folder inside it."""
    out.mkdir(parents=True, exist_ok=True)
    work = out / ".work"
    for stale in (work, out / "837"):
        shutil.rmtree(stale, ignore_errors=True)
    for name in (*TABLES, "837"):
        (work / name).mkdir(parents=True)
    (out / "837").mkdir()
    return work


def _timed(tasks: Iterator[ChunkTask], seconds: dict[str, float]) -> Iterator[ChunkTask]:
    """The tasks, counting the time spent reading them from the input."""
    while True:
        started = time.perf_counter()
        task = next(tasks, None)
        seconds["read"] += time.perf_counter() - started
        if task is None:
            return
        yield task


def _x12_tasks(spill: Path, folder: Path, as_of: date) -> Iterator[X12Task]:
    """Each payer's ready claims in input order, cut into files small enough to send."""
    for payer in sorted(p for p in spill.iterdir() if p.is_dir()):
        claims: list[str] = []
        size, number = 0, 1
        for part in sorted(payer.iterdir()):
            for text in part.read_text("utf-8").splitlines():
                if claims and (
                    len(claims) == MAX_CLAIMS_PER_FILE or size + len(text) > _SPILL_BYTES_PER_FILE
                ):
                    yield X12Task(folder / f"{payer.name}-{number:04d}.837", claims, as_of)
                    claims, size, number = [], 0, number + 1
                claims.append(text)
                size += len(text)
        if claims:
            yield X12Task(folder / f"{payer.name}-{number:04d}.837", claims, as_of)


def _sort_tables(work: Path, out: Path) -> None:
    """Each table sorted by all its columns, key columns first (SORT_KEYS): a total order, so
    two runs or two engines give equal files whatever order the chunks finished in.

    DuckDB sorts (spilling to disk past its memory limit); pyarrow writes, in row groups of a
    fixed size, so the file's bytes depend on its rows alone, not on how the input was cut.
    """
    with duckdb.connect(":memory:", config={**_DUCKDB_CONFIG, "temp_directory": str(work / "duckdb")}) as db:
        for table in TABLES:
            schema = SCHEMAS[table]
            parts = [str(p) for p in sorted((work / table).glob("*.parquet"))]
            with pq.ParquetWriter(out / f"{table}.parquet", schema, compression="zstd") as writer:
                if not parts:  # an empty input: the table with its columns and no rows
                    writer.write_table(schema.empty_table())
                    continue
                result = db.sql("SELECT * FROM read_parquet($parts) ORDER BY ALL", params={"parts": parts})
                for batch in _row_groups(result.to_arrow_reader(_ROW_GROUP)):
                    writer.write_table(pa.Table.from_batches([batch]).cast(schema), row_group_size=_ROW_GROUP)


def _row_groups(batches: pa.RecordBatchReader) -> Iterator[pa.RecordBatch]:
    """The rows again in batches of exactly `_ROW_GROUP` (the last one shorter)."""
    pending: list[pa.RecordBatch] = []
    held = 0
    for batch in batches:
        pending.append(batch)
        held += batch.num_rows
        while held >= _ROW_GROUP:
            combined = pa.Table.from_batches(pending).combine_chunks().to_batches()[0]
            yield combined.slice(0, _ROW_GROUP)
            rest = combined.slice(_ROW_GROUP)
            pending, held = ([rest] if rest.num_rows else []), rest.num_rows
    if held:
        yield pa.Table.from_batches(pending).combine_chunks().to_batches()[0]


_PAYER_TOTALS: Final = """
SELECT payer_id, count(*) AS claims,
       count(*) FILTER (WHERE status = 'ready') AS ready,
       count(*) FILTER (WHERE status = 'held') AS held,
       count(*) FILTER (WHERE status = 'refused') AS refused,
       coalesce(sum(line_count), 0) AS lines, coalesce(sum(units), 0) AS units,
       CAST(coalesce(sum(total_charge), 0) * 100 AS BIGINT) AS charge_cents,
       CAST(coalesce(sum(expected_payment), 0) * 100 AS BIGINT) AS expected_payment_cents
FROM read_parquet(?) GROUP BY payer_id ORDER BY payer_id
"""
_RULE_TOTALS: Final = """
SELECT coalesce(h.payer_id, f.payer_id) AS payer_id, coalesce(h.rule, f.rule) AS rule,
       coalesce(h.held_days, 0) AS held_days, coalesce(f.findings, 0) AS findings
FROM (SELECT payer_id, rule, count(*) AS held_days FROM read_parquet(?) GROUP BY ALL) h
FULL JOIN (SELECT payer_id, rule, count(*) AS findings FROM read_parquet(?) GROUP BY ALL) f
  ON h.payer_id = f.payer_id AND h.rule = f.rule
ORDER BY 1, 2
"""


def _write_summary(out: Path) -> None:
    """summary.json: one record per payer (rule null: its claims, units and charges) and one per
    payer and rule (the days that rule held and its findings). Money in cents, exact."""
    rows: list[dict[str, Any]] = []
    with duckdb.connect(":memory:", config=_DUCKDB_CONFIG) as db:
        payer_rows = db.execute(_PAYER_TOTALS, [str(out / "claims.parquet")])
        names = [d[0] for d in payer_rows.description]
        for values in payer_rows.fetchall():
            rows.append(
                {**dict(zip(names, values, strict=True)), "rule": None, "held_days": 0, "findings": 0}
            )
        rule_rows = db.execute(_RULE_TOTALS, [str(out / "held_days.parquet"), str(out / "findings.parquet")])
        for payer_id, rule, held_days, findings in rule_rows.fetchall():
            rows.append({"payer_id": payer_id, "rule": rule, "held_days": held_days, "findings": findings})
    columns = ("payer_id", "rule", "claims", "ready", "held", "refused", "lines", "units", "charge_cents",
               "expected_payment_cents", "held_days", "findings")  # fmt: skip
    ordered = [{c: row.get(c, 0) for c in columns} for row in rows]
    ordered.sort(key=lambda r: (r["payer_id"], r["rule"] or ""))
    (out / "summary.json").write_text(json.dumps(ordered, indent=1) + "\n", "utf-8")


def _write_errors(out: Path, errors: list[tuple[int, str]]) -> None:
    with (out / "errors.ndjson").open("w", encoding="utf-8") as file:
        for line, message in sorted(errors):
            file.write(json.dumps({"line": line, "error": message}) + "\n")
