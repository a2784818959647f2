"""Bill a whole population on Apache Spark: the same engine and the same files as `--engine local`.

1. Spark reads the input (NDJSON lines or the Parquet `episode` column), numbers each episode by
   its line (or row) as the local reader does, and repartitions by patient, so that one
   patient's episodes, authorizations and billed days stay in one partition.
2. Each partition is billed with `billing.bill_one` through `DataFrame.mapInArrow`, in batches
   of `BATCH_EPISODES`. A batch answers with a few rows: its five tables and its ready claims as
   zstd Parquet bytes, and its counts and bad lines as JSON. That is small, so the results come
   back to the driver through Spark itself: no shared file system is needed.
3. The driver puts those parts into the local engine's work folder (the ready claims ordered by
   input line, as the local engine spills them) and finishes with the local engine's own steps
   (`batch.write_837s`, `batch.finish`): sorted Parquet, 837s and summary, byte for byte the same.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import date
from functools import partial
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from hitclaims.core.days import Period
from hitclaims.core.errors import HitclaimsError, InputError
from hitclaims.formats.parquet_out import claim_tables
from hitclaims.inputs.ndjson import EPISODE_COLUMN, is_parquet
from hitclaims.services.batch import CHUNK_EPISODES, BatchOutcome, finish, fresh_folders, write_837s
from hitclaims.services.batch_work import bill_rows, sendable_x12, start_worker
from hitclaims.services.billing import Setup
from hitclaims.services.pool import Workers

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

DEFAULT_MASTER: Final = "local[2]"
BATCH_EPISODES: Final = CHUNK_EPISODES  # episodes per Arrow batch: the local engine's chunk
PARTITION_EPISODES: Final = 5000  # about this many episodes per partition (per Spark task)
# What a billed batch answers: one row per table part, one for the ready claims, one for counts.
_ANSWER: Final = pa.schema([("kind", pa.string()), ("name", pa.string()), ("payload", pa.binary())])
_READY: Final = pa.schema([("payer_id", pa.string()), ("line", pa.int64()), ("seq", pa.int32()),
                           ("x12", pa.string())])  # fmt: skip

__all__ = ["DEFAULT_MASTER", "checked_source", "run_spark_batch", "spark_session"]


@contextmanager
def spark_session(master: str | None) -> Iterator[SparkSession]:
    """A Spark session for billing: the active one if there is one (a test's, say), else a new
    one on `master`, stopped afterwards. `master=None` keeps the master spark-submit set."""
    try:
        from pyspark.sql import SparkSession
    except ModuleNotFoundError:
        raise HitclaimsError(
            "--engine spark needs pyspark: pip install 'hitclaims[spark]'", "--engine"
        ) from None
    active = SparkSession.getActiveSession()
    if active is not None:
        yield active
        return
    on_this_machine = master is None and "PYSPARK_GATEWAY_PORT" not in os.environ
    master = DEFAULT_MASTER if on_this_machine else master
    if master is not None and master.startswith("local"):
        # Python workers are this machine's processes: they must be this interpreter (the system
        # python3 has no pyarrow), and Spark needs no address but loopback.
        os.environ["PYSPARK_PYTHON"] = sys.executable
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    else:  # a cluster: its nodes' interpreter is the user's choice (spark.pyspark.python)
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName("hitclaims-batch")
    if master is not None:
        builder = builder.master(master)
    settings = {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": "4",
        "spark.sql.execution.arrow.maxRecordsPerBatch": str(BATCH_EPISODES),
    }
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # PySpark's own errors say "Java gateway exited" and little else
        where = master or "the spark-submit master"
        raise HitclaimsError(
            f"Spark did not start on {where} (is Java 17 installed?): {exc}", "--engine"
        ) from exc
    spark.sparkContext.setLogLevel("ERROR")
    try:
        yield spark
    finally:
        spark.stop()


def run_spark_batch(
    spark: SparkSession,
    source: Path,
    out: Path,
    setup: Setup,
    period: Period,
    as_of: date,
    workers: int,
    advance: Callable[[int], None] = lambda n: None,
) -> BatchOutcome:
    """Bill `source` on `spark` into `out`; `workers` processes on the driver write the 837s (the
    step is cut by payer and file, in input order); `advance` counts episodes as they arrive."""
    checked_source(source)
    work = fresh_folders(out)
    (work / "ready").mkdir()
    outcome = BatchOutcome()
    clock = time.perf_counter
    started = clock()
    episodes, total = _episodes(spark, source)
    outcome.seconds["read"] = clock() - started
    parts = max(2 * spark.sparkContext.defaultParallelism, math.ceil(total / PARTITION_EPISODES))
    spread = (
        episodes.repartition(parts, "patient").sortWithinPartitions("line").select("line", EPISODE_COLUMN)
    )
    bill = partial(_bill_batches, setup=setup, period=period, as_of=as_of, source=source.name)
    started = clock()
    # Billed in parallel and held by the executors (small: compressed parts), then fetched one
    # partition at a time, so the driver's memory stays bounded.
    billed = spread.mapInArrow(bill, "kind string, name string, payload binary").localCheckpoint(eager=True)
    outcome.seconds["spark"] = clock() - started
    started = clock()
    _fetch(billed, work, outcome, advance)
    billed.unpersist()
    _spill_ready(work)
    outcome.seconds["fetch"] = clock() - started
    with Workers(workers, start_worker, (setup,)) as pool:
        write_837s(pool, work, out, as_of, outcome)
    finish(work, out, outcome)
    return outcome


def checked_source(source: Path) -> Path:
    """The input, if it is there: worth knowing before Spark takes seconds to start."""
    if not source.is_file():
        raise InputError(str(source), None, None, "no such file")
    return source


def _episodes(spark: SparkSession, source: Path) -> tuple[DataFrame, int]:
    """(line, episode, patient) rows, and about how many: the patient's id is read from the
    JSON for partitioning only (a bad JSON has none, and is reported when billed)."""
    from pyspark.sql import functions as F  # noqa: N812 (PySpark's own idiom)

    uri = source.resolve().as_uri()
    if is_parquet(source):
        table = spark.read.parquet(uri)
        if EPISODE_COLUMN not in table.columns:
            raise InputError(
                str(source), None, EPISODE_COLUMN, "a Parquet input needs a string column 'episode'"
            )
        rows = table.select(
            (F.col("_metadata.row_index") + 1).alias("line"),
            F.coalesce(F.col(EPISODE_COLUMN), F.lit("")).alias(EPISODE_COLUMN),  # a null is a bad episode
        )
        total = int(pq.ParquetFile(source).metadata.num_rows)
    else:
        rows, total = _numbered_lines(spark, uri)
        rows = rows.where(~F.col(EPISODE_COLUMN).rlike(r"^\s*$"))  # a blank line is no episode
    return rows.withColumn("patient", F.get_json_object(EPISODE_COLUMN, "$.patient.id")), total


def _numbered_lines(spark: SparkSession, uri: str) -> tuple[DataFrame, int]:
    """Every line of a text file with its number, counted from 1 as `inputs.ndjson` does.

    Spark's text reader splits a file in blocks and reads each block's lines in order, each with
    a consecutive `monotonically_increasing_id`; one small count per block gives each block's
    first line, and so every line's number, without a pass through Python.
    """
    from pyspark.sql import functions as F  # noqa: N812 (PySpark's own idiom)

    located = (
        spark.read.option("lineSep", "\n")  # as Python splits a binary file: on \n only
        .text(uri)
        .select(
            F.col("value").alias(EPISODE_COLUMN),
            F.col("_metadata.file_path").alias("file"),
            F.col("_metadata.file_block_start").alias("block"),
            F.monotonically_increasing_id().alias("id"),
        )
    )
    blocks = located.groupBy("file", "block").agg(F.min("id").alias("first"), F.count("*").alias("rows"))
    shifts: list[tuple[str, int, int]] = []
    next_line = 1
    for block in blocks.orderBy("file", "block").collect():
        shifts.append((block["file"], block["block"], next_line - block["first"]))
        next_line += block["rows"]
    shift = spark.createDataFrame(shifts, "file string, block long, shift long")
    numbered = located.join(F.broadcast(shift), ["file", "block"]).select(
        (F.col("id") + F.col("shift")).alias("line"), EPISODE_COLUMN
    )
    return numbered, next_line - 1


def _bill_batches(
    batches: Iterator[pa.RecordBatch], setup: Setup, period: Period, as_of: date, source: str
) -> Iterator[pa.RecordBatch]:
    """What runs in Spark's Python workers: each batch of (line, episode) billed and answered."""
    for batch in batches:
        if batch.num_rows:
            yield _bill_batch(batch, setup, period, as_of, source)


def _bill_batch(
    batch: pa.RecordBatch, setup: Setup, period: Period, as_of: date, source: str
) -> pa.RecordBatch:
    lines: list[int] = batch.column("line").to_pylist()
    texts: list[str] = batch.column(EPISODE_COLUMN).to_pylist()
    rows = bill_rows(zip(lines, texts, strict=True), setup, period, as_of, source)
    claims = [claim for _, billed in rows.billed for claim in billed]
    ready: dict[str, list[Any]] = {name: [] for name in _READY.names}
    for line, billed in rows.billed:
        for seq, claim in enumerate(billed):
            if claim.status == "ready":
                spilled = sendable_x12(claim, as_of, setup.provider)
                for column, value in zip(_READY.names, (claim.payer_id, line, seq, spilled), strict=True):
                    ready[column].append(value)
    errors, seconds, clock = rows.errors, rows.seconds, time.perf_counter
    started = clock()
    part = f"{min(lines):012d}"  # lines are unique: so is the first of a batch
    answer = [(table, part, _parquet(content)) for table, content in claim_tables(claims).items()]
    answer.append(("ready", part, _parquet(pa.table(ready, schema=_READY))))
    seconds["write"] += clock() - started
    counts = {"episodes": len(lines), "claims": len(claims), "errors": errors, "seconds": seconds}
    answer.append(("counts", part, json.dumps(counts).encode()))
    return pa.RecordBatch.from_pylist([dict(zip(_ANSWER.names, row, strict=True)) for row in answer], _ANSWER)


def _parquet(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return bytes(sink.getvalue().to_pybytes())


def _fetch(billed: DataFrame, work: Path, outcome: BatchOutcome, advance: Callable[[int], None]) -> None:
    """The billed parts into the work folder, as the local engine's chunks leave them."""
    for row in billed.toLocalIterator(prefetchPartitions=True):
        if row["kind"] != "counts":
            (work / row["kind"] / f"{row['name']}.parquet").write_bytes(row["payload"])
            continue
        counts = json.loads(row["payload"])
        outcome.episodes += counts["episodes"]
        outcome.claims += counts["claims"]
        outcome.errors.extend((line, message) for line, message in counts["errors"])
        for step, seconds in counts["seconds"].items():
            outcome.seconds[step] += seconds
        advance(counts["episodes"])


def _spill_ready(work: Path) -> None:
    """Each payer's ready claims in input order (line, then the episode's own order), into
    `work/837/<payer>/`, where the local engine's 837 step reads them."""
    parts = [str(p) for p in sorted((work / "ready").glob("*.parquet"))]
    if not parts:
        return
    query = "SELECT payer_id, x12 FROM read_parquet($parts) ORDER BY line, seq"
    with (
        duckdb.connect(":memory:", config={"temp_directory": str(work / "duckdb")}) as db,
        ExitStack() as files,
    ):
        spills: dict[str, IO[str]] = {}
        for batch in db.sql(query, params={"parts": parts}).to_arrow_reader(BATCH_EPISODES):
            for payer, x12 in zip(batch.column(0).to_pylist(), batch.column(1).to_pylist(), strict=True):
                if payer not in spills:
                    folder = work / "837" / payer
                    folder.mkdir(parents=True, exist_ok=True)
                    spills[payer] = files.enter_context(
                        (folder / "0000000.ndjson").open("w", encoding="utf-8")
                    )
                spills[payer].write(x12 + "\n")
