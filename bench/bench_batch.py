"""Batch billing speed: episode-months per second from NDJSON in to Parquet and 837s out.

Run: `.venv/bin/python bench/bench_batch.py [--sizes 10000 100000] [--million] [--data DIR]`.
For each size it generates a population once (`hitclaims generate`'s service, seed 1, March
2025, cached in --data) and measures, each in a fresh process so peak memory is its own:
- `engine`: parse and `bill_one` every episode in one process, nothing written;
- `pool-1`, `pool-2`: `hitclaims batch`'s service end to end with 1 and 2 worker processes;
- `spark-1`, `spark-2`: `hitclaims batch --engine spark` on Spark `local[1]` and `local[2]`, the
  session's start included in the wall time (`start`); `spark` is the billing job's wall time
  (shuffle by patient, `mapInArrow`), `fetch` the parts' trip to the driver. Peak memory is the
  Python driver's; Spark's JVM is a process of its own.
It prints one table: episodes per second, wall time, peak memory of the parent process, and
the time split between reading, parsing, billing, writing, 837s and sorting.
Parse, bill and write are CPU seconds summed over the workers; read, x12 and sort are wall time.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from hitclaims.core.days import Period  # noqa: E402
from hitclaims.core.errors import InputError  # noqa: E402
from hitclaims.inputs.loading import parse_episode  # noqa: E402
from hitclaims.services import batch, files, population, spark_batch  # noqa: E402
from hitclaims.services.billing import bill_one  # noqa: E402

PERIOD = Period(date(2025, 3, 1), date(2025, 3, 31))
AS_OF = date(2025, 4, 5)
MODES = ("engine", "pool-1", "pool-2", "spark-1", "spark-2")
STEPS = ("read", "parse", "bill", "write", "x12", "sort")
SPARK_STEPS = ("start", "spark", "fetch")


def _peak_mb() -> float:
    """Peak resident memory of this (the parent) process in MB. Workers are the forkserver's
    children, not ours, so their peak is not seen here; each holds one chunk at a time."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _engine(source: Path) -> dict[str, Any]:
    setup = files.setup_from_files(None, None)
    seconds = {"read": 0.0, "parse": 0.0, "bill": 0.0}
    episodes = 0
    clock = time.perf_counter
    with source.open("rb") as file:
        while True:
            started = clock()
            raw = file.readline()
            read = clock()
            seconds["read"] += read - started
            if not raw:
                break
            episodes += 1
            try:
                episode = parse_episode(f"line {episodes}", raw.decode(), setup.catalog)
                parsed = clock()
                seconds["parse"] += parsed - read
                bill_one(f"line {episodes}", episode, setup, PERIOD, AS_OF)
                seconds["bill"] += clock() - parsed
            except InputError:
                continue
    return {"episodes": episodes, "seconds": seconds}


def _pool(source: Path, workers: int) -> dict[str, Any]:
    setup = files.setup_from_files(None, None)
    with tempfile.TemporaryDirectory() as out:
        outcome = batch.run_batch(source, Path(out), setup, PERIOD, AS_OF, workers)
    return {"episodes": outcome.episodes, "seconds": outcome.seconds, "claims": outcome.claims}


def _spark(source: Path, cores: int) -> dict[str, Any]:
    setup = files.setup_from_files(None, None)
    started = time.perf_counter()
    with spark_batch.spark_session(f"local[{cores}]") as spark, tempfile.TemporaryDirectory() as out:
        start = time.perf_counter() - started
        outcome = spark_batch.run_spark_batch(spark, source, Path(out), setup, PERIOD, AS_OF, cores)
    return {
        "episodes": outcome.episodes,
        "seconds": {**outcome.seconds, "start": start},
        "claims": outcome.claims,
    }


def measure(mode: str, source: Path) -> dict[str, Any]:
    started = time.perf_counter()
    if mode == "engine":
        found = _engine(source)
    elif mode.startswith("pool"):
        found = _pool(source, int(mode.split("-")[1]))
    else:
        found = _spark(source, int(mode.split("-")[1]))
    found["wall"] = time.perf_counter() - started
    found["peak_mb"] = _peak_mb()
    return found


def _population(data: Path, size: int) -> Path:
    path = data / f"population-{size}-seed1.ndjson"
    if not path.exists():
        started = time.perf_counter()
        population.generate(path, size, 1, None, "2025-03")
        print(f"generated {size:,} episodes in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return path


def _row(size: int, mode: str, found: dict[str, Any]) -> str:
    s = found["seconds"]
    steps = STEPS + (SPARK_STEPS if mode.startswith("spark") else ())
    split = " ".join(f"{k} {s.get(k, 0.0):7.1f}" for k in steps)
    rate = found["episodes"] / found["wall"]
    own = found["peak_mb"]
    return f"| {size:>9,} | {mode:<7} | {rate:8.0f} | {found['wall']:8.1f} | {own:7.0f} | {split} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--million", action="store_true", help="also 1,000,000 episode-months")
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "hitclaims-bench")
    parser.add_argument("--one", nargs=2, metavar=("MODE", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:  # a child run: one measurement, as JSON
        print(json.dumps(measure(args.one[0], Path(args.one[1]))))
        return
    args.data.mkdir(parents=True, exist_ok=True)
    sizes = [*args.sizes, *([1_000_000] if args.million else [])]
    print("| episodes  | mode    | ep-mo/s  | wall s   | peak MB | seconds by step |")
    print("|---|---|---|---|---|---|")
    for size in sizes:
        source = _population(args.data, size)
        for mode in args.modes:
            child = [sys.executable, __file__, "--one", mode, str(source)]
            found = json.loads(subprocess.run(child, check=True, capture_output=True, text=True).stdout)
            print(_row(size, mode, found), flush=True)


if __name__ == "__main__":
    main()
