"""The engine in one process: episode-months per second over an NDJSON population, and where the
time goes (parse, engine, guard). Also the byte-for-byte guard of engine speed-ups.

Run:
    .venv/bin/hitclaims generate --episodes 2000 --seed 1 --month 2025-03 --out /tmp/corpus.ndjson
    .venv/bin/python bench/bench_engine.py /tmp/corpus.ndjson [--repeat 3]
    .venv/bin/python bench/bench_engine.py /tmp/corpus.ndjson --save /tmp/golden    # once, before
    .venv/bin/python bench/bench_engine.py /tmp/corpus.ndjson --check /tmp/golden   # after a change

`--save` writes the result JSON and one 837 per payer; `--check` bills again and compares them
byte for byte, exiting 1 on any difference. Nothing here is asserted about time: it prints figures.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

from hitclaims.core.claim import Claim, Result
from hitclaims.core.engine import bill_episode
from hitclaims.core.errors import InputError
from hitclaims.formats.result_json import render_json
from hitclaims.formats.x12.claim_837p import write_837
from hitclaims.formats.x12.envelope import default_envelope
from hitclaims.inputs.loading import parse_episode
from hitclaims.services.billing import Setup, checked_period, guard_sendable, policy_for
from hitclaims.services.files import setup_from_files


def bill_all(
    lines: list[str], setup: Setup, first: date, last: date, as_of: date
) -> tuple[list[Claim], dict[str, float], int]:
    """Every line billed as `services.billing.bill_one` does, timed step by step."""
    period = checked_period(first, last)
    seconds = {"parse": 0.0, "engine": 0.0, "guard": 0.0}
    claims: list[Claim] = []
    errors = 0
    # CPU time of this process: on a busy machine wall time mostly measures the neighbours.
    clock = time.process_time
    for number, text in enumerate(lines, 1):
        name = f"corpus:{number}"
        t0 = clock()
        try:
            episode = parse_episode(name, text, setup.catalog)
            t1 = clock()
            policy = policy_for(name, episode, setup, period)
            billed = bill_episode(episode, policy, setup.catalog, setup.provider, period, as_of)
            t2 = clock()
            claims.extend(guard_sendable(billed, setup))
            t3 = clock()
        except InputError:
            errors += 1
            continue
        seconds["parse"] += t1 - t0
        seconds["engine"] += t2 - t1
        seconds["guard"] += t3 - t2
    return claims, seconds, errors


def outputs(claims: list[Claim], setup: Setup, as_of: date) -> dict[str, str]:
    """The result JSON and one 837 per payer, by file name."""
    ordered = sorted(claims, key=lambda c: (c.claim_id, c.period.from_))
    files = {"result.json": render_json(Result(claims=ordered))}
    by_payer: dict[str, list[Claim]] = defaultdict(list)
    for claim in ordered:
        if claim.status == "ready":
            by_payer[claim.payer_id].append(claim)
    provider = setup.provider
    for payer, ready in sorted(by_payer.items()):
        envelope = default_envelope(ready, provider.receiver.id, as_of)
        files[f"{payer}.837"] = write_837(ready, envelope, provider.receiver.name)
    return files


def compare(files: dict[str, str], golden: Path) -> int:
    expected = {p.name for p in golden.iterdir()}
    differ = sorted(expected ^ set(files))
    for name, text in files.items():
        if name in expected and (golden / name).read_text("utf-8") != text:
            differ.append(name)
    for name in differ:
        print(f"DIFFERENT: {name}")
    print("golden comparison:", "identical" if not differ else f"{len(differ)} files differ")
    return 1 if differ else 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--from", dest="first", default="2025-03-01")
    parser.add_argument("--to", dest="last", default="2025-03-31")
    parser.add_argument("--as-of", default="2025-04-05")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--save", type=Path)
    parser.add_argument("--check", type=Path)
    args = parser.parse_args()
    first, last = date.fromisoformat(args.first), date.fromisoformat(args.last)
    as_of = date.fromisoformat(args.as_of)
    setup = setup_from_files(None, None)
    lines = args.corpus.read_text("utf-8").splitlines()
    best: tuple[float, float, dict[str, float]] | None = None
    claims: list[Claim] = []
    for _ in range(max(1, args.repeat)):
        wall, cpu = time.perf_counter(), time.process_time()
        claims, seconds, errors = bill_all(lines, setup, first, last, as_of)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if best is None or cpu < best[1]:
            best = (wall, cpu, seconds)
    assert best is not None
    wall, cpu, seconds = best
    split = "  ".join(f"{k} {v:.2f}s ({v / cpu:.0%})" for k, v in seconds.items())
    print(f"{len(lines)} episode-months, {len(claims)} claims, {errors} unusable")
    print(
        f"best of {args.repeat}: {len(lines) / cpu:,.0f} episode-months per CPU second"
        f" ({cpu:.2f}s CPU, {wall:.2f}s wall = {len(lines) / wall:,.0f}/s)  [CPU: {split}]"
    )
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
        for name, text in outputs(claims, setup, as_of).items():
            (args.save / name).write_text(text, "utf-8")
        print(f"saved golden output to {args.save}")
    if args.check:
        return compare(outputs(claims, setup, as_of), args.check)
    return 0


if __name__ == "__main__":
    sys.exit(main())
