"""Remittance lines read per second: a large simulated 835 written, then read and balanced.

Run: `.venv/bin/python bench/bench_remit.py [--claims 5000] [--runs 3]`. The claims are one
billed daily-line claim (about 30 service lines) copied under new claim ids; the payer simulator
answers them with a coinsurance share and seeded authorization denials, the writer renders one
835, and the timed part is `read_835` plus the three balancing rules over what it read.
"""

from __future__ import annotations

import argparse
import time
from datetime import date, datetime
from decimal import Decimal

from tests.builders import bill, policy

from hitclaims.core.adjudication import SimulatorSettings, adjudicate
from hitclaims.core.claim import Claim
from hitclaims.core.remittance import balance_findings
from hitclaims.formats.x12.envelope import Envelope
from hitclaims.formats.x12.remit_835 import read_835
from hitclaims.formats.x12.write_835 import write_835


def claims(count: int) -> list[Claim]:
    one = bill(pol=policy(line_format="daily"))
    return [one.model_copy(update={"claim_id": f"BENCH-{n:06d}"}) for n in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--claims", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    run = SimulatorSettings(
        date(2025, 4, 20),
        seed=1,
        patient_share={"test-payer": Decimal("0.2")},
        authorization_denial_rate=Decimal("0.05"),
    )
    text = write_835(
        adjudicate(claims(args.claims), run),
        Envelope("12345", "PRAIRIEHIT", datetime(2025, 4, 20), 1),  # noqa: DTZ001
    )
    for _ in range(args.runs):
        start = time.perf_counter()
        (remit,) = read_835(text)
        unbalanced = balance_findings(remit)
        seconds = time.perf_counter() - start
        lines = sum(len(c.lines) for c in remit.claims)
        print(
            f"{len(remit.claims)} claims, {lines} lines, {text.count('~')} segments, "
            f"{len(text) / 1e6:.1f} MB: "
            f"{seconds:.2f} s, {lines / seconds:,.0f} lines/s, {len(unbalanced)} unbalanced"
        )


if __name__ == "__main__":
    main()
