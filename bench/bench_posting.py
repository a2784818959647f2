"""Remittance lines posted per second into the store (SQLite or PostgreSQL).

Run: `.venv/bin/python bench/bench_posting.py [--episodes 200] [--database sqlite|postgresql]`.
It bills copies of example 1 (29 per-diem days, drugs and nursing) for March 2025 in a fresh
database, exports them, lets the payer simulator answer every claim, and times
`services.remittances.upload` of that one 835: reading, balancing, matching and writing every
claim and line payment. A second upload of the same file shows the cost of recognising it.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.databases import fresh_database, open_workplace, postgres_cluster  # noqa: E402

from hitclaims.core.adjudication import SimulatorSettings, adjudicate  # noqa: E402
from hitclaims.core.days import Period  # noqa: E402
from hitclaims.formats.x12.envelope import Envelope  # noqa: E402
from hitclaims.formats.x12.write_835 import write_835  # noqa: E402
from hitclaims.inputs.loading import parse_episode  # noqa: E402
from hitclaims.services import exports, remittances  # noqa: E402
from hitclaims.services.runs import execute_run, start_run  # noqa: E402
from hitclaims.services.users import Person  # noqa: E402
from hitclaims.store import claims as claim_store  # noqa: E402
from hitclaims.store.episodes import import_episode  # noqa: E402
from hitclaims.store.models import ClaimRecord  # noqa: E402

BILLER = Person("bench", "biller")


@contextmanager
def database(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    with postgres_cluster() as server, fresh_database(server) as url:
        yield url


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    source = json.loads((ROOT / "examples" / "ex1-morphine-cancer.json").read_text())
    with database(args.database) as url:
        place = open_workplace(url)
        with place.factory() as db, db.begin():
            for i in range(args.episodes):
                data = dict(
                    source, episode_id=f"BENCH-{i:05d}", patient=dict(source["patient"], id=f"P-{i:05d}")
                )
                import_episode(
                    db, parse_episode("bench", json.dumps(data), place.catalog), "json", [], "bench"
                )
        execute_run(
            place, start_run(place, Period(date(2025, 3, 1), date(2025, 3, 31)), date(2025, 4, 2), [], "b")
        )
        exports.export_ready(place, BILLER)
        with place.factory() as db:
            rows = db.query(ClaimRecord).filter(ClaimRecord.status == "submitted").all()
            claims = [claim_store.claim_of(r).model_copy(update={"status": "submitted"}) for r in rows]
        settings = SimulatorSettings(
            date(2025, 5, 2), seed=1, patient_share={c.payer_id: Decimal("0.2") for c in claims}
        )
        remits = adjudicate(claims, settings)
        text = write_835(remits, Envelope("PAYER", "HITCLAIMS", datetime(2025, 5, 2, 8), 1))  # noqa: DTZ001
        lines = sum(len(c.lines) for r in remits for c in r.claims)
        for label in ("first upload (posts)", "second upload (already posted)"):
            start = time.perf_counter()
            done = remittances.upload(place, "bench.835", text, BILLER)
            seconds = time.perf_counter() - start
            outcome = ", ".join(sorted({d.outcome for d in done}))
            print(
                f"{args.database}: {label}: {len(claims)} claims, {lines} lines in {seconds:.2f} s"
                f" = {lines / seconds:,.0f} lines/s ({outcome})"
            )
        place.close()


if __name__ == "__main__":
    main()
