"""What the pages show, shaped from the store: counts, the worklist by claim, runs, formatting."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from hitclaims.core.vocabulary import RUN_OUTCOMES
from hitclaims.services.claims import WorkItem
from hitclaims.store.models import BillingRun

# The order a biller reads a claim's problems in: what holds the whole claim first.
_KIND_ORDER = {"claim": 0, "line": 1, "day": 2}


def show_money(value: Decimal | float | int | str | None) -> str:
    if value is None or value == "":
        return "—"
    amount = Decimal(str(value))
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def local_time(moment: datetime | None, zone: ZoneInfo) -> str:
    """Stored in UTC (SQLite hands it back without a zone); shown in the pharmacy's zone."""
    if moment is None:
        return "—"
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def breakable(rule: str) -> Markup:
    """A rule id may wrap after its dots (a narrow calendar cell), never inside a word."""
    return Markup(".<wbr>").join(escape(part) for part in rule.split("."))


@dataclass
class WorkGroup:
    claim_id: int
    claim_key: str
    episode_id: str
    payer_id: str
    status: str
    items: list[WorkItem] = field(default_factory=list)


def group_worklist(items: list[WorkItem]) -> list[WorkGroup]:
    groups: dict[int, WorkGroup] = {}
    for item in items:
        group = groups.get(item.claim_id)
        if group is None:
            group = WorkGroup(item.claim_id, item.claim_key, item.episode_id, item.payer_id, item.status)
            groups[item.claim_id] = group
        group.items.append(item)
    for group in groups.values():
        group.items.sort(key=lambda i: (_KIND_ORDER.get(i.kind, 3), i.day or date.min, i.rule))
    return list(groups.values())


@dataclass(frozen=True)
class RunView:
    """A billing run as the progress panel shows it."""

    id: int
    status: str
    total: int
    done: int
    period_from: date
    period_to: date
    as_of: date
    started_by: str
    started_at: str
    finished_at: str
    counts: dict[str, int]
    days_already_billed: int
    episodes: list[dict[str, Any]]

    @property
    def running(self) -> bool:
        return self.status == "running"

    @property
    def percent(self) -> int:
        return 100 if not self.total else round(100 * self.done / self.total)

    @property
    def nothing_new(self) -> bool:
        c = self.counts
        return self.status == "done" and c["created"] + c["superseded"] + c["replaced"] + c["failed"] == 0


def run_view(run: BillingRun, zone: ZoneInfo) -> RunView:
    summary = run.summary or {}
    finished = run.status != "running"
    # While running, the summary holds the episode keys to bill, not results.
    episodes = [e for e in summary.get("episodes", []) if isinstance(e, dict)] if finished else []
    return RunView(
        id=run.id,
        status=run.status,
        total=run.total,
        done=run.done,
        period_from=run.period_start,
        period_to=run.period_end,
        as_of=run.as_of,
        started_by=run.started_by,
        started_at=local_time(run.started_at, zone),
        finished_at=local_time(run.finished_at, zone),
        counts={o: int(summary.get(o, 0)) if finished else 0 for o in RUN_OUTCOMES},
        days_already_billed=int(summary.get("days_already_billed", 0)) if finished else 0,
        episodes=episodes,
    )


def previous_month(day: date) -> tuple[date, date]:
    """Per diems are billed in arrears: the run form starts on last month."""
    first_this = day.replace(day=1)
    last_prev = date.fromordinal(first_this.toordinal() - 1)
    return last_prev.replace(day=1), last_prev


@dataclass(frozen=True)
class Bar:
    """One bar of the A/R chart, laid out in the SVG's own units (no script, no library)."""

    label: str
    amount: Decimal
    x: int
    y: int
    height: int


CHART_HEIGHT = 160
BAR_WIDTH, BAR_GAP = 56, 24


def aging_chart(totals: dict[str, Decimal]) -> list[Bar]:
    """Bars for the aging buckets, the tallest filling the chart."""
    top = max(totals.values(), default=Decimal(0))
    bars = []
    for n, (label, amount) in enumerate(totals.items()):
        height = int(CHART_HEIGHT * amount / top) if top > 0 else 0
        bars.append(Bar(label, amount, n * (BAR_WIDTH + BAR_GAP) + BAR_GAP, CHART_HEIGHT - height, height))
    return bars
