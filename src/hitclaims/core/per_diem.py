"""The per-diem day ledger (DOMAIN §3): which days of the therapy are billable, with which code,
and why. Pure functions: records, policy, catalog and period in; decisions with reasons out.

Documentation does not enter here. A day the ledger calls billable may still be held by the audit
(no progress note, outside the authorization); that is the audit's decision, kept apart so each
reason stays attributable to one rule. The codes come from the catalog, looked up by the
therapy and the kind of day (continuous, intermittent, implanted, non-specific).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple
from zoneinfo import ZoneInfo

from hitclaims.core.catalog import PER_DIEM_FILE, Catalog
from hitclaims.core.days import Period, day_bounds, each_day, last_local_day, local_day, midnight
from hitclaims.core.errors import InputError
from hitclaims.core.home import Home, hold_spans, home_status
from hitclaims.core.policy import PayerPolicy
from hitclaims.core.records import Episode, Order
from hitclaims.core.runs import HOURS_CONTINUOUS, Run, build_runs
from hitclaims.core.vocabulary import PerDiemKind, RunKind

_SPECIFIC_KINDS: tuple[PerDiemKind, ...] = ("continuous", "intermittent", "implanted")


@dataclass(frozen=True)
class DayDecision:
    """One ledger row before documentation: billable or not, the code, and every reason."""

    date: date
    billable: bool
    code: str | None
    reasons: tuple[str, ...]
    kind: PerDiemKind | None = None


@dataclass(frozen=True)
class Ledger:
    days: tuple[DayDecision, ...]  # the therapy days inside the billing period, in date order
    runs: tuple[Run, ...]
    from_pump_log: bool
    therapy_start: date | None
    therapy_end: date  # last therapy day considered (discontinuation or end of period)

    @property
    def billable_days(self) -> tuple[DayDecision, ...]:
        return tuple(d for d in self.days if d.billable)

    def without(self, billed: Mapping[date, str]) -> Ledger:
        """The ledger with days already billed on other claims made not billable, saying where."""
        if not billed:
            return self
        days = tuple(
            DayDecision(
                d.date,
                False,
                None,
                (
                    *d.reasons,
                    f"already billed on claim {billed[d.date]} (billed-day ledger): not billed again",
                ),
            )
            if d.billable and d.date in billed
            else d
            for d in self.days
        )
        return replace(self, days=days)


def claim_codes(catalog: Catalog, therapy: str, policy: PayerPolicy) -> dict[PerDiemKind, str]:
    """The per-diem codes one claim of this payer may carry, by kind of day.

    A payer asking for the non-specific code gets it for every day; any other payer gets the
    specific codes. The catalog's `excludes` must allow the codes of one claim together (the
    non-specific code never beside a specific one): a catalog where they clash is unusable.
    """
    kinds: tuple[PerDiemKind, ...] = (
        ("nonspecific",) if policy.pain_code == "nonspecific" else _SPECIFIC_KINDS
    )
    codes = {kind: catalog.per_diem_code(therapy, kind) for kind in kinds}
    clashes = catalog.exclusions(codes.values())
    if clashes:
        code, other = clashes[0]
        problem = f"{code} excludes {other}, yet one {policy.id} claim may carry both"
        raise InputError(PER_DIEM_FILE, code, "excludes", problem)
    return codes


def therapy_bounds(episode: Episode, period: Period) -> tuple[date | None, date]:
    """First therapy day (first order's start) and the last one to consider."""
    zone = episode.patient.zone
    starts = [o.start for o in episode.orders]
    if not starts:
        # No order at all: the pump log is the only trace of therapy; every day will be held
        # for order.missing, which is more useful to a biller than an empty ledger.
        starts = [local_day(e.at, zone) for e in episode.pump_events if e.type == "start"]
    first = min(starts) if starts else None
    last = period.end
    if episode.discontinued_at is not None:
        # Stopped at local midnight, the therapy's last day is the day before.
        last = min(last, last_local_day(episode.discontinued_at, zone))
    return first, last


# --- the walk over the therapy days -------------------------------------------------------------

_VisitSpan = tuple[datetime, datetime] | None  # a nursing visit's time at home (None: no times)


@dataclass(frozen=True)
class _Walk:
    """What deciding one day needs: the runs, where the patient was, and the payer's settings."""

    episode: Episode
    policy: PayerPolicy
    zone: ZoneInfo
    runs: tuple[Run, ...]
    home_of: Mapping[date, Home]
    visits: Mapping[date, Sequence[_VisitSpan]]
    elapsed: Mapping[date, str]
    codes: Mapping[PerDiemKind, str]
    note: str
    # A run's description, made once: a month-long run describes every day it touches.
    descriptions: dict[Run, str] = field(default_factory=dict)

    def touching(self, day: date) -> list[Run]:
        start, end = day_bounds(day, self.zone)
        return [r for r in self.runs if r.touches(start, end)]

    def describe(self, run: Run) -> str:
        text = self.descriptions.get(run)
        if text is None:
            text = self.descriptions[run] = run.describe(self.zone)
        return text


class _Billable(NamedTuple):
    billable: bool
    why: str
    by_visit: bool = False  # billable only because a nurse gave the infusion at home


def decide_days(episode: Episode, policy: PayerPolicy, catalog: Catalog, period: Period) -> Ledger:
    """Every therapy day inside the billing period, billable or not, with its code and reasons.

    Only the period's days are decided, whenever the therapy began: what a day needs from
    earlier days (the code carried over from the last day with a run, the units of an
    elapsed-24h run that began before the period) is read from the runs, so a period decades
    after the first order costs no more than the first month.
    """
    runs, from_pump = build_runs(episode, policy, period)
    first, last = therapy_bounds(episode, period)
    if first is None or first > last:
        return Ledger((), runs, from_pump, first, last)
    start = max(first, period.start)
    if start > last:
        return Ledger((), runs, from_pump, first, last)
    walk = _walk(episode, policy, catalog, period, runs, first, last)
    days: list[DayDecision] = []
    carried = _carried_into(runs, walk.zone, first, start)
    for day in each_day(start, last):
        touching = walk.touching(day)
        days.append(_decide(walk, day, touching, carried))
        kind = _run_kind(touching)
        if kind is not None:
            carried = (day, kind)
    return Ledger(tuple(days), runs, from_pump, first, last)


def _carried_into(
    runs: Sequence[Run], zone: ZoneInfo, first: date, start: date
) -> tuple[date, RunKind] | None:
    """The last therapy day before `start` that a run touches, with the kind of that day: the
    code a day with no run of its own carries over (DOMAIN §3.5)."""
    before = midnight(start, zone)
    latest: date | None = None
    for run in runs:
        if run.start >= before or run.end <= run.start:
            continue
        day = min(last_local_day(run.end, zone), start - timedelta(days=1))
        if day >= max(first, local_day(run.start, zone)) and (latest is None or day > latest):
            latest = day
    if latest is None:
        return None
    day_start, day_end = day_bounds(latest, zone)
    kind = _run_kind([r for r in runs if r.touches(day_start, day_end)])
    return None if kind is None else (latest, kind)


def _walk(
    episode: Episode,
    policy: PayerPolicy,
    catalog: Catalog,
    period: Period,
    runs: tuple[Run, ...],
    first: date,
    last: date,
) -> _Walk:
    """What deciding the period's days needs: the runs that touch them, and where the patient
    was on each of them (and on the earlier days of an elapsed-24h run that reaches them)."""
    zone = episode.patient.zone
    start = max(first, period.start)
    window_start, window_end = midnight(start, zone), midnight(last + timedelta(days=1), zone)
    in_period = tuple(r for r in runs if r.touches(window_start, window_end))
    elapsed_rule = policy.billable_day == "elapsed_24h"
    # An elapsed-24h run pays its first units from its own first day: count from there.
    home_from = min((max(first, local_day(r.start, zone)) for r in in_period), default=start)
    home_from = min(home_from, start) if elapsed_rule else start
    spans = hold_spans(episode)
    home_of = {d: home_status(d, zone, spans, policy) for d in each_day(home_from, last)}
    elapsed = _elapsed_units(in_period, home_of, zone, first, last) if elapsed_rule else {}
    return _Walk(
        episode=episode,
        policy=policy,
        zone=zone,
        runs=in_period,
        home_of=home_of,
        visits=_visit_days(episode),
        elapsed=elapsed,
        codes=claim_codes(catalog, episode.therapy.category, policy),
        note=_therapy_note(episode, first, last, period),
    )


def _decide(
    walk: _Walk, day: date, touching: Sequence[Run], carried: tuple[date, RunKind] | None
) -> DayDecision:
    home = walk.home_of[day]
    reasons = [walk.note, *home.reasons]
    if not home.at_home:
        return DayDecision(day, False, None, tuple(reasons))
    billable = _billable(walk, day, home, touching)
    reasons.append(billable.why)
    if not billable.billable:
        return DayDecision(day, False, None, tuple(reasons))
    kind, why = _kind_of_day(walk, day, touching, carried, billable.by_visit)
    return DayDecision(day, True, walk.codes[kind], (*reasons, why), kind)


def _visit_days(episode: Episode) -> dict[date, list[_VisitSpan]]:
    visits: dict[date, list[_VisitSpan]] = {}
    for v in episode.nursing_visits:
        span = (v.start.astimezone(UTC), v.end.astimezone(UTC)) if v.start and v.end else None
        visits.setdefault(v.date, []).append(span)
    return visits


def _therapy_note(episode: Episode, first: date, last: date, period: Period) -> str:
    if episode.discontinued_at is not None and last < period.end:
        end = f"permanently discontinued {last}"
    elif episode.discontinued_at is not None:
        end = f"discontinued {local_day(episode.discontinued_at, episode.patient.zone)}"
    else:
        end = "continuing"
    return f"therapy period from {first} ({end})"


# --- elapsed 24 hours -----------------------------------------------------------------------------


def _days_of(run: Run, zone: ZoneInfo, first: date, last: date) -> list[date]:
    """The therapy days the run touches."""
    return list(each_day(max(local_day(run.start, zone), first), min(last_local_day(run.end, zone), last)))


def _elapsed_units(
    runs: Sequence[Run], home_of: Mapping[date, Home], zone: ZoneInfo, first: date, last: date
) -> dict[date, str]:
    """elapsed_24h: the days each run pays for, with the reason (BCBSNC: by hours infused).

    A day a continuous run touches is paid only by a unit of such a run: a shorter run on that
    day adds nothing, or the day would be billed twice over (DOMAIN §3.4).
    """
    continuous_days = {d for r in runs if r.continuous for d in _days_of(r, zone, first, last)}
    paid: dict[date, str] = {}
    for run in runs:
        home_days = [d for d in _days_of(run, zone, first, last) if home_of[d].at_home]
        if run.continuous:
            units = max(1, math.floor(run.hours / HOURS_CONTINUOUS))
            for n, day in enumerate(home_days[:units], start=1):
                paid.setdefault(
                    day,
                    f"elapsed 24 h: day {n} of the {units} unit(s) its continuous run is worth"
                    f" (floor({run.hours.quantize(Decimal('0.1'))} h / 24), at least 1)",
                )
        else:
            for day in home_days:
                if day not in continuous_days:
                    paid.setdefault(day, "elapsed 24 h: an intermittent infusion day counts one")
    return paid


# --- is the day billable ----------------------------------------------------------------------


def _billable(walk: _Walk, day: date, home: Home, touching: Sequence[Run]) -> _Billable:
    rule = walk.policy.billable_day
    if rule == "access":
        return _Billable(True, "access day: the patient has the therapy at home (billable_day: access)")
    if rule == "infusion":
        return _infusion_day(home, touching, walk.visits.get(day, []))
    return _elapsed_day(walk.elapsed.get(day), touching)


def _infusion_day(home: Home, touching: Sequence[Run], visits: Sequence[_VisitSpan]) -> _Billable:
    if any(r.touches(s, e) for r in touching for s, e in home.parts):
        return _Billable(
            True, "infusion day: a run overlaps the at-home part of the day (billable_day: infusion)"
        )
    if any(v is None or any(v[0] < e and v[1] > s for s, e in home.parts) for v in visits):
        return _Billable(
            True, "infusion day: a nursing visit at home that day (billable_day: infusion)", True
        )
    return _Billable(
        False,
        "not an infusion day: no run overlaps the at-home part of the day and no nursing"
        " visit (billable_day: infusion)",
    )


def _elapsed_day(paid: str | None, touching: Sequence[Run]) -> _Billable:
    if paid is not None:
        return _Billable(True, paid + " (billable_day: elapsed_24h)")
    continuous = [r for r in touching if r.continuous]
    if any(r.still_running for r in continuous):
        return _Billable(
            False,
            "elapsed 24 h: the continuous run is still running at the end of the billing period;"
            " this day's hours are not yet a whole unit (billable_day: elapsed_24h)",
        )
    if continuous and len(continuous) < len(touching):
        return _Billable(
            False,
            "elapsed 24 h: the continuous run touching this day has already paid all its units,"
            " and a run under 24 hours on such a day adds none (billable_day: elapsed_24h)",
        )
    if continuous:
        return _Billable(
            False,
            "elapsed 24 h: the continuous run touching this day has already paid all its units"
            " (billable_day: elapsed_24h)",
        )
    return _Billable(False, "elapsed 24 h: no infusion run on this day (billable_day: elapsed_24h)")


# --- the code of a day (DOMAIN §3.5) -------------------------------------------------------------


def _run_kind(touching: Sequence[Run]) -> RunKind | None:
    if any(r.continuous for r in touching):
        return "continuous"
    return "intermittent" if touching else None


def _kind_of_day(
    walk: _Walk,
    day: date,
    touching: Sequence[Run],
    carried: tuple[date, RunKind] | None,
    by_visit: bool,
) -> tuple[PerDiemKind, str]:
    """The kind of a billable day, which the catalog turns into its code, with the reason."""
    codes, policy = walk.codes, walk.policy
    if policy.pain_code == "nonspecific":
        # Every day, an implanted pump's too: the claim carries only the non-specific code.
        return "nonspecific", (
            "this payer asks for the non-specific pain per diem (pain_code: nonspecific):"
            f" {codes['nonspecific']}"
        )
    if walk.episode.therapy.device == "implanted_pump":
        return "implanted", f"the therapy's device is an implanted pump: {codes['implanted']}"
    run_kind = _run_kind(touching)
    if run_kind is not None and not by_visit:
        run = next(r for r in touching if r.kind == run_kind)
        none_continuous = "" if run_kind == "continuous" else ", none continuous"
        return run_kind, f"{walk.describe(run)} touches the day{none_continuous}: {codes[run_kind]}"
    if policy.billable_day != "access":
        # Billed with no run at home: the infusion was given during a nursing visit, under 24
        # hours. Carrying a continuous code over would bill 24 hours for an hour's infusion.
        at_home = "" if run_kind is None else " at home"
        return "intermittent", (
            f"no pump run{at_home} on this day: the infusion given at a nursing visit is intermittent"
            f" ({codes['intermittent']})"
        )
    if carried is not None:
        carried_day, kind = carried
        return kind, f"no run on this day: the code of {carried_day} ({codes[kind]}) carries over"
    kind = _order_mode(day, walk.episode.orders)
    return kind, f"no run yet: the order's mode ({kind}) gives {codes[kind]}"


def _order_mode(day: date, orders: Sequence[Order]) -> RunKind:
    covering = [o for o in orders if o.covers(day)] or sorted(orders, key=lambda o: (o.start, o.id))
    if covering and all(o.mode == "intermittent" for o in covering):
        return "intermittent"
    return "continuous"
