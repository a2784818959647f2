"""Bill one episode for one period, in named steps: ledger, audit, authorize, nursing, lines,
history, assemble.

Pure: every input (policy, catalog, provider, period, as_of, what is already billed) is passed
in; nothing here reads a file or a clock, which is what makes the result reproducible byte for
byte. Each step is a small function; what the steps hold back (days, lines) and why travels in
one `_Review`, so every hold is a finding with its rule id.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from hitclaims.core import audit
from hitclaims.core.authorization import Authorized, authorize_days
from hitclaims.core.catalog import Catalog
from hitclaims.core.claim import Claim, assemble
from hitclaims.core.coding import (
    BilledDay,
    Line,
    drug_lines,
    line_order,
    nursing_lines,
    per_diem_lines,
    supply_lines,
    with_item_keys,
)
from hitclaims.core.days import Period
from hitclaims.core.findings import BilledElsewhere, Finding, FindingMaker
from hitclaims.core.nursing import CappedNursing, cap_days, plan_days
from hitclaims.core.per_diem import Ledger, decide_days
from hitclaims.core.policy import PayerPolicy
from hitclaims.core.provider import Provider
from hitclaims.core.records import Episode


@dataclass(frozen=True)
class History:
    """What the store knows that one episode's records do not: what is already billed elsewhere.

    - `auth_units_used`: units billed against each authorization number on other claims;
    - `billed_days`: per-diem days of this patient, therapy family and payer billed on another
      claim (date -> claim id): they are never billed again;
    - `billed_items`: drug, nursing and supply services billed on another claim (item key ->
      claim id), likewise;
    - `other_payer_days` and `other_payer_items`: the same, billed to another payer (-> the
      claim and its payer). A patient's day is billed once whoever the payer, so these are held
      for coordination of benefits, never billed a second time.
    """

    auth_units_used: Mapping[str, int] = field(default_factory=dict)
    billed_days: Mapping[date, str] = field(default_factory=dict)
    billed_items: Mapping[str, str] = field(default_factory=dict)
    other_payer_days: Mapping[date, BilledElsewhere] = field(default_factory=dict)
    other_payer_items: Mapping[str, BilledElsewhere] = field(default_factory=dict)


@dataclass
class _Review:
    """The findings so far, and what they hold: per-diem days (by rule) and records' lines."""

    findings: list[Finding] = field(default_factory=list)
    held_days: dict[date, list[str]] = field(default_factory=lambda: defaultdict(list))
    held_records: set[str] = field(default_factory=set)

    def add(self, found: Iterable[Finding]) -> None:
        for f in found:
            self.findings.append(f)
            if f.holds == "day" and f.date is not None and f.rule not in self.held_days[f.date]:
                self.held_days[f.date].append(f.rule)
            elif f.holds == "line" and f.target:
                self.held_records.add(f.target)


def bill_episode(
    episode: Episode,
    policy: PayerPolicy,
    catalog: Catalog,
    provider: Provider,
    period: Period,
    as_of: date,
    history: History | None = None,
) -> list[Claim]:
    """The claim(s) for one episode and billing period.

    Without `history` the engine sees only these records, as `hitclaims bill` does; the store
    passes what other claims have already billed.
    """
    known = history or History()
    ledger, elsewhere = _ledger(episode, policy, catalog, period, known)
    ctx = audit.Context(episode, policy, catalog, period, as_of, ledger, FindingMaker(catalog.rules, policy))
    review = _audit(ctx)
    review.add(audit.other_payer_days(ctx, known.other_payer_days))
    authorized = _authorize(ctx, review, known)
    nursing = _nursing(ctx, review)
    lines = _lines(ctx, provider, review, authorized, nursing)
    lines = _history(ctx, review, lines, known, elsewhere)
    review.add(audit.timely_filing(ctx, lines))
    review.add(audit.charge_missing(ctx, lines, provider))
    review.add(audit.nothing_billable(ctx, lines))
    return _assemble(ctx, provider, lines, review)


