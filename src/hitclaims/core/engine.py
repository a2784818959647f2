"""Bill one episode for one period: records -> ledger -> audit -> lines -> claim(s).

Pure: every input (policy, catalog, provider, period, as_of) is passed in; nothing here reads a
file or a clock, which is what makes the result reproducible byte for byte.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from hitclaims.core import audit
from hitclaims.core.catalog import Catalog
from hitclaims.core.claim import Claim, assemble
from hitclaims.core.coding import (
    BilledDay,
    drug_lines,
    line_order,
    nursing_lines,
    per_diem_lines,
    supply_lines,
    with_item_keys,
)
from hitclaims.core.days import Period
from hitclaims.core.findings import Finding, FindingMaker
from hitclaims.core.nursing import plan_days
from hitclaims.core.per_diem import decide_days
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
      claim id), likewise.
    """

    auth_units_used: Mapping[str, int] = field(default_factory=dict)
    billed_days: Mapping[date, str] = field(default_factory=dict)
    billed_items: Mapping[str, str] = field(default_factory=dict)


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
    ledger = decide_days(episode, policy, period)
    elsewhere = {
        d.date: known.billed_days[d.date] for d in ledger.billable_days if d.date in known.billed_days
    }
    ledger = ledger.without(elsewhere)
    # Per-diem lines have no item key; an empty key must never match a billed item.
    known = History(
        known.auth_units_used, known.billed_days, {k: v for k, v in known.billed_items.items() if k}
    )
    make = FindingMaker(catalog.rules, policy)
    ctx = audit.Context(episode, policy, catalog, period, as_of, ledger, make)

    findings: list[Finding] = []
    for check in (*audit.RECORD_CHECKS, *audit.DAY_CHECKS):
        findings.extend(check(ctx))

    held: dict[date, list[str]] = defaultdict(list)
    for f in findings:
        if f.holds == "day" and f.date is not None and f.rule not in held[f.date]:
            held[f.date].append(f.rule)
    # Days held for documentation use no authorized units: they are not billed.
    to_authorize = [d for d in ledger.billable_days if d.date not in held]
    auth = audit.authorize_days(ctx, to_authorize, dict(known.auth_units_used))
    findings.extend(auth.findings)
    for f in auth.findings:
        if f.holds == "day" and f.date is not None:
            held[f.date].append(f.rule)

    held_targets = {f.target for f in findings if f.holds == "line" and f.target}
    plan = plan_days(episode.nursing_visits, policy.nursing, held=lambda record: record in held_targets)
    times = list(audit.nursing_times(ctx, plan))
    findings.extend(times)
    held_targets |= {f.target for f in times if f.holds == "line" and f.target}
    billed = [
        BilledDay(d.date, d.code, auth.day_auth.get(d.date))
        for d in ledger.billable_days
        if d.date not in held and d.code is not None
    ]
    assert ledger.therapy_start is not None or not billed
    lines = per_diem_lines(billed, episode, policy, provider, ledger.therapy_start or period.start)
    lines += drug_lines(episode, policy, catalog, provider, period, held_targets)
    nursing = nursing_lines(plan, policy, provider, period, held_extra=lambda day: day.target in held_targets)
    lines += nursing.lines
    lines += supply_lines(episode, policy, provider, period)
    lines = with_item_keys(sorted(lines, key=line_order))
    duplicates = [line for line in lines if line.item_key in known.billed_items]
    lines = [line for line in lines if line.item_key not in known.billed_items]
    findings.extend(
        audit.already_billed(ctx, elsewhere, [(ln, known.billed_items[ln.item_key]) for ln in duplicates])
    )
    for day, units, cap in nursing.cut:
        findings.append(
            make(
                "nursing.cap",
                "nursing_visits",
                f"{units} additional nursing hour(s) on {day} cut ({cap}).",
                day,
            )
        )
    findings.extend(audit.timely_filing(ctx, lines))
    findings.extend(audit.charge_missing(ctx, lines, provider))
    findings.extend(audit.nothing_billable(ctx, lines))

    return assemble(
        episode=episode,
        policy=policy,
        provider=provider,
        period=period,
        as_of=as_of,
        ledger=ledger,
        lines=lines,
        findings=findings,
        held={d: sorted(rules) for d, rules in held.items() if rules},
    )
