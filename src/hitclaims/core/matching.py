"""Matching a remittance to our claims and lines: which payment belongs to which line.

A claim is found by CLP01 (our claim id). A line is found by its line control number, which our
837 sends in REF*6R and the payer echoes; `line_control` makes it from the claim id and the line
number. When the payer does not echo it, the line is found by code, modifiers, service dates,
units and charge; a tie goes to the first of our lines in line order, and no line ever takes two
payments of one CLP. What cannot be matched is returned with the reason, for its own queue.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Literal

from hitclaims.core.claim import Claim, ClaimLine
from hitclaims.core.remittance import ClaimPayment, LinePayment, RemitFinding, Remittance, underpaid
from hitclaims.core.vocabulary import LINE_CONTROL_LENGTH

MatchedBy = Literal["line_control", "service"]
# What the X12 basic character set allows in an identifier, less the characters we use as
# delimiters (* : ^ ~): upper-case letters, digits and a few marks.
_NOT_BASIC: Final = re.compile(r"[^A-Z0-9.\-/ ]")
_SUFFIX_ROOM: Final = 4  # "-L" and up to two digits: a claim has at most 50 lines


def line_control(claim_id: str, line_number: int) -> str:
    """Our line item control number (REF*6R): unique within the claim, at most 50 characters,
    X12 basic characters only, and the same every time the same claim is written."""
    if line_number < 1:
        raise ValueError("line numbers start at 1")
    stem = _NOT_BASIC.sub("-", claim_id.upper())[: LINE_CONTROL_LENGTH - _SUFFIX_ROOM - 1]
    return f"{stem}-L{line_number}"


@dataclass(frozen=True, slots=True)
class LineMatch:
    """One payment line (index in `ClaimPayment.lines`, from 1) and the line of ours it pays."""

    payment_line: int
    line_number: int | None
    matched_by: MatchedBy | None
    reason: str | None = None  # why it matched nothing


@dataclass(frozen=True, slots=True)
class ClaimMatch:
    """One CLP (index in `Remittance.claims`, from 0) and the claim of ours it pays."""

    payment_index: int
    claim_id: str
    found: bool
    lines: tuple[LineMatch, ...]
    reason: str | None = None

    @property
    def unmatched_lines(self) -> tuple[LineMatch, ...]:
        return tuple(m for m in self.lines if m.line_number is None)

    @property
    def complete(self) -> bool:
        return self.found and not self.unmatched_lines


@dataclass(frozen=True, slots=True)
class RemittanceMatch:
    claims: tuple[ClaimMatch, ...]
    findings: tuple[RemitFinding, ...]  # remit.underpaid on matched lines

    @property
    def unmatched(self) -> tuple[ClaimMatch, ...]:
        return tuple(m for m in self.claims if not m.complete)


def match_remittance(remit: Remittance, claims: Sequence[Claim]) -> RemittanceMatch:
    """Match every CLP of the remittance against our claims, and flag underpaid lines."""
    by_id = {claim.claim_id: claim for claim in claims}
    matches: list[ClaimMatch] = []
    findings: list[RemitFinding] = []
    for index, payment in enumerate(remit.claims):
        claim = by_id.get(payment.claim_id)
        if claim is None:
            matches.append(_claim_not_found(index, payment))
            continue
        lines = match_lines(payment, claim)
        matches.append(ClaimMatch(index, payment.claim_id, True, lines))
        findings.extend(_underpaid(payment, claim, lines))
    return RemittanceMatch(tuple(matches), tuple(findings))


def _claim_not_found(index: int, payment: ClaimPayment) -> ClaimMatch:
    reason = "no claim of ours has this claim id (CLP01)"
    lines = tuple(
        LineMatch(n, None, None, "its claim was not found") for n in range(1, len(payment.lines) + 1)
    )
    return ClaimMatch(index, payment.claim_id, False, lines, reason)


def match_lines(payment: ClaimPayment, claim: Claim) -> tuple[LineMatch, ...]:
    """Each payment line to one of the claim's lines: by REF*6R first, then by the service."""
    controls = {line_control(claim.claim_id, line.line_number): line.line_number for line in claim.lines}
    taken: set[int] = set()
    found: dict[int, LineMatch] = {}
    # Echoed control numbers first, so that a line matched by the service cannot take a line
    # another payment names outright.
    for n, line in enumerate(payment.lines, start=1):
        number = controls.get((line.line_control or "").strip().upper())
        if number is not None and number not in taken:
            taken.add(number)
            found[n] = LineMatch(n, number, "line_control")
    for n, line in enumerate(payment.lines, start=1):
        if n not in found:
            found[n] = _by_service(n, line, claim.lines, taken)
    return tuple(found[n] for n in sorted(found))


def _by_service(n: int, line: LinePayment, ours: Sequence[ClaimLine], taken: set[int]) -> LineMatch:
    candidates = [c for c in ours if _same_service(line, c)]
    free = [c for c in candidates if c.line_number not in taken]
    if free:
        chosen = min(free, key=lambda c: c.line_number)  # a tie goes to the first line
        taken.add(chosen.line_number)
        return LineMatch(n, chosen.line_number, "service")
    if candidates:
        reason = "every line with this code, modifiers, dates, units and charge already has a payment"
    elif line.line_control:
        reason = "its line control number (REF*6R) is not one of this claim's, and no line has this service"
    else:
        reason = "no line of the claim has this code, modifiers, service dates, units and charge"
    return LineMatch(n, None, None, reason)


def _same_service(line: LinePayment, ours: ClaimLine) -> bool:
    if line.billed_code != ours.code or sorted(line.billed_modifiers) != sorted(ours.modifiers):
        return False
    if abs(line.charge) != ours.charge or abs(line.billed_units) != Decimal(ours.units):
        return False
    # A payer that sends no dates is matched on the rest (a tolerated quirk); dates it sends
    # must agree. A single DTM*472 gives the same from and to.
    if line.service_from is not None and line.service_from != ours.from_:
        return False
    return line.service_to is None or line.service_to == ours.to


def _underpaid(payment: ClaimPayment, claim: Claim, lines: Sequence[LineMatch]) -> list[RemitFinding]:
    ours = {line.line_number: line for line in claim.lines}
    found = []
    for match in lines:
        if match.line_number is None:
            continue
        finding = underpaid(
            payment, match.payment_line, ours[match.line_number].expected_payment, match.line_number
        )
        if finding is not None:
            found.append(finding)
    return found
