"""Time to write, length-check and validate 837P files of 1,000 and 10,000 claims.

Run: `.venv/bin/python bench/bench_x12.py [--sizes 1000 10000]`. The claims are the three
examples billed under new episode ids (so every claim is distinct); writing is our renderer,
the length check is `length_problems` over the whole file, validating is pyx12 through its
Python API (the same call `hitclaims validate` makes).
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date, datetime
from pathlib import Path

from hitclaims.core.claim import Claim
from hitclaims.core.days import Period
from hitclaims.core.engine import bill_episode
from hitclaims.core.records import Episode
from hitclaims.formats.x12.claim_837p import write_837
from hitclaims.formats.x12.envelope import Envelope
from hitclaims.formats.x12.segments import length_problems
from hitclaims.formats.x12.validate import validate_x12
from hitclaims.inputs.catalog_files import load_catalog
from hitclaims.inputs.loading import (
    bundled_policy_folders,
    bundled_provider_file,
    load_policies,
    load_provider,
)
from hitclaims.services.billing import Setup

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def claims(n: int, setup: Setup) -> list[Claim]:
    cases = []
    for expected in sorted(EXAMPLES.glob("*.expected.json")):
        meta = json.loads(expected.read_text())
        data = json.loads((EXAMPLES / expected.name.replace(".expected.json", ".json")).read_text())
        first, last = (date.fromisoformat(d) for d in meta["period"])
        cases.append((data, Period(first, last), date.fromisoformat(meta["as_of"])))
    out: list[Claim] = []
    i = 0
    while len(out) < n:
        data, period, as_of = cases[i % len(cases)]
        data = dict(data, episode_id=f"BENCH-{i:07d}")
        episode = Episode.model_validate_json(json.dumps(data))
        policy = setup.policies.for_payer(episode.coverage.payer_id, period.start)
        for claim in bill_episode(episode, policy, setup.catalog, setup.provider, period, as_of):
            out.append(claim.model_copy(update={"status": "ready"}))
        i += 1
    return out[:n]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args()
    catalog = load_catalog()
    setup = Setup(
        catalog, load_policies(bundled_policy_folders(), catalog), load_provider(bundled_provider_file())
    )
    for n in args.sizes:
        batch = claims(n, setup)
        envelope = Envelope("PRAIRIEHIT", "EXCLEARING", datetime(2025, 10, 1, 9, 0), n)  # noqa: DTZ001
        start = time.perf_counter()
        content = write_837(batch, envelope, "Example Clearinghouse")
        written = time.perf_counter() - start
        segments = content.count("~")
        start = time.perf_counter()
        too_long = length_problems(content)
        checked = time.perf_counter() - start
        start = time.perf_counter()
        report = validate_x12(content)
        validated = time.perf_counter() - start
        print(
            f"{n:6d} claims, {segments:7d} segments, {len(content) / 1e6:5.1f} MB:"
            f" write {written:6.2f} s ({n / written:7.0f} claims/s),"
            f" length check {checked:5.2f} s ({len(too_long)} problems),"
            f" pyx12 validate {validated:7.2f} s ({n / validated:5.0f} claims/s,"
            f" {segments / validated:6.0f} seg/s),"
            f" valid={report.valid}"
        )


if __name__ == "__main__":
    main()
