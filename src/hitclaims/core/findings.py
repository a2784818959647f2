"""Findings: what the audit says about a claim, each tied to a stable rule id and a record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from hitclaims.core.catalog import Rule
from hitclaims.core.policy import PayerPolicy
from hitclaims.core.vocabulary import SEVERITY_RANK, Holds, Severity


class BilledElsewhere(NamedTuple):
    """A claim of another payer that already bills a day or a service."""

    claim: str
    payer_id: str


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    holds: Holds
    record: str
    message: str
    date: date | None = None
    # What a line-level finding holds: the record whose line(s) stay off the claim.
    target: str | None = None

    def sort_key(self) -> tuple[int, str, str, str, str]:
        return (
            SEVERITY_RANK[self.severity],
            self.date.isoformat() if self.date else "",
            self.rule,
            self.record,
            self.message,
        )


class FindingMaker:
    """Builds findings with the payer's severity for each rule, and what that severity holds."""

    def __init__(self, rules: dict[str, Rule], policy: PayerPolicy) -> None:
        self._rules = rules
        self._policy = policy

    def __call__(
        self,
        rule: str,
        record: str,
        message: str,
        day: date | None = None,
        target: str | None = None,
    ) -> Finding:
        spec = self._rules[rule]
        severity = self._policy.severity(rule, spec.severity)
        holds: Holds
        if severity == "warning":
            holds = "none"
        elif spec.holds == "none":
            holds = "claim"  # a warning a payer raised to an error holds the claim
        else:
            holds = spec.holds
        return Finding(rule, severity, holds, record, message, day, target)
