"""Parallel billing runs for the same period on a real PostgreSQL: each day is billed once."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import func, select

from hitclaims.core.days import Period
from hitclaims.inputs.loading import parse_episode
from hitclaims.services.runs import execute_run, start_run
from hitclaims.services.workplace import Workplace
from hitclaims.store.episodes import import_episode
from hitclaims.store.models import BilledDayRecord, ClaimRecord

from .builders import CATALOG, episode_dict
from .databases import fresh_database, open_workplace

MARCH = Period(date(2025, 3, 1), date(2025, 3, 31))
RUNS = 6
PATIENTS = 8


@pytest.fixture
def place(postgres_server: str) -> Iterator[Workplace]:
    with fresh_database(postgres_server) as url:
        workplace = open_workplace(url)
        yield workplace
        workplace.close()


def _load(place: Workplace) -> None:
    """Two overlapping episodes per patient (same payer): the second must not re-bill the first's days."""
    with place.factory() as db, db.begin():
        for p in range(PATIENTS):
            for suffix in ("A", "B"):
                data = episode_dict(episode_id=f"EP-{p:02d}-{suffix}")
                data["patient"]["id"] = f"P-{p:02d}"
                data["coverage"]["payer_id"] = "nhia-commercial-access"
                import_episode(db, parse_episode("test", json.dumps(data), CATALOG), "json", [], "loader")


def test_parallel_billing_runs_for_the_same_period_bill_each_day_once(place: Workplace) -> None:
    _load(place)
    place.setup()  # read the policies once before the threads start
    run_ids = [start_run(place, MARCH, date(2025, 4, 2), (), f"biller{i}") for i in range(RUNS)]
    barrier = threading.Barrier(RUNS)
    failures: list[BaseException] = []
    summaries: list[dict[str, object]] = []

    def go(run_id: int) -> None:
        barrier.wait()
        try:
            summaries.append(execute_run(place, run_id))
        except BaseException as exc:  # collected and re-raised below
            failures.append(exc)

    threads = [threading.Thread(target=go, args=(run_id,)) for run_id in run_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not failures, failures
    assert len(summaries) == RUNS

    with place.factory() as db:
        days = db.execute(
            select(BilledDayRecord.patient_key, BilledDayRecord.service_date, BilledDayRecord.family)
        ).all()
        current = list(db.scalars(select(ClaimRecord).where(ClaimRecord.is_current.is_(True))))
        all_claims = db.scalar(select(func.count()).select_from(ClaimRecord))
    # Each patient's 29 therapy days, once, whichever run and episode won them.
    assert len(days) == PATIENTS * 29
    assert not [k for k, n in Counter(days).items() if n > 1]
    # One current claim per claim key, and the per-diem units on them equal the billed days.
    keys = [c.claim_key for c in current]
    assert len(keys) == len(set(keys)) == PATIENTS * 2
    units = sum(line["units"] for c in current for line in c.content["lines"] if line["kind"] == "per_diem")
    assert units == len(days)
    # Every run finished; together they created each claim once and found the rest unchanged.
    created = sum(int(s["created"]) for s in summaries)  # type: ignore[call-overload]
    unchanged = sum(int(s["unchanged"]) for s in summaries)  # type: ignore[call-overload]
    assert created + unchanged == RUNS * PATIENTS * 2
    assert created == all_claims == PATIENTS * 2
