"""How long `hitclaims bill` takes on the examples and on 1,000 copies of them.

Run: `make bench` (or `.venv/bin/python bench/bench_bill.py [--copies 1000] [--repeat 3]`).
Times are wall clock of the whole command (interpreter start included), median of the runs,
plus the engine alone in-process. Nothing here is asserted: it prints figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
HITCLAIMS = [sys.executable, "-m", "hitclaims"]


def cases() -> list[tuple[Path, list[str]]]:
    out = []
    for expected in sorted(EXAMPLES.glob("*.expected.json")):
        meta = json.loads(expected.read_text())
        episode = EXAMPLES / expected.name.replace(".expected.json", ".json")
        args = ["--from", meta["period"][0], "--to", meta["period"][1], "--as-of", meta["as_of"]]
        out.append((episode, args))
    return out


def copies(episode: Path, n: int, folder: Path) -> list[Path]:
    data = json.loads(episode.read_text())
    paths = []
    for i in range(n):
        data["episode_id"] = f"{data['episode_id'][:14]}-{i:05d}"
        path = folder / f"{episode.stem}-{i:05d}.json"
        path.write_text(json.dumps(data))
        paths.append(path)
    return paths


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def median_of(repeat: int, command: list[str]) -> tuple[float, list[float]]:
    runs = [timed(command) for _ in range(repeat)]
    return statistics.median(runs), runs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    print(f"hitclaims bill, wall clock of the whole command, median of {args.repeat}")
    for episode, period in cases():
        med, runs = median_of(args.repeat, [*HITCLAIMS, "bill", str(episode), *period])
        print(f"  {episode.name:32} 1 episode    {med:6.2f} s   runs {', '.join(f'{r:.2f}' for r in runs)}")

    per_case = [args.copies // 3 + (1 if i < args.copies % 3 else 0) for i in range(3)]
    with tempfile.TemporaryDirectory() as tmp:
        batches = []
        for (episode, period), n in zip(cases(), per_case, strict=True):
            folder = Path(tmp) / episode.stem
            folder.mkdir()
            batches.append((episode, period, n, [str(p) for p in copies(episode, n, folder)]))
        # --format json: the billing itself; --out: plus the 837, FHIR, PDF and report files.
        for label, extra in (("--format json", ["--format", "json"]), ("--out (all 5 files)", ["--out"])):
            total = 0.0
            for episode, period, n, paths in batches:
                target = [str(Path(tmp) / f"out-{episode.stem}")] if extra == ["--out"] else []
                med, runs = median_of(args.repeat, [*HITCLAIMS, "bill", *paths, *period, *extra, *target])
                total += med
                shown = ", ".join(f"{r:.2f}" for r in runs)
                print(f"  {label:20} {episode.name:28} {n:4d} copies {med:6.2f} s  runs {shown}")
            rate = args.copies / total
            print(
                f"  {label:20} {args.copies} copies in all: {total:.2f} s ({rate:.0f} episodes/s, 3 commands)"
            )

    # The engine alone, in process: no interpreter start, no file writing.
    from datetime import date

    from hitclaims.core.days import Period
    from hitclaims.inputs.catalog_files import load_catalog
    from hitclaims.inputs.loading import (
        bundled_policy_folders,
        bundled_provider_file,
        load_policies,
        load_provider,
        read_episode,
    )
    from hitclaims.services.billing import Setup, bill_one

    catalog = load_catalog()
    setup = Setup(
        catalog, load_policies(bundled_policy_folders(), catalog), load_provider(bundled_provider_file())
    )
    loaded = []
    for episode, period in cases():
        first, last, as_of = (
            date.fromisoformat(period[1]),
            date.fromisoformat(period[3]),
            date.fromisoformat(period[5]),
        )
        loaded.append((read_episode(episode, catalog), Period(first, last), as_of))
    rounds = 200
    start = time.perf_counter()
    for _ in range(rounds):
        for ep, per, as_of in loaded:
            bill_one("bench", ep, setup, per, as_of)
    elapsed = time.perf_counter() - start
    n = rounds * len(loaded)
    print(
        f"engine alone (in process): {n} episodes in {elapsed:.2f} s, {1000 * elapsed / n:.2f} ms per episode"
    )


if __name__ == "__main__":
    main()
