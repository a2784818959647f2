"""The per-diem day ledger (DOMAIN §3): which days of the therapy are billable, with which code,
and why. Pure functions: records, policy and period in; decisions with reasons out.

Documentation does not enter here. A day the ledger calls billable may still be held by the audit
(no progress note, outside the authorization); that is the audit's decision, kept apart so each
reason stays attributable to one rule.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hitclaims.core.days import Period, day_bounds, each_day, last_local_day, local_day, midnight, show
from hitclaims.core.policy import PayerPolicy
from hitclaims.core.records import Episode, Hold, Order, PumpEvent
from hitclaims.core.vocabulary import RunKind

HOURS_CONTINUOUS = 24
PERIOD_END = "the end of the billing period (no stop event)"

# At one instant a stop is applied before a start, so stop+start at the same second is a gap of 0.
_EVENT_ORDER = {"stop": 0, "start": 1, "rate_change": 2, "alarm": 3}


@dataclass(frozen=True)
class Run:
    """An infusion run: from a start to a stop, short gaps (bag or cassette changes) merged."""

    start: datetime  # UTC
    end: datetime  # UTC, exclusive
    kind: RunKind
    segments: int
    longest_gap_minutes: int
    evidence: str  # "pump log" or "order O-1"
    end_note: str  # why the run ends where it does

    @property
    def hours(self) -> Decimal:
        return Decimal((self.end - self.start).total_seconds()) / Decimal(3600)

    @property
    def continuous(self) -> bool:
        return self.kind == "continuous"

    @property
    def still_running(self) -> bool:
        """No stop yet: the run is cut at the end of the billing period, not really over."""
        return self.end_note == PERIOD_END

    def touches(self, start: datetime, end: datetime) -> bool:
        return self.start < end and self.end > start

    def describe(self, zone: ZoneInfo) -> str:
        text = (
            f"{self.kind} run {show(self.start, zone)} to {show(self.end, zone)}"
            f" ({self.hours.quantize(Decimal('0.1'))} h, from the {self.evidence}"
        )
        if self.segments > 1:
            text += (
                f", {self.segments} pump segments merged across gaps of at most"
                f" {self.longest_gap_minutes} min"
            )
        return text + f"; ends at {self.end_note})"


@dataclass(frozen=True)
class DayDecision:
    """One ledger row before documentation: billable or not, the code, and every reason."""

    date: date
    billable: bool
    code: str | None
    reasons: tuple[str, ...]


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
        return Ledger(days, self.runs, self.from_pump_log, self.therapy_start, self.therapy_end)


# --- runs ------------------------------------------------------------------------------------


def _open_run_end(start: datetime, episode: Episode, period_end_utc: datetime) -> tuple[datetime, str]:
    disc = episode.discontinued_at
    if disc is not None and disc > start:
        return disc.astimezone(UTC), "the permanent discontinuation"
    return period_end_utc, PERIOD_END


def _pump_segments(
    events: Iterable[PumpEvent], episode: Episode, period_end_utc: datetime
) -> list[tuple[datetime, datetime, str]]:
    unique = {(e.at.astimezone(UTC), e.type) for e in events if e.type in ("start", "stop")}
    ordered = sorted(unique, key=lambda item: (item[0], _EVENT_ORDER[item[1]]))
    segments: list[tuple[datetime, datetime, str]] = []
    running: datetime | None = None
    first_order = min(episode.orders, key=lambda o: (o.start, o.id), default=None)
    if ordered and ordered[0][1] == "stop" and first_order is not None:
        # The log begins with a stop: the pump was running before the log's first page. Its run
        # is taken to start with the therapy's first order rather than be lost.
        start = midnight(first_order.start, episode.patient.zone)
        if start < ordered[0][0]:
            note = f"a stop event (the log begins while running: start taken from order {first_order.id})"
            segments.append((start, ordered[0][0], note))
        ordered = ordered[1:]
    for at, kind in ordered:
        if kind == "start" and running is None:
            running = at
        elif kind == "stop" and running is not None:
            segments.append((running, at, "a stop event"))
            running = None
        # A second start while running, or a stop while stopped, adds nothing: one run is one run.
    if running is not None:
        end, note = _open_run_end(running, episode, period_end_utc)
        segments.append((running, max(end, running), note))
    return segments


def _merge(segments: Sequence[tuple[datetime, datetime, str]], gap_minutes: int, evidence: str) -> list[Run]:
    runs: list[Run] = []
    gap = timedelta(minutes=gap_minutes)
    current: list[tuple[datetime, datetime, str]] = []
    longest = timedelta(0)

    def close() -> None:
        start = current[0][0]
        end, note = max((seg[1], seg[2]) for seg in current)
        hours = (end - start).total_seconds() / 3600
        kind: RunKind = "continuous" if hours >= HOURS_CONTINUOUS else "intermittent"
        runs.append(Run(start, end, kind, len(current), int(longest.total_seconds() // 60), evidence, note))

    for seg in sorted(segments):
        if current:
            reach = max(s[1] for s in current)
            if seg[0] - reach <= gap:
                longest = max(longest, seg[0] - reach)
                current.append(seg)
                continue
            close()
        current = [seg]
        longest = timedelta(0)
    if current:
        close()
    return runs


def _order_runs(episode: Episode, zone: ZoneInfo, period_end_utc: datetime) -> list[Run]:
    """Runs implied by the orders when there is no pump log (DOMAIN §3.6)."""
    continuous: list[tuple[datetime, datetime, str]] = []
    runs: list[Run] = []
    for order in episode.orders:
        start = midnight(order.start, zone)
        if order.end is not None:
            end, note = (
                midnight(order.end + timedelta(days=1), zone),
                f"the end of order {order.id}",
            )
            disc = episode.discontinued_at
            if disc is not None and start < disc < end:
                end, note = disc.astimezone(UTC), "the permanent discontinuation"
        else:
            end, note = _open_run_end(start, episode, period_end_utc)
        if order.mode == "continuous":
            continuous.append((start, end, note))
            continue
        # An intermittent order gives infusion on each of its days, for less than 24 hours.
        last = last_local_day(end, zone)
        for day in each_day(order.start, last):
            day_start, day_end = day_bounds(day, zone)
            runs.append(
                Run(
                    day_start,
                    day_end,
                    "intermittent",
                    1,
                    0,
                    f"order {order.id}",
                    "the end of the day",
                )
            )
    merged = _merge(continuous, 0, "orders")
    # Orders say "continuous" by their mode, not by the clock: a one-day continuous order is
    # still a continuous infusion.
    runs.extend(
        Run(r.start, r.end, "continuous", r.segments, 0, _order_evidence(episode, r), r.end_note)
        for r in merged
    )
    return sorted(runs, key=lambda r: (r.start, r.end))


def _order_evidence(episode: Episode, run: Run) -> str:
    ids = [o.id for o in episode.orders if o.mode == "continuous"]
    return "order " + ", ".join(sorted(ids)) if len(ids) == 1 else "orders " + ", ".join(sorted(ids))


def build_runs(episode: Episode, policy: PayerPolicy, period: Period) -> tuple[tuple[Run, ...], bool]:
    """All infusion runs of the episode, and whether they come from a pump log."""
    zone = episode.patient.zone
    period_end_utc = midnight(period.end + timedelta(days=1), zone)
    if any(e.type in ("start", "stop") for e in episode.pump_events):
        segments = _pump_segments(episode.pump_events, episode, period_end_utc)
        return tuple(_merge(segments, policy.continuity_gap_minutes, "pump log")), True
    return tuple(_order_runs(episode, zone, period_end_utc)), False


# --- holds -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _HoldSpan:
    start: datetime
    end: datetime
    hold: Hold

    def describe(self, zone: ZoneInfo) -> str:
        end = show(self.end, zone) if self.hold.end is not None else "(still in)"
        reason = self.hold.reason.replace("_", " ")
        return f"{reason} hold {show(self.start, zone)} to {end}"


_OPEN_END = datetime(9999, 12, 31, tzinfo=UTC)  # a hold with no end yet


def _hold_spans(episode: Episode) -> list[_HoldSpan]:
    spans = [
        _HoldSpan(h.start.astimezone(UTC), h.end.astimezone(UTC) if h.end else _OPEN_END, h)
        for h in episode.holds
    ]
    return sorted(spans, key=lambda s: (s.start, s.end, s.hold.reason))


def _covered(start: datetime, end: datetime, spans: Sequence[_HoldSpan]) -> bool:
    """Is [start, end) wholly inside the union of the hold spans (back-to-back stays count)?"""
    reach = start
    for span in spans:
        if span.start > reach:
            break
        reach = max(reach, span.end)
        if reach >= end:
            return True
    return reach >= end


def _at_home_parts(
    start: datetime, end: datetime, spans: Sequence[_HoldSpan]
) -> list[tuple[datetime, datetime]]:
    parts: list[tuple[datetime, datetime]] = []
    cursor = start
    for span in spans:
        if span.end <= cursor or span.start >= end:
            continue
        if span.start > cursor:
            parts.append((cursor, span.start))
        cursor = max(cursor, span.end)
    if cursor < end:
        parts.append((cursor, end))
    return parts


@dataclass(frozen=True)
class _Home:
    at_home: bool
    reasons: tuple[str, ...]
    parts: tuple[tuple[datetime, datetime], ...]  # the at-home part of the day (UTC)


def _home_status(day: date, zone: ZoneInfo, spans: Sequence[_HoldSpan], policy: PayerPolicy) -> _Home:
    start, end = day_bounds(day, zone)
    touching = [s for s in spans if s.start < end and s.end > start]
    if not touching:
        return _Home(True, ("at home all day",), ((start, end),))
    if _covered(start, end, touching):
        names = " and ".join(s.describe(zone) for s in touching)
        return _Home(False, (f"{names} covers the whole day",), ())
    reasons: list[str] = []
    at_home = True
    for span in touching:
        if start <= span.start < end:
            allowed = policy.bill_admission_day
            reasons.append(
                f"admission day of {span.describe(zone)}: at home part of the day"
                f" ({'billable' if allowed else 'not billable'}: bill_admission_day: {str(allowed).lower()})"
            )
            at_home = at_home and allowed
        if start < span.end <= end and span.hold.end is not None:
            allowed = policy.bill_discharge_day
            reasons.append(
                f"discharge day of {span.describe(zone)}: at home part of the day"
                f" ({'billable' if allowed else 'not billable'}: bill_discharge_day: {str(allowed).lower()})"
            )
            at_home = at_home and allowed
    parts = tuple(_at_home_parts(start, end, touching))
    return _Home(at_home, tuple(reasons), parts if at_home else ())


# --- the therapy period ------------------------------------------------------------------------


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


def _order_mode_code(day: date, orders: Sequence[Order]) -> str:
    covering = [o for o in orders if o.covers(day)] or sorted(orders, key=lambda o: (o.start, o.id))
    if covering and all(o.mode == "intermittent" for o in covering):
        return "S9327"
    return "S9326"


# --- the ledger -------------------------------------------------------------------------------


def _visit_days(episode: Episode, zone: ZoneInfo) -> dict[date, list[tuple[datetime, datetime] | None]]:
    visits: dict[date, list[tuple[datetime, datetime] | None]] = {}
    for v in episode.nursing_visits:
        span = (v.start.astimezone(UTC), v.end.astimezone(UTC)) if v.start and v.end else None
        visits.setdefault(v.date, []).append(span)
    return visits


def _elapsed_units(
    runs: Sequence[Run], home_of: dict[date, _Home], zone: ZoneInfo, first: date, last: date
) -> dict[date, str]:
    """elapsed_24h: the days each run pays for, with the reason (BCBSNC: by hours infused)."""
    paid: dict[date, str] = {}
    for run in runs:
        run_first = max(local_day(run.start, zone), first)
        run_last = min(last_local_day(run.end, zone), last)
        home_days = [d for d in each_day(run_first, run_last) if home_of[d].at_home]
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
                paid.setdefault(day, "elapsed 24 h: an intermittent infusion day counts one")
    return paid


def decide_days(episode: Episode, policy: PayerPolicy, period: Period) -> Ledger:
    """Every therapy day inside the billing period, billable or not, with its code and reasons."""
    zone = episode.patient.zone
    runs, from_pump = build_runs(episode, policy, period)
    first, last = therapy_bounds(episode, period)
    if first is None or first > last:
        return Ledger((), runs, from_pump, first, last)

    spans = _hold_spans(episode)
    # The whole therapy up to the period end is walked, not just the period: a day's code may
    # come from an earlier day, and an elapsed-24h run pays its first N days wherever they fall.
    home_of = {d: _home_status(d, zone, spans, policy) for d in each_day(first, last)}
    visits = _visit_days(episode, zone)
    elapsed = _elapsed_units(runs, home_of, zone, first, last) if policy.billable_day == "elapsed_24h" else {}
    therapy_note = _therapy_note(episode, first, last, period)

    days: list[DayDecision] = []
    carried: tuple[date, str] | None = None
    for day in each_day(first, last):
        home = home_of[day]
        start, end = day_bounds(day, zone)
        touching = [r for r in runs if r.touches(start, end)]
        run_code, run_reason = _code_from_runs(touching, zone)
        code, code_reason = _code_of_day(episode, policy, day, run_code, run_reason, carried)
        if run_code is not None:
            carried = (day, run_code)
        if day < period.start:
            continue

        reasons = [therapy_note, *home.reasons]
        if not home.at_home:
            days.append(DayDecision(day, False, None, tuple(reasons)))
            continue
        billable, why = _billable(policy, day, home, touching, visits.get(day, []), elapsed, zone)
        reasons.append(why)
        if billable:
            reasons.append(code_reason)
        days.append(DayDecision(day, billable, code if billable else None, tuple(reasons)))
    return Ledger(tuple(days), runs, from_pump, first, last)


def _therapy_note(episode: Episode, first: date, last: date, period: Period) -> str:
    if episode.discontinued_at is not None and last < period.end:
        end = f"permanently discontinued {last}"
    elif episode.discontinued_at is not None:
        end = f"discontinued {local_day(episode.discontinued_at, episode.patient.zone)}"
    else:
        end = "continuing"
    return f"therapy period from {first} ({end})"


def _code_from_runs(touching: Sequence[Run], zone: ZoneInfo) -> tuple[str | None, str]:
    continuous = [r for r in touching if r.continuous]
    if continuous:
        return "S9326", f"{continuous[0].describe(zone)} touches the day: S9326"
    if touching:
        return "S9327", f"{touching[0].describe(zone)} touches the day, none continuous: S9327"
    return None, ""


def _code_of_day(
    episode: Episode,
    policy: PayerPolicy,
    day: date,
    run_code: str | None,
    run_reason: str,
    carried: tuple[date, str] | None,
) -> tuple[str, str]:
    """The code of a day (DOMAIN §3.5), with the reason."""
    # A payer that asks for the non-specific code gets it for every day, an implanted pump's too:
    # S9325 never stands beside S9326/S9327/S9328 on one claim.
    if policy.pain_code == "nonspecific":
        return (
            "S9325",
            "this payer asks for the non-specific pain per diem (pain_code: nonspecific): S9325",
        )
    if episode.therapy.device == "implanted_pump":
        return "S9328", "the therapy's device is an implanted pump: S9328"
    if run_code is not None:
        return run_code, run_reason
    if policy.billable_day != "access":
        # Billed with no run at all: the infusion was given during a nursing visit, under
        # 24 hours. Carrying a continuous code over would bill S9326 for an hour's infusion.
        return (
            "S9327",
            "no pump run on this day: the infusion given at a nursing visit is intermittent (S9327)",
        )
    if carried is not None:
        return carried[1], f"no run on this day: the code of {carried[0]} ({carried[1]}) carries over"
    code = _order_mode_code(day, episode.orders)
    mode = "intermittent" if code == "S9327" else "continuous"
    return code, f"no run yet: the order's mode ({mode}) gives {code}"


def _billable(
    policy: PayerPolicy,
    day: date,
    home: _Home,
    touching: Sequence[Run],
    visits: Sequence[tuple[datetime, datetime] | None],
    elapsed: dict[date, str],
    zone: ZoneInfo,
) -> tuple[bool, str]:
    rule = policy.billable_day
    if rule == "access":
        return True, "access day: the patient has the therapy at home (billable_day: access)"
    if rule == "infusion":
        at_home_runs = [r for r in touching if any(r.touches(s, e) for s, e in home.parts)]
        if at_home_runs:
            return (
                True,
                "infusion day: a run overlaps the at-home part of the day (billable_day: infusion)",
            )
        home_visits = [v for v in visits if v is None or any(v[0] < e and v[1] > s for s, e in home.parts)]
        if home_visits:
            return True, "infusion day: a nursing visit at home that day (billable_day: infusion)"
        return False, (
            "not an infusion day: no run overlaps the at-home part of the day and no nursing"
            " visit (billable_day: infusion)"
        )
    if day in elapsed:
        return True, elapsed[day] + " (billable_day: elapsed_24h)"
    continuous = [r for r in touching if r.continuous]
    if any(r.still_running for r in continuous):
        return False, (
            "elapsed 24 h: the continuous run is still running at the end of the billing period;"
            " this day's hours are not yet a whole unit (billable_day: elapsed_24h)"
        )
    if continuous:
        return False, (
            "elapsed 24 h: the continuous run touching this day has already paid all its units"
            " (billable_day: elapsed_24h)"
        )
    return False, "elapsed 24 h: no infusion run on this day (billable_day: elapsed_24h)"
