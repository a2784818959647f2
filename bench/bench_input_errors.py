"""How long refusing an episode with many unknown keys takes (issue 8, item 3).

Run: `.venv/bin/python bench/bench_input_errors.py [--keys 16000 160000]`. Each size is one
episode (the first bundled example) with that many unknown top-level keys, parsed in process
the way `bill`, the API and the upload do; the figure is the time to the refusal. Nothing is
asserted: it prints figures.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from hitclaims.core.errors import InputError
from hitclaims.inputs.catalog_files import load_catalog
from hitclaims.inputs.loading import MAX_INPUT_BYTES, parse_episode

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "ex1-morphine-cancer.json"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, nargs="+", default=[1000, 16_000, 160_000])
    args = parser.parse_args()
    catalog = load_catalog()
    base = json.loads(EXAMPLE.read_text())
    print(f"refusing an episode with N unknown keys (input limit {MAX_INPUT_BYTES:,} bytes)")
    for keys in args.keys:
        data = dict(base, **{f"unknown_key_{i:07d}": i for i in range(keys)})
        text = json.dumps(data)
        start = time.perf_counter()
        try:
            parse_episode("bench.json", text, catalog)
            outcome = "accepted?"
        except InputError as exc:
            outcome = f"refused, and {exc.more:,} more"
        elapsed = time.perf_counter() - start
        print(f"  {keys:9,} keys  {len(text):11,} bytes  {elapsed:7.3f} s  {outcome}")


if __name__ == "__main__":
    main()
