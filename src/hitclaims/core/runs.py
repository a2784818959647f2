"""Infusion runs from the pump log, or from the orders when there is none (DOMAIN §3.1, §3.6).

A run goes from a start to a stop; runs a short gap apart (a bag or cassette change) merge into
one. Durations are elapsed UTC time, so a DST day never stretches or shrinks a run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hitclaims.core.days import Period, day_bounds, each_day, last_local_day, midnight, show
from hitclaims.core.policy import PayerPolicy
from hitclaims.core.records import Episode, PumpEvent
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


def _order_runs(episode: Episode, zone: ZoneInfo, period: Period, period_end_utc: datetime) -> list[Run]:
    """Runs implied by the orders when there is no pump log (DOMAIN §3.6).

    An intermittent order gives one run a day. Of its days before the billing period only the
    last one is needed (its code carries over), so a period years after the order began does
    not build a run for every day in between.
    """
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
        for day in each_day(max(order.start, min(last, period.start - timedelta(days=1))), last):
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
    return tuple(_order_runs(episode, zone, period, period_end_utc)), False
