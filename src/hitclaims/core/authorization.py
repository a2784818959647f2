"""Prior authorization of per-diem days (DOMAIN §7, §9): which authorization each day bills under.

An authorization applies only to days whose code it lists, and its `units` are one pool shared by
every code it lists. Days are drawn from the pools in date order, so when the days pass the units
the latest days are held (`auth.units_exceeded`), whatever their code. The engine passes only
days the audit did not hold: a day held for documentation uses no units.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from hitclaims.core.findings import Finding, FindingMaker
from hitclaims.core.per_diem import DayDecision
from hitclaims.core.policy import PayerPolicy
from hitclaims.core.records import PriorAuthorization

_RECORD = "coverage.prior_authorization"


@dataclass(frozen=True)
class Authorized:
    findings: list[Finding]
    day_auth: dict[date, str]  # the authorization number each billed day carries


def authorize_days(
    days: Sequence[DayDecision],
    auths: Sequence[PriorAuthorization],
    policy: PayerPolicy,
    make: FindingMaker,
    used_before: Mapping[str, int],
) -> Authorized:
    """Assign each billable day to an authorization; hold what no authorization allows."""
    required = policy.prior_authorization_required
    findings = _missing(days, auths, required, make)
    left = {a.number: a.units - used_before.get(a.number, 0) for a in auths}
    day_auth: dict[date, str] = {}
    for day in sorted(days, key=lambda d: (d.date, d.code or "")):
        assert day.code is not None
        mine = sorted((a for a in auths if day.code in a.codes), key=lambda a: (a.start, a.number))
        if not mine:
            continue
        in_range = [a for a in mine if a.start <= day.date <= a.end]
        # The authorization that ends first is used first: a later one keeps its units for the
        # days only it covers (greedy by end date never holds a day that could be billed).
        usable = sorted((a for a in in_range if left[a.number] > 0), key=lambda a: (a.end, a.start, a.number))
        if usable:
            left[usable[0].number] -= 1
            day_auth[day.date] = usable[0].number
        elif not required:
            day_auth[day.date] = (in_range or mine)[0].number
        elif in_range:
            findings.append(_units_exceeded(make, day.date, in_range))
        else:
            findings.append(
                make(
                    "auth.out_of_range",
                    _RECORD,
                    f"{day.date} is outside prior authorization {_auth_list(mine)} for {day.code}.",
                    day.date,
                )
            )
    return Authorized(findings, day_auth)


def _missing(
    days: Sequence[DayDecision], auths: Sequence[PriorAuthorization], required: bool, make: FindingMaker
) -> list[Finding]:
    if not required:
        return []
    codes = sorted({d.code for d in days if d.code is not None})
    return [
        make("auth.missing", _RECORD, f"This payer requires prior authorization and none covers {code}.")
        for code in codes
        if not any(code in a.codes for a in auths)
    ]


def _units_exceeded(make: FindingMaker, day: date, auths: Sequence[PriorAuthorization]) -> Finding:
    pooled = "/".join(sorted({code for a in auths for code in a.codes}))
    return make(
        "auth.units_exceeded",
        _RECORD,
        f"{day} is past the {sum(a.units for a in auths)} {pooled} unit(s) prior authorization"
        f" {_auth_list(auths)} allows.",
        day,
    )


def _auth_list(auths: Sequence[PriorAuthorization]) -> str:
    return ", ".join(f"{a.number} ({a.start} to {a.end})" for a in auths)
