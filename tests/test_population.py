"""The synthetic population (issue 10, item 1): seeded bytes, the profile's mix, episodes the
engine reads unchanged."""

from __future__ import annotations

import itertools
import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hitclaims.core.errors import InputError
from hitclaims.core.provider import npi_is_valid
from hitclaims.inputs.loading import parse_episode
from hitclaims.inputs.population import Population, load_profile
from hitclaims.services.billing import Setup
from hitclaims.services.population import generate

SAMPLE = 400


@pytest.fixture(scope="module")
def sample() -> list[dict[str, Any]]:
    population = Population(load_profile(None), seed=11)
    return [json.loads(line) for line in population.lines(0, SAMPLE)]


def test_same_seed_gives_the_same_bytes(tmp_path: Path) -> None:
    first, again, other = tmp_path / "a.ndjson", tmp_path / "b.ndjson", tmp_path / "c.ndjson"
    generate(first, 30, 5, None, None, workers=1)
    generate(again, 30, 5, None, None, workers=2)
    generate(other, 30, 6, None, None, workers=1)
    assert first.read_bytes() == again.read_bytes()
    assert first.read_bytes() != other.read_bytes()
    assert len(first.read_bytes().splitlines()) == 30


def test_any_slice_is_the_same_episodes_so_workers_can_split_the_work() -> None:
    population = Population(load_profile(None), seed=3)
    whole = list(population.lines(0, 20))
    assert list(population.lines(7, 13)) == whole[7:13]


def test_every_generated_episode_parses_as_episode_json(setup: Setup, sample: list[dict[str, Any]]) -> None:
    for number, episode in enumerate(sample, start=1):
        parse_episode(f"generated:{number}", json.dumps(episode), setup.catalog)
        assert npi_is_valid(episode["prescriber"]["npi"])


def _minutes(visit: dict[str, Any]) -> int:
    if "start" in visit:
        return int(
            (datetime.fromisoformat(visit["end"]) - datetime.fromisoformat(visit["start"])).seconds // 60
        )
    return int(visit["duration_minutes"])


def _long_gaps(events: list[dict[str, Any]]) -> int:
    gaps = 0
    for stop, start in itertools.pairwise(events):
        if stop["type"] == "stop" and start["type"] == "start":
            gap = datetime.fromisoformat(start["at"]) - datetime.fromisoformat(stop["at"])
            gaps += gap > timedelta(minutes=120)
    return gaps


def test_a_sample_holds_every_feature_of_the_profile(setup: Setup, sample: list[dict[str, Any]]) -> None:
    payers = {e["coverage"]["payer_id"] for e in sample}
    policies = [setup.policies.for_payer(p, date(2025, 3, 1)) for p in payers]
    assert {p.payer_kind for p in policies} >= {"medicare", "medicaid", "commercial"}
    assert {p.billable_day for p in policies if p.payer_kind != "medicare"} == {
        "access",
        "infusion",
        "elapsed_24h",
    }
    assert {p.line_format for p in policies if p.payer_kind != "medicare"} == {
        "daily",
        "span",
        "calendar_month",
    }
    assert {e["therapy"]["device"] for e in sample} == {"external_pump", "implanted_pump", "gravity"}
    assert {e["orders"][0]["mode"] for e in sample} == {"continuous", "intermittent"}
    assert {e["therapy"]["route"] for e in sample} == {"IV", "SC", "epidural", "intrathecal"}
    # Pumps: restarts after short cassette changes, long gaps, no pump log at all.
    assert sum(_long_gaps(e["pump_events"]) for e in sample) > 5
    assert any(not e["pump_events"] and e["therapy"]["device"] == "external_pump" for e in sample)
    holds = [h for e in sample for h in e["holds"]]
    assert holds
    assert any(h["end"] is None for h in holds)
    # Documentation: late and missing signatures, missed progress notes.
    orders = [e["orders"][0] for e in sample]
    assert any(o["signed_at"] is None for o in orders)
    assert any(o["signed_at"] and o["signed_at"][:10] > o["start"] for o in orders)
    assert any(_missed(e) for e in sample)
    # Nursing of every length: under 2 hours, an extra hour short of and past 31 minutes, no times.
    minutes = {_minutes(v) for e in sample for v in e["nursing_visits"]}
    assert min(minutes) < 120
    assert any(120 < m < 151 for m in minutes)
    assert max(minutes) > 240
    assert any("duration_minutes" in v for e in sample for v in e["nursing_visits"])
    # Drugs with NDCs, waste on single-dose products.
    dispenses = [d for e in sample for d in e["dispenses"]]
    assert all(d["ndc"] for d in dispenses)
    assert any(d["single_dose"] and float(d["administered_amount"]) < float(d["amount"]) for d in dispenses)
    # Authorizations that run out: end inside the month, or fewer units than the month's days.
    auths = [a for e in sample for a in _authorizations(e)]
    assert any(a["end"] < "2025-03-31" or a["units"] < 31 for a in auths)
    # Time zones across the US, the month crossing DST (offsets change inside it).
    assert len({e["patient"]["timezone"] for e in sample}) >= 6
    assert any(_offsets(e) == {"-05:00", "-04:00"} for e in sample)
    assert any(e["concurrent_therapies"] for e in sample)


def _missed(episode: dict[str, Any]) -> bool:
    """A therapy day at home in March with no progress note."""
    noted = {n["date"] for n in episode["progress_notes"]}
    start = max(date.fromisoformat(episode["orders"][0]["start"]), date(2025, 3, 1))
    end = episode["orders"][0]["end"] or "2025-03-31"
    days = [start + timedelta(days=i) for i in range((date.fromisoformat(end) - start).days + 1)]
    return not episode["holds"] and any(d.isoformat() not in noted for d in days)


def _authorizations(episode: dict[str, Any]) -> list[dict[str, Any]]:
    found = episode["coverage"].get("prior_authorization")
    return [] if found is None else found if isinstance(found, list) else [found]


def _offsets(episode: dict[str, Any]) -> set[str]:
    return {
        e["at"][-6:] for e in episode["pump_events"] if episode["patient"]["timezone"] == "America/New_York"
    }


def test_a_profile_file_changes_only_what_it_says(tmp_path: Path) -> None:
    profile = tmp_path / "medicare.yaml"
    profile.write_text("payers: {medicare-ffs: {weight: 1}}\nmonth: '2025-11'\n")
    loaded = load_profile(profile)
    assert list(loaded.payers) == ["medicare-ffs"]
    assert loaded.hold_share == load_profile(None).hold_share
    episodes = [json.loads(line) for line in Population(loaded, 1).lines(0, 5)]
    assert {e["coverage"]["payer_id"] for e in episodes} == {"medicare-ffs"}


def test_a_bad_profile_names_its_field(tmp_path: Path) -> None:
    profile = tmp_path / "bad.yaml"
    profile.write_text("hold_share: 2\n")
    with pytest.raises(InputError) as caught:
        load_profile(profile)
    assert caught.value.field == "hold_share"
