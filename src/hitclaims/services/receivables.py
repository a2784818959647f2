"""What is still owed, and what to do about what was not paid: the denial worklist grouped by
reason and payer with the biller's next action, and accounts receivable by payer in aging
buckets counted from each claim's first submission.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Final

from hitclaims.core.vocabulary import CONTRACTUAL_REASONS, NextAction
from hitclaims.inputs.remit_codes import load_remit_codes
from hitclaims.services.workplace import Workplace
from hitclaims.store import remittances as remit_store
from hitclaims.store.remittances import Receivable

# Days since submission: 0-30, 31-60, 61-90, 91-120, over 120.
BUCKETS: Final = ("0-30", "31-60", "61-90", "91-120", "120+")
_BUCKET_ENDS: Final = (30, 60, 90, 120)
_PRIOR_PAYER_REASON: Final = "23"
ZERO: Final = Decimal(0)


@dataclass(frozen=True)
class DenialGroup:
    """One reason a payer did not pay, with how much it cost and what the biller does next."""

    payer_id: str
    code: str  # CO-197, PR-2 ...
    group: str
    reason: str
    description: str
    next_action: NextAction
    our_rules: tuple[str, ...]  # the audit rules that should have caught it
    claims: int
    amount: Decimal


def denials(place: Workplace) -> list[DenialGroup]:
    """Every adjustment that is not the contract's price or an earlier payer's share, grouped by
    reason and payer, largest amount first."""
    codes = load_remit_codes()
    with place.reading() as db:
        totals = remit_store.adjustment_totals(db)
    groups = []
    for t in totals:
        if (t.group == "CO" and t.reason in CONTRACTUAL_REASONS) or (
            t.group == "OA" and t.reason == _PRIOR_PAYER_REASON
        ):
            continue
        if t.amount == ZERO:
            continue  # a denial and its reversal cancel out
        known = codes.reason(t.reason)
        next_action: NextAction = (
            "bill_patient" if t.group == "PR" else (known.next_action if known else "appeal")
        )
        groups.append(
            DenialGroup(
                payer_id=t.payer_id,
                code=f"{t.group}-{t.reason}",
                group=t.group,
                reason=t.reason,
                description=known.description if known else "a reason code the catalog does not know yet",
                next_action=next_action,
                our_rules=known.our_rules if known else (),
                claims=t.claims,
                amount=t.amount,
            )
        )
    return sorted(groups, key=lambda g: (-g.amount, g.code, g.payer_id))


@dataclass
class PayerAging:
    """One payer's outstanding balance by age, and what its patients owe."""

    payer_id: str
    buckets: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(BUCKETS, ZERO))
    claims: int = 0
    patient_balance: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return sum(self.buckets.values(), ZERO)


@dataclass(frozen=True)
class Aging:
    as_of: date
    payers: list[PayerAging]

    @property
    def totals(self) -> dict[str, Decimal]:
        return {b: sum((p.buckets[b] for p in self.payers), ZERO) for b in BUCKETS}

    @property
    def total(self) -> Decimal:
        return sum(self.totals.values(), ZERO)


def bucket_of(days: int) -> str:
    for end, name in zip(_BUCKET_ENDS, BUCKETS, strict=False):
        if days <= end:
            return name
    return BUCKETS[-1]


def payer_balance(item: Receivable) -> Decimal:
    """What the payer still owes on a claim: the charge less what it paid, the contract's
    write-off, the patient's share and what earlier payers covered (denials stay owed until
    worked)."""
    return item.charge - item.paid - item.contractual - item.patient_responsibility - item.prior_payers


def aging(place: Workplace, as_of: date | None = None) -> Aging:
    """Accounts receivable by payer and age, as of a day (default today in the pharmacy's zone)."""
    today = as_of or place.clock.today()
    with place.reading() as db:
        items = remit_store.receivables(db)
    by_payer: dict[str, PayerAging] = defaultdict(lambda: PayerAging(""))
    for item in items:
        owed = payer_balance(item)
        row = by_payer[item.payer_id]
        row.payer_id = item.payer_id
        row.patient_balance += item.patient_responsibility
        if owed == ZERO:
            continue
        sent = item.submitted_at.astimezone(place.clock.zone).date() if item.submitted_at else today
        row.buckets[bucket_of(max((today - sent).days, 0))] += owed
        row.claims += 1
    return Aging(today, sorted(by_payer.values(), key=lambda p: p.payer_id))
