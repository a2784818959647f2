"""A synthetic home infusion population: seeded, deterministic episode JSON for one month.

Each episode is drawn from its own `random.Random`, seeded from the population seed and the
episode's index, so any slice of a population can be made by any worker and the same seed always
gives the same bytes. The mix (payers, devices, time zones, how often documentation is missing)
comes from a profile YAML; `data/population-default.yaml` holds the defaults with their reasons.
Episodes are written in the episode JSON of `core.records` and read by `hitclaims bill` unchanged.
Every person in it is made up.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hitclaims.core.errors import InputError
from hitclaims.inputs.population_tables import (
    CANCERS,
    CITIES,
    CONCURRENT_CODES,
    DRUGS,
    FIRST_NAMES,
    LAST_NAMES,
    MIXES,
    NOTE_TEXTS,
    STREETS,
    npi_with_check_digit,
)

Share = Annotated[float, Field(ge=0, le=1)]


class PayerMix(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    weight: Annotated[float, Field(gt=0)]
    authorization: bool = False


class Profile(BaseModel):
    """The mix of a population; see data/population-default.yaml for what each value means."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    month: Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
    payers: Annotated[dict[str, PayerMix], Field(min_length=1)]
    timezones: Annotated[dict[str, Annotated[float, Field(gt=0)]], Field(min_length=1)]
    devices: Annotated[dict[str, Annotated[float, Field(ge=0)]], Field(min_length=1)]
    continuous_share: Share
    ongoing_share: Share
    discontinued_share: Share
    no_pump_log_share: Share
    long_gap_share: Share
    rate_change_share: Share
    rate_change_documented: Share
    hold_share: Share
    open_hold_share: Share
    missed_notes_share: Share
    missed_note_day_rate: Share
    late_signature_share: Share
    unsigned_share: Share
    incomplete_order_share: Share
    history_missing_share: Share
    necessity_missing_share: Share
    supplies_missing_share: Share
    invalid_diagnosis_share: Share
    bad_ndc_share: Share
    nursing_visits_per_week: Annotated[list[Annotated[int, Field(ge=0, le=7)]], Field(min_length=1)]
    nursing_minutes: Annotated[list[Annotated[int, Field(gt=0, le=720)]], Field(min_length=1)]
    nursing_without_times_share: Share
    nursing_without_note_share: Share
    second_visit_same_day_share: Share
    administered_recorded_share: Share
    authorization_missing_share: Share
    authorization_runs_out_share: Share
    authorization_renewed_share: Share
    concurrent_share: Share
    dependent_share: Share


def default_profile_text() -> str:
    return resources.files("hitclaims").joinpath("data", "population-default.yaml").read_text("utf-8")


