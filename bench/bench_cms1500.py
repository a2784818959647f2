"""Time to render the CMS-1500 PDF of about 100 and 1,000 pages.

Run: `.venv/bin/python bench/bench_cms1500.py [--pages 100 1000] [--repeat 5]`. The claims are
the three bundled examples (10 pages together), repeated until the page count is reached.
Prints the median and the fastest of the runs; nothing is asserted, because a wall-clock limit
fails on a busy machine (the suite only checks that a 100-page render works).
"""

from __future__ import annotations

import argparse
import io
import json
import math
import statistics
import time
from datetime import date
from pathlib import Path

from pypdf import PdfReader

from hitclaims.core.claim import Claim
from hitclaims.core.days import Period
from hitclaims.core.engine import bill_episode
from hitclaims.core.records import Episode
from hitclaims.formats.cms1500.form import LINES_PER_PAGE
from hitclaims.formats.cms1500.render import render_pdf
from hitclaims.inputs.catalog_files import load_catalog
from hitclaims.inputs.loading import (
    bundled_policy_folders,
    bundled_provider_file,
    load_policies,
    load_provider,
)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def example_claims() -> list[Claim]:
    catalog = load_catalog()
    policies = load_policies(bundled_policy_folders(), catalog)
    provider = load_provider(bundled_provider_file())
    claims: list[Claim] = []
    for expected in sorted(EXAMPLES.glob("*.expected.json")):
        meta = json.loads(expected.read_text())
        episode_file = EXAMPLES / expected.name.replace(".expected.json", ".json")
        episode = Episode.model_validate_json(episode_file.read_text())
        first, last = (date.fromisoformat(d) for d in meta["period"])
        policy = policies.for_payer(episode.coverage.payer_id, first)
        as_of = date.fromisoformat(meta["as_of"])
        claims += bill_episode(episode, policy, catalog, provider, Period(first, last), as_of)
    return claims


def pages_of(claims: list[Claim]) -> int:
    return sum(max(1, math.ceil(len(c.lines) / LINES_PER_PAGE)) for c in claims)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    examples = example_claims()
    for wanted in args.pages:
        batch = examples * math.ceil(wanted / pages_of(examples))
        pages = pages_of(batch)
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            pdf = render_pdf(batch)
            times.append(time.perf_counter() - start)
        assert len(PdfReader(io.BytesIO(pdf)).pages) == pages
        print(
            f"{pages:5d} pages, {len(pdf) / 1e6:5.2f} MB: median {statistics.median(times):6.3f} s,"
            f" fastest {min(times):6.3f} s ({pages / min(times):6.0f} pages/s)"
        )


if __name__ == "__main__":
    main()
