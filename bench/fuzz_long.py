"""The fuzzer of tests/test_fuzz.py, run for minutes instead of seconds, counting what it finds.

Run: `.venv/bin/python bench/fuzz_long.py [--minutes 5] [--doors bill,import-fhir,api]`.
Each door gets an equal share of the time, in batches of fresh random inputs. It prints, per
door: the inputs tried, their exit codes (or HTTP statuses), the inputs that broke a rule (an
internal error, a traceback, a leaked personal value, an invalid 837) by kind, the slowest input
with its size, and how many inputs under the size limit had a command or request over 2 s (the
checks' own work, such as pyx12's, is not timed). Nothing is asserted: the
figures go in the closing note of a change. With --show N it also writes the first N broken
inputs to a folder for reproduction.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, seed, settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import test_fuzz as fuzz  # noqa: E402  (the tests are not an installed package)

from hitclaims.server import MAX_INPUT_BYTES  # noqa: E402

BATCH = 40
SLOW_SECONDS = 2.0


@dataclass
class Tally:
    inputs: int = 0
    codes: Counter[int] = field(default_factory=Counter)
    problems: Counter[str] = field(default_factory=Counter)
    broken: int = 0
    slow: int = 0  # a command or request over 2 s for an input under the size limit (the bound)
    slowest: tuple[float, int] = (0.0, 0)
    kept: list[tuple[str, bytes]] = field(default_factory=list)
    slowest_input: bytes = b""

    def add(self, outcome: fuzz.Outcome, seconds: float, content: bytes, keep: int) -> None:
        self.inputs += 1
        self.codes[outcome.code] += 1
        if seconds > self.slowest[0]:
            self.slowest, self.slowest_input = (seconds, len(content)), content
        self.slow += seconds > SLOW_SECONDS and len(content) <= MAX_INPUT_BYTES
        if outcome.problems:
            self.broken += 1
            # Counted by kind: the rule broken, without the detail that varies.
            for kind in {re.sub(r"\(.*|: .*", "", p).strip() for p in outcome.problems}:
                self.problems[kind] += 1
            if len(self.kept) < keep:
                self.kept.append(("; ".join(outcome.problems)[:300], content))


def _door(name: str, folder: Path) -> tuple[list[fuzz.Base], Callable[[fuzz.Base, bytes], fuzz.Outcome]]:
    if name == "bill":
        return fuzz.EPISODES + fuzz.BUNDLES, lambda base, content: _in(folder, fuzz.check_bill, base, content)
    if name == "import-fhir":
        return fuzz.BUNDLES, lambda base, content: _in(folder, fuzz.check_import_fhir, base, content)
    client, _ = fuzz.api_client(folder)
    return fuzz.EPISODES + fuzz.BUNDLES, lambda base, content: fuzz.check_api(client, base, content)


def _in(
    folder: Path, check: Callable[[fuzz.Base, bytes, Path], fuzz.Outcome], base: fuzz.Base, content: bytes
) -> fuzz.Outcome:
    with tempfile.TemporaryDirectory(dir=folder) as work:
        return check(base, content, Path(work))


def run_door(name: str, seconds: float, keep: int, folder: Path) -> Tally:
    bases, check = _door(name, folder)
    tally = Tally()
    deadline = time.monotonic() + seconds
    batch = 0
    while time.monotonic() < deadline:
        batch += 1

        @seed(batch)
        @settings(
            max_examples=BATCH,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(fuzz.mutated(bases))
        def one(case: fuzz.Case) -> None:
            if time.monotonic() >= deadline:
                return
            outcome = check(case.base, case.content)
            tally.add(outcome, outcome.seconds, case.content, keep)

        one()
    return tally


def report(name: str, tally: Tally) -> None:
    codes = ", ".join(f"{code}: {count}" for code, count in sorted(tally.codes.items()))
    seconds, size = tally.slowest
    print(f"{name}: {tally.inputs} inputs; codes {codes}; {tally.broken} broke a rule")
    for kind, count in tally.problems.most_common():
        print(f"    {count:6d}  {kind}")
    print(f"    slowest input {seconds:.2f} s ({size:,} bytes); {tally.slow} under the limit over 2 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--doors", default="bill,import-fhir,api")
    parser.add_argument("--show", type=int, default=0, help="write the first N broken inputs per door")
    parser.add_argument(
        "--unknown-keys", default="300,1500,16000", help="sizes of the objects of unknown keys tried"
    )
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # internal errors are counted, not printed
    # 16,000 is the 251 KB episode that took 25 s to refuse (issue 8, item 3).
    fuzz.UNKNOWN_KEYS[:] = [int(n) for n in args.unknown_keys.split(",")]
    doors = args.doors.split(",")
    folder = Path(tempfile.mkdtemp(prefix="hitclaims-fuzz-long-"))
    for name in doors:
        tally = run_door(name, args.minutes * 60 / len(doors), args.show, folder)
        report(name, tally)
        if args.show:
            slowest = folder / f"{name}-slowest.json"
            slowest.write_bytes(tally.slowest_input)
            print(f"    {slowest}: the slowest input")
        for index, (problems, content) in enumerate(tally.kept):
            path = folder / f"{name}-{index}.json"
            path.write_bytes(content)
            print(f"    {path}: {problems}")


if __name__ == "__main__":
    main()