def load_profile(path: Path | None) -> Profile:
    """The profile in `path`, over the defaults (a profile file need only say what it changes)."""
    values: dict[str, Any] = yaml.safe_load(default_profile_text())
    name = "population-default.yaml"
    if path is not None:
        name = str(path)
        try:
            given = yaml.safe_load(path.read_text("utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise InputError(name, None, None, f"cannot read the profile ({type(exc).__name__})") from None
        if not isinstance(given, dict):
            raise InputError(name, None, None, "a profile is a YAML mapping")
        values.update(given)
    try:
        profile = Profile.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        raise InputError(name, None, field, first["msg"]) from None
    for zone in profile.timezones:
        try:
            ZoneInfo(zone)
        except (KeyError, ValueError):
            raise InputError(name, "timezones", zone, "unknown IANA time zone") from None
    for device in profile.devices:
        if device not in ("external_pump", "implanted_pump", "gravity"):
            raise InputError(name, "devices", device, "not a device the episode JSON knows")
    return profile


def month_start(text: str) -> date:
    year, month = (int(part) for part in text.split("-"))
    return date(year, month, 1)


class _Weighted:
    """A weighted choice with its cumulative weights computed once, not per episode."""

    def __init__(self, weights: dict[str, float]) -> None:
        self.keys = list(weights)
        self.cumulative: list[float] = []
        total = 0.0
        for key in self.keys:
            total += weights[key]
            self.cumulative.append(total)

    def pick(self, rng: random.Random) -> str:
        return rng.choices(self.keys, cum_weights=self.cumulative)[0]


class Population:
    """A profile and a seed: episode `index` is always the same episode."""

    def __init__(self, profile: Profile, seed: int, month: str | None = None) -> None:
        self.profile = profile
        self.seed = seed
        self.first = month_start(month or profile.month)
        following = (self.first.replace(day=28) + timedelta(days=4)).replace(day=1)
        self.last = following - timedelta(days=1)
        self.payers = _Weighted({k: v.weight for k, v in profile.payers.items()})
        self.zones = _Weighted(profile.timezones)
        self.devices = _Weighted(profile.devices)

    def episode(self, index: int) -> dict[str, Any]:
        # A string seed is hashed with SHA-512 by `random`: stable across runs and platforms.
        rng = random.Random(f"hitclaims-population/{self.seed}/{index}")
        return _Episode(self, rng, index).build()

    def line(self, index: int) -> str:
        return json.dumps(self.episode(index), separators=(",", ":")) + "\n"

    def lines(self, start: int, stop: int) -> Iterator[str]:
        for index in range(start, stop):
            yield self.line(index)


class _Episode:
    """One episode being drawn. Times are local wall-clock times until they are written."""

    def __init__(self, population: Population, rng: random.Random, index: int) -> None:
        self.pop, self.rng, self.index, self.p = population, rng, index, population.profile
        self.payer = population.payers.pick(rng)
        self.zone_name = population.zones.pick(rng)
        self.zone = ZoneInfo(self.zone_name)
        self.device = population.devices.pick(rng)
        if self.device == "implanted_pump":
            self.continuous = True
        elif self.device == "gravity":
            self.continuous = False
        else:
            self.continuous = rng.random() < self.p.continuous_share
        first, last = population.first, population.last
        if rng.random() < self.p.ongoing_share:
            self.start = first - timedelta(days=rng.randint(1, 60))
        else:
            self.start = first + timedelta(days=rng.randint(0, (last - first).days - 2))
        self.stop_at: datetime | None = None  # the permanent discontinuation
        if rng.random() < self.p.discontinued_share:
            day = max(self.start, first) + timedelta(days=rng.randint(1, 20))
            day = min(day, last)
            self.stop_at = datetime.combine(day, time(rng.randint(8, 17), rng.choice((0, 15, 30, 45))))
        self.log_end = self.stop_at or datetime.combine(last + timedelta(days=1), time(0))
        self.hold: tuple[datetime, datetime | None] | None = None
        self.route = self._route()
        self.drugs = rng.choice(MIXES[self.route])

    def at(self, moment: datetime) -> str:
        return moment.replace(tzinfo=self.zone).isoformat()

    def _route(self) -> str:
        if self.device == "implanted_pump":
            return "intrathecal"
        if self.device == "gravity":
            return "IV"
        return self.rng.choices(("IV", "SC", "epidural"), weights=(60, 25, 15))[0]

    def days(self) -> Iterator[date]:
        """The therapy's days inside the month."""
        day = max(self.start, self.pop.first)
        last = min(self.log_end.date() if self.stop_at else self.pop.last, self.pop.last)
        while day <= last:
            yield day
            day += timedelta(days=1)

    def at_home(self, day: date) -> bool:
        if self.hold is None:
            return True
        start, end = self.hold
        return not (start.date() < day and (end is None or day < end.date()))

    def build(self) -> dict[str, Any]:
        p, rng = self.p, self.rng
        self._draw_hold()
        history = rng.random() >= p.history_missing_share
        pump_events, adjustments = self._pump_log()
        return {
            "episode_id": f"G{self.pop.seed % 1_000_000}-{self.index:08d}",
            "patient": self._patient(),
            "coverage": self._coverage(),
            "prescriber": self._prescriber(),
            "diagnoses": self._diagnoses(),
            "medical_history": "Chronic pain history reviewed; prior therapies on file." if history else None,
            "home_infusion_reason": "Parenteral analgesia needed at home." if history else None,
            "medical_necessity": self._necessity(),
            "therapy": {"category": "pain_management", "device": self.device, "route": self.route},
            "orders": [self._order()],
            "adjustments": adjustments,
            "pump_events": pump_events,
            "holds": self._holds(),
            "discontinued_at": self.at(self.stop_at) if self.stop_at else None,
            "progress_notes": self._notes(),
            "supplies": self._supplies(),
            "dispenses": self._dispenses(),
            "nursing_visits": self._nursing(),
            "concurrent_therapies": self._concurrent(),
        }

    # --- people ----------------------------------------------------------------------------

    def _person(self, born_from: int, born_to: int) -> dict[str, Any]:
        rng = self.rng
        city, state, zip_code = rng.choice(CITIES[self.zone_name])
        born = date(rng.randint(born_from, born_to), rng.randint(1, 12), rng.randint(1, 28))
        return {
            "first_name": rng.choice(FIRST_NAMES),
            "last_name": rng.choice(LAST_NAMES),
            "birth_date": born.isoformat(),
            "sex": rng.choices("FMU", weights=(50, 49, 1))[0],
            "address": {
                "line1": f"{rng.randint(1, 9999)} {rng.choice(STREETS)}",
                "city": city,
                "state": state,
                "zip": zip_code,
            },
        }

    def _patient(self) -> dict[str, Any]:
        medicare = self.payer == "medicare-ffs"
        person = self._person(1930, 1959) if medicare else self._person(1950, 2006)
        return {"id": f"P{self.pop.seed % 1_000_000}-{self.index:08d}", **person, "timezone": self.zone_name}

    def _coverage(self) -> dict[str, Any]:
        rng, medicare = self.rng, self.payer == "medicare-ffs"
        dependent = not medicare and rng.random() < self.p.dependent_share
        member = "".join(rng.choices("ACDEFGHJKMNPQRTUVWXY0123456789", k=11))
        coverage: dict[str, Any] = {
            "payer_id": self.payer,
            "member_id": member,
            "group_number": None if medicare or "medicaid" in self.payer else f"G-{rng.randint(100, 9999)}",
            "relationship": rng.choice(("spouse", "child")) if dependent else "self",
        }
        if dependent:
            coverage["subscriber"] = self._person(1950, 1985)
        if self.p.payers[self.payer].authorization and rng.random() >= self.p.authorization_missing_share:
            coverage["prior_authorization"] = self._authorizations()
        return coverage

    def _prescriber(self) -> dict[str, Any]:
        rng = self.rng
        return {
            "npi": npi_with_check_digit(100_000_000 + rng.randint(0, 899_999_999)),
            "first_name": rng.choice(FIRST_NAMES),
            "last_name": rng.choice(LAST_NAMES),
        }

    def _diagnoses(self) -> list[str]:
        rng = self.rng
        if rng.random() < self.p.invalid_diagnosis_share:
            return [rng.choice(("M54.5", "R52", "G89"))]  # deleted, unsupported, or a header code
        kind = rng.choice(("cancer", "postop", "chronic", "crps"))
        if kind == "cancer":
            return ["G89.3", *rng.sample(CANCERS, rng.randint(1, 2))]
        if kind == "postop":
            return ["G89.18", rng.choice(("Z48.815", "Z48.89", "Z98.890"))]
        if kind == "chronic":
            return [rng.choice(("G89.29", "G89.4", "G89.21")), rng.choice(("M54.50", "M54.59", "M54.16"))]
        return [rng.choice(("G90.511", "G90.512", "G90.521", "G90.522"))]

    def _necessity(self) -> dict[str, Any] | None:
        if self.rng.random() < self.p.necessity_missing_share:
            return None
        return {
            "continuous_infusion_indicated": True,
            "alternatives_tried": ["oral opioids", "transdermal fentanyl"][: self.rng.randint(1, 2)],
            "alternatives_outcome": self.rng.choice(("unsuccessful", "inappropriate: unable to swallow")),
        }

    # --- orders and authorizations ---------------------------------------------------------

    def per_diem_code(self) -> str:
        if self.device == "implanted_pump":
            return "S9328"
        return "S9326" if self.continuous else "S9327"

    def _order(self) -> dict[str, Any]:
        rng, p = self.rng, self.p
        draw = rng.random()
        signed: str | None = self.at(datetime.combine(self.start - timedelta(days=1), time(15, 30)))
        if draw < p.unsigned_share:
            signed = None
        elif draw < p.unsigned_share + p.late_signature_share:
            signed = self.at(datetime.combine(self.start + timedelta(days=rng.randint(3, 45)), time(10)))
        drug: str | list[str] = self.drugs[0] if len(self.drugs) == 1 else list(self.drugs)
        return {
            "id": "O-1",
            "signed_at": signed,
            "start": self.start.isoformat(),
            "end": self.stop_at.date().isoformat() if self.stop_at else None,
            "drug": drug,
            "dose": ", ".join(f"{d} {DRUGS[d].dose}" for d in self.drugs),
            "rate": None if rng.random() < p.incomplete_order_share else "2 mL/h",
            "mode": "continuous" if self.continuous else "intermittent",
        }

    def _authorizations(self) -> dict[str, Any] | list[dict[str, Any]]:
        rng, first, last = self.rng, self.pop.first, self.pop.last
        start = max(self.start, first - timedelta(days=rng.randint(0, 20)))
        end = last + timedelta(days=rng.randint(0, 60))
        units = (end - start).days + 1
        if rng.random() < self.p.authorization_runs_out_share:
            if rng.random() < 0.5:
                end = max(start, min(end, first + timedelta(days=rng.randint(5, 20))))  # ends in the month
                units = (end - start).days + 1
            else:
                units = rng.randint(3, 20)  # too few units for the month
        code = self.per_diem_code()
        first_auth = {
            "number": f"PA-{rng.randint(10**6, 10**7 - 1)}",
            "start": start.isoformat(),
            "end": end.isoformat(),
            "units": units,
            "codes": [code],
        }
        if end >= last or rng.random() >= self.p.authorization_renewed_share:
            return first_auth
        renewal = {
            "number": f"PA-{rng.randint(10**6, 10**7 - 1)}",
            "start": (end + timedelta(days=1)).isoformat(),
            "end": (last + timedelta(days=30)).isoformat(),
            "units": 60,
            "codes": [code],
        }
        return [first_auth, renewal]

    # --- pump log, holds -------------------------------------------------------------------

    def _draw_hold(self) -> None:
        rng, first, last = self.rng, self.pop.first, self.pop.last
        if rng.random() >= self.p.hold_share:
            return
        earliest = max(self.start, first) + timedelta(days=1)
        if earliest >= self.log_end.date() - timedelta(days=1):
            return
        day = earliest + timedelta(days=rng.randint(0, (min(self.log_end.date(), last) - earliest).days - 1))
        start = datetime.combine(day, time(rng.randint(0, 23), rng.choice((0, 20, 40))))
        if rng.random() < self.p.open_hold_share:
            self.hold = (start, None)
            self.log_end = min(self.log_end, start)  # no stop record: the pump stops at admission
            return
        end = start + timedelta(hours=rng.randint(10, 6 * 24))
        self.hold = (start, min(end, datetime.combine(last, time(23))))

    def _holds(self) -> list[dict[str, Any]]:
        if self.hold is None:
            return []
        start, end = self.hold
        reason = self.rng.choices(
            ("inpatient", "skilled_nursing", "hospice", "other"), weights=(80, 10, 5, 5)
        )
        return [
            {"id": "H-1", "start": self.at(start), "end": self.at(end) if end else None, "reason": reason[0]}
        ]

    def _segments(self) -> list[tuple[datetime, datetime, bool]]:
        """Stretches the pump may run: (from, to, whether a stop ends it), around the hold."""
        begin_day = max(self.start, self.pop.first - timedelta(days=3))
        begin = datetime.combine(begin_day, time(self.rng.randint(8, 15)))
        stopped = self.stop_at is not None
        if self.hold is None:
            return [(begin, self.log_end, stopped)]
        hold_start, hold_end = self.hold
        before = (begin, hold_start - timedelta(minutes=self.rng.randint(0, 30)), True)
        if hold_end is None or hold_end >= self.log_end:
            return [before] if before[1] > begin else []
        after = (hold_end + timedelta(minutes=self.rng.randint(10, 90)), self.log_end, stopped)
        return [s for s in (before, after) if s[1] > s[0]]

    def _pump_log(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        if self.device == "implanted_pump" or self.rng.random() < self.p.no_pump_log_share:
            return [], []
        events: list[tuple[datetime, str, str | None]] = []
        for begin, end, stops in self._segments():
            runs = self._continuous(begin, end) if self.continuous else self._intermittent(begin, end)
            for run_start, run_end in runs:
                events.append((run_start, "start", "2 mL/h"))
                if run_end < end or stops:
                    events.append((run_end, "stop", None))
        adjustments: list[dict[str, Any]] = []
        if events and self.rng.random() < self.p.rate_change_share:
            moment = events[0][0] + timedelta(hours=self.rng.randint(6, 72))
            if moment < self.log_end:
                events.append((moment, "rate_change", "3 mL/h"))
                if self.rng.random() < self.p.rate_change_documented:
                    adjustments.append(
                        {
                            "id": "A-1",
                            "at": self.at(moment - timedelta(minutes=10)),
                            "order_id": "O-1",
                            "rate": "3 mL/h",
                            "reason": "breakthrough pain",
                        }
                    )
        events.sort(key=lambda e: e[0])
        out = [{"at": self.at(m), "type": kind, "rate": rate} for m, kind, rate in events]
        return out, adjustments

    def _continuous(self, begin: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """A continuous run broken by cassette changes: short gaps merge, long ones do not."""
        rng, runs, start = self.rng, [], begin
        while True:
            change = start + timedelta(hours=rng.randint(48, 120), minutes=rng.choice((0, 10, 25, 40)))
            if change >= end:
                runs.append((start, end))
                return runs
            runs.append((start, change))
            long_gap = rng.random() < self.p.long_gap_share
            gap = rng.randint(180, 1800) if long_gap else rng.randint(5, 45)
            start = change + timedelta(minutes=gap)
            if start >= end:
                return runs

    def _intermittent(self, begin: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """One to three infusions a day, each under 24 hours."""
        rng, runs = self.rng, []
        day = begin.date()
        while day <= end.date():
            for slot in range(rng.randint(1, 3)):
                start = datetime.combine(day, time(7 + 5 * slot, rng.choice((0, 15, 30))))
                stop = start + timedelta(minutes=rng.randint(30, 240))
                if start >= begin and stop <= end:
                    runs.append((start, stop))
            day += timedelta(days=1)
        return runs

    # --- documentation, drugs, nursing -----------------------------------------------------

    def _notes(self) -> list[dict[str, Any]]:
        rng = self.rng
        missing = self.p.missed_note_day_rate if rng.random() < self.p.missed_notes_share else 0.0
        author = rng.choice(("RPh Lee", "RPh Ortiz", "RN Patel", "RN Novak", "RPh Chen"))
        return [
            {"date": day.isoformat(), "author": author, "text": rng.choice(NOTE_TEXTS)}
            for day in self.days()
            if self.at_home(day) and not (missing and rng.random() < missing)
        ]

    def _supplies(self) -> list[dict[str, Any]]:
        rng = self.rng
        if rng.random() < self.p.supplies_missing_share:
            return []
        day = max(self.start, self.pop.first).isoformat()
        supplies: list[dict[str, Any]] = [
            {
                "date": day,
                "description": "cassettes, tubing, dressings, flushes",
                "hcpcs": None,
                "quantity": rng.randint(1, 8),
            },
        ]
        if self.payer == "blue-ne-supplies" and rng.random() < 0.5:
            supplies.append(
                {
                    "date": day,
                    "description": "supplies per cassette",
                    "hcpcs": "A4222",
                    "quantity": rng.randint(2, 10),
                }
            )
        return supplies

    def _dispenses(self) -> list[dict[str, Any]]:
        rng, out = self.rng, []
        day = max(self.start, self.pop.first - timedelta(days=2))
        last = min(self.log_end.date(), self.pop.last)
        bad_ndc = rng.random() < self.p.bad_ndc_share
        while day <= last:
            for key in self.drugs:
                out.append(self._dispense(day, key, bad_ndc))
            day += timedelta(days=rng.randint(3, 7))
        return out

    def _dispense(self, day: date, key: str, bad_ndc: bool) -> dict[str, Any]:
        rng, drug = self.rng, DRUGS[key]
        ml = rng.choice(drug.volumes_ml)
        amount = drug.per_ml * ml
        administered: str | None = None
        if drug.single_dose or rng.random() < self.p.administered_recorded_share:
            administered = f"{amount * rng.choice((60, 75, 90, 100)) / 100:g}"
        return {
            "date": day.isoformat(),
            "drug": key,
            "ndc": "1234567890" if bad_ndc else drug.ndc,  # un-hyphenated 10 digits: ambiguous
            "quantity": f"{ml:g}",
            "unit": "ML",
            "amount": f"{amount:g}",
            "amount_unit": drug.amount_unit,
            "administered_amount": administered,
            "single_dose": drug.single_dose,
        }

    def _nursing(self) -> list[dict[str, Any]]:
        rng, visits = self.rng, []
        home_days = [d for d in self.days() if self.at_home(d)]
        for week in range(0, len(home_days), 7):
            days = home_days[week : week + 7]
            for day in sorted(rng.sample(days, min(len(days), rng.choice(self.p.nursing_visits_per_week)))):
                visits.append(self._visit(day, 8 + rng.randint(0, 6)))
                if rng.random() < self.p.second_visit_same_day_share:
                    visits.append(self._visit(day, 18))
        return visits

    def _visit(self, day: date, hour: int) -> dict[str, Any]:
        rng = self.rng
        minutes = rng.choice(self.p.nursing_minutes)
        start = datetime.combine(day, time(hour, rng.choice((0, 15, 30))))
        end = min(start + timedelta(minutes=minutes), datetime.combine(day, time(23, 59)))
        note = (
            None if rng.random() < self.p.nursing_without_note_share else "Site check, pump check, teaching."
        )
        if rng.random() < self.p.nursing_without_times_share:
            return {"date": day.isoformat(), "duration_minutes": minutes, "credential": "RN", "note": note}
        return {
            "date": day.isoformat(),
            "start": self.at(start),
            "end": self.at(end),
            "credential": rng.choice(("RN", "RN", "LPN")),
            "note": note,
        }

    def _concurrent(self) -> list[dict[str, Any]]:
        rng = self.rng
        if rng.random() >= self.p.concurrent_share:
            return []
        code, rate = rng.choice(CONCURRENT_CODES)
        start = self.pop.first + timedelta(days=rng.randint(0, 10))
        end = start + timedelta(days=rng.randint(3, 14))
        return [{"id": "C-1", "code": code, "start": start.isoformat(), "end": end.isoformat(), "rate": rate}]
