"""A claim's life, decided without a database: what a new billing does to the claims on record,
and which moves a biller may make.

When a period is billed again, the engine's new claims meet the episode's current claims for the
period. Nothing changes when the payer would see nothing new ("unchanged"). A claim never sent is
simply superseded (it becomes void, and the new one is an original). A sent claim is at the payer:
part n is replaced by new part n (frequency 7, REF*F8 naming it), a sent part that nothing
replaces, or whose replacement has nothing left to bill, is voided at the payer (frequency 8),
and a new part beyond the sent ones is an original (frequency 1). When the payer changed, a
replacement would go to a payer that never had the original: every sent claim is voided at its
own payer instead, and the new payer gets originals. The store carries the plan out.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from hitclaims.core.claim import Claim
from hitclaims.core.errors import ConflictError
from hitclaims.core.vocabulary import (
    REPLACEMENT,
    SENT_STATUSES,
    UNSENT_STATUSES,
    VOID,
    ClaimStatus,
    RemitState,
    RunOutcome,
)

__all__ = [
    "TRANSITIONS",
    "Decision",
    "NewClaim",
    "StoredClaim",
    "VoidOf",
    "as_replacement",
    "billing_digest",
    "check_move",
    "decide",
    "moves_from",
    "status_after_payment",
    "void_of",
]

# Where a biller may move a claim by hand. ready -> submitted also happens by export.
TRANSITIONS: dict[ClaimStatus, frozenset[ClaimStatus]] = {
    "ready": frozenset({"submitted", "void"}),
    "held": frozenset({"void"}),
    "refused": frozenset({"void"}),
    "submitted": frozenset({"paid", "denied", "void"}),
    "denied": frozenset({"submitted", "void"}),
    "paid": frozenset(),
    "void": frozenset(),
}
# The fields of a claim the payer sees, plus its status: a re-run that changes none of them is
# "unchanged" even when the submission date (and so a timely-filing warning) moved.
_DIGESTED = {
    "status",
    "payer_id",
    "lines",
    "diagnoses",
    "patient",
    "coverage",
    "payer",
    "prescriber",
    "provider",
    "held_days",
}


@dataclass(frozen=True)
class StoredClaim:
    """What the lifecycle needs to know of a claim on record."""

    key: str
    status: ClaimStatus
    digest: str
    payer_id: str

    @property
    def sent(self) -> bool:
        return self.status in SENT_STATUSES


@dataclass(frozen=True)
class NewClaim:
    """Write this claim; `replaces` is the index of the current claim it replaces (frequency 7)."""

    claim: Claim
    replaces: int | None = None


@dataclass(frozen=True)
class VoidOf:
    """Write a frequency-8 void of the current claim at this index (it was sent)."""

    index: int


@dataclass(frozen=True)
class Decision:
    outcome: RunOutcome
    # Every current claim stops being current unless the outcome is "unchanged"; of those, the
    # ones never sent become void on the spot.
    retired: tuple[int, ...]
    voided_unsent: tuple[int, ...]
    writes: tuple[NewClaim | VoidOf, ...]


def billing_digest(claim: Claim) -> str:
    """A fingerprint of what the payer would see of the claim (the line basis left out)."""
    data = claim.model_dump(mode="json", by_alias=True, include=_DIGESTED)
    for line in data["lines"]:
        line.pop("basis", None)
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def decide(current: Sequence[StoredClaim], claims: Sequence[Claim]) -> Decision:
    """What billing `claims` does to the episode's `current` claims for the same period (parts in
    order)."""
    if current and [c.digest for c in current] == [billing_digest(c) for c in claims]:
        return Decision("unchanged", (), (), ())
    sent = [i for i, c in enumerate(current) if c.sent]
    unsent = tuple(i for i, c in enumerate(current) if c.status in UNSENT_STATUSES)
    retired = tuple(range(len(current)))
    payers = {c.payer_id for c in claims}
    if any(current[i].payer_id not in payers for i in sent):
        voids: tuple[NewClaim | VoidOf, ...] = tuple(VoidOf(i) for i in sent)
        return Decision("payer_changed", retired, unsent, voids + tuple(NewClaim(c, None) for c in claims))
    outcome: RunOutcome = "replaced" if sent else ("superseded" if current else "created")
    writes: list[NewClaim | VoidOf] = []
    for part, claim in enumerate(claims):
        original = sent[part] if part < len(sent) else None
        if original is not None and not claim.lines:
            writes.append(VoidOf(original))  # nothing left to bill: cancel what the payer has
            original = None
        writes.append(NewClaim(claim, original))
    writes.extend(VoidOf(i) for i in sent[len(claims) :])  # fewer parts now
    return Decision(outcome, retired, unsent, tuple(writes))


def as_replacement(claim: Claim, original_key: str) -> Claim:
    return claim.model_copy(update={"frequency_code": REPLACEMENT, "original_claim_id": original_key})


def void_of(sent: Claim, sent_key: str) -> Claim:
    """A frequency-8 claim cancelling a sent claim at the payer: its lines, its id in REF*F8, ready
    to export. It bills nothing."""
    return sent.model_copy(update={"frequency_code": VOID, "original_claim_id": sent_key, "status": "ready"})


# What the payer's money makes of a claim: paid in whole or in part (or a correction) is paid, a
# denial is denied, and a reversal puts the claim back at the payer, waiting for its correction.
_AFTER_PAYMENT: dict[RemitState, ClaimStatus] = {
    "paid": "paid",
    "partially_paid": "paid",
    "corrected": "paid",
    "denied": "denied",
    "reversed": "submitted",
}


def status_after_payment(state: RemitState) -> ClaimStatus:
    """The claim's status once a remittance with this state is posted to it."""
    return _AFTER_PAYMENT[state]


def moves_from(status: ClaimStatus) -> frozenset[ClaimStatus]:
    return TRANSITIONS.get(status, frozenset())


def check_move(before: ClaimStatus, after: str) -> ClaimStatus:
    """The state `after`, if a biller may move a claim there from `before`; else a ConflictError."""
    allowed = moves_from(before)
    if after not in allowed:
        names = ", ".join(sorted(allowed)) or "none"
        raise ConflictError(f"a {before} claim cannot become {after} (allowed: {names})", "status")
    return after