def _ledger(
    episode: Episode, policy: PayerPolicy, catalog: Catalog, period: Period, known: History
) -> tuple[Ledger, dict[date, str]]:
    """The day ledger, less the days another claim already bills (and which claim that is)."""
    ledger = decide_days(episode, policy, catalog, period)
    elsewhere = {
        d.date: known.billed_days[d.date] for d in ledger.billable_days if d.date in known.billed_days
    }
    return ledger.without(elsewhere), elsewhere


def _audit(ctx: audit.Context) -> _Review:
    """Every documentation rule over the records and the billable days."""
    review = _Review()
    for check in (*audit.RECORD_CHECKS, *audit.DAY_CHECKS):
        review.add(check(ctx))
    return review


def _authorize(ctx: audit.Context, review: _Review, known: History) -> Authorized:
    """Days not held for documentation draw on the authorizations; what they cannot cover is held."""
    to_authorize = [d for d in ctx.ledger.billable_days if d.date not in review.held_days]
    authorized = authorize_days(
        to_authorize,
        ctx.episode.coverage.authorizations,
        ctx.policy,
        ctx.make,
        known.auth_units_used,
    )
    review.add(authorized.findings)
    return authorized


def _nursing(ctx: audit.Context, review: _Review) -> CappedNursing:
    """The nursing days (held visits left out), their 99602 hours after holds and caps."""
    plan = plan_days(ctx.episode.nursing_visits, ctx.policy.nursing, held=review.held_records.__contains__)
    review.add(audit.nursing_times(ctx, plan))
    capped = cap_days(
        plan, ctx.policy.nursing, ctx.period, held_extra=lambda day: day.target in review.held_records
    )
    review.add(audit.nursing_cap(ctx, capped.cuts))
    return capped


def _lines(
    ctx: audit.Context,
    provider: Provider,
    review: _Review,
    authorized: Authorized,
    nursing: CappedNursing,
) -> list[Line]:
    """Every line the claim may carry: per diems, drugs, nursing and unbundled supplies."""
    ledger, episode, policy, catalog = ctx.ledger, ctx.episode, ctx.policy, ctx.catalog
    billed = [
        BilledDay(d.date, d.code, authorized.day_auth.get(d.date))
        for d in ledger.billable_days
        if d.date not in review.held_days and d.code is not None
    ]
    assert ledger.therapy_start is not None or not billed
    therapy_start = ledger.therapy_start or ctx.period.start
    lines = per_diem_lines(billed, episode, policy, catalog, provider, therapy_start)
    lines += drug_lines(episode, policy, catalog, provider, ctx.period, review.held_records)
    lines += nursing_lines(nursing, policy, catalog, provider)
    lines += supply_lines(episode, policy, provider, ctx.period)
    return with_item_keys(sorted(lines, key=line_order))


def _history(
    ctx: audit.Context, review: _Review, lines: list[Line], known: History, elsewhere: Mapping[date, str]
) -> list[Line]:
    """The lines less the services another claim already bills (each said once), and less those
    another payer was billed for (held)."""
    # Per-diem lines have no item key; an empty key must never match a billed item.
    billed_items = {k: v for k, v in known.billed_items.items() if k}
    duplicates = [(ln, billed_items[ln.item_key]) for ln in lines if ln.item_key in billed_items]
    review.add(audit.already_billed(ctx, elsewhere, duplicates))
    other = {k: v for k, v in known.other_payer_items.items() if k}
    review.add(
        audit.other_payer_lines(ctx, [(ln, other[ln.item_key]) for ln in lines if ln.item_key in other])
    )
    return [ln for ln in lines if ln.item_key not in billed_items and ln.item_key not in other]


def _assemble(ctx: audit.Context, provider: Provider, lines: list[Line], review: _Review) -> list[Claim]:
    return assemble(
        episode=ctx.episode,
        policy=ctx.policy,
        provider=provider,
        period=ctx.period,
        as_of=ctx.as_of,
        ledger=ctx.ledger,
        lines=lines,
        findings=review.findings,
        held={d: sorted(rules) for d, rules in review.held_days.items() if rules},
    )
