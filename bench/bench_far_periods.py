"""How long billing one month takes as the month moves away from the therapy's start (issue 8,
item 5): the engine decides only the period's days, so March 2199 should cost what March 2025
does. Run: `.venv/bin/python bench/bench_far_periods.py`. Prints figures, asserts nothing.
"""

from __future__ import annotations

import time
from datetime import date

from hitclaims.core.days import Period
from hitclaims.inputs.catalog_files import load_catalog
from hitclaims.inputs.loading import (
    bundled_examples,
    bundled_policy_folders,
    bundled_provider_file,
    load_policies,
    load_provider,
    parse_episode,
)
from hitclaims.services.billing import Setup, bill_one

YEARS = (2025, 2030, 2100, 2199)


def main() -> None:
    catalog = load_catalog()
    setup = Setup(
        catalog, load_policies(bundled_policy_folders(), catalog), load_provider(bundled_provider_file())
    )
    print("one March billed, seconds per example episode (therapy starts in 2025)")
    for example in bundled_examples():
        episode = parse_episode(example.name, example.text, catalog)
        timings = []
        for year in YEARS:
            start = time.perf_counter()
            bill_one(
                example.name, episode, setup, Period(date(year, 3, 1), date(year, 3, 31)), date(year, 4, 2)
            )
            timings.append(f"{year}: {time.perf_counter() - start:6.3f}")
        print(f"  {example.name:32} " + "   ".join(timings))


if __name__ == "__main__":
    main()
