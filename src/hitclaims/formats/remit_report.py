"""What `hitclaims remit` prints: each remittance read from an 835, how it balances and, given
our claims, how it matches them. JSON (money as two-decimal strings) or plain text."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hitclaims.core.matching import ClaimMatch, RemittanceMatch
from hitclaims.core.remittance import (
    Adjustment,
    ClaimPayment,
    LinePayment,
    RemitFinding,
    Remittance,
    balance_findings,
    claim_balance_findings,
    claim_states,
    line_charge_less_paid_equals_adjustments,
)


@dataclass(frozen=True)
class RemitReading:
    """One remittance as read, and its match against our claims (None: no claims were given)."""

    remittance: Remittance
    match: RemittanceMatch | None


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _adjustments(adjustments: Sequence[Adjustment]) -> list[dict[str, Any]]:
    return [
        {
            "group": a.group,
            "reason": a.reason,
            "amount": _money(a.amount),
            "quantity": str(a.quantity) if a.quantity is not None else None,
        }
        for a in adjustments
    ]


def _line(line: LinePayment, matched_line: int | None) -> dict[str, Any]:
    return {
        "code": line.code,
        "modifiers": list(line.modifiers),
        "from": line.service_from.isoformat() if line.service_from else None,
        "to": line.service_to.isoformat() if line.service_to else None,
        "units": str(line.units),
        "charge": _money(line.charge),
        "paid": _money(line.paid),
        "adjustments": _adjustments(line.adjustments),
        "line_control": line.line_control,
        "matched_line": matched_line,
    }


def _claim(claim: ClaimPayment, state: str, found: ClaimMatch | None) -> dict[str, Any]:
    matched = {m.payment_line: m.line_number for m in found.lines} if found else {}
    lines_balance = all(
        line_charge_less_paid_equals_adjustments(claim, n) is None for n in range(1, len(claim.lines) + 1)
    )
    return {
        "claim_id": claim.claim_id,
        "status_code": claim.status_code,
        "status": state,
        "charge": _money(claim.charge),
        "paid": _money(claim.paid),
        "patient_responsibility": _money(claim.patient_responsibility),
        "payer_claim_id": claim.payer_claim_id,
        "adjustments": _adjustments(claim.adjustments),
        "lines": [_line(line, matched.get(n)) for n, line in enumerate(claim.lines, start=1)],
        "balanced": lines_balance and not claim_balance_findings(claim),
        "matched": found.complete if found else None,
    }


def _finding(f: RemitFinding) -> dict[str, Any]:
    """A finding with what it is about (payment, claim, line) and its amounts as data."""
    return {
        "rule": f.rule,
        "severity": f.severity,
        "record": f.record,
        "message": f.message,
        "amounts": {name: _money(amount) for name, amount in f.amounts},
    }


def report_data(readings: Sequence[RemitReading]) -> dict[str, Any]:
    remittances: list[dict[str, Any]] = []
    findings: list[dict[str, Any]] = []
    for reading in readings:
        remit = reading.remittance
        found = balance_findings(remit)
        findings.extend(_finding(f) for f in found)
        if reading.match is not None:
            findings.extend(_finding(f) for f in reading.match.findings)
        by_index = {m.payment_index: m for m in reading.match.claims} if reading.match else {}
        states = claim_states(remit.claims)
        remittances.append(
            {
                "payer": {"id": remit.payer_id, "name": remit.payer_name},
                "trace_number": remit.trace_number,
                "paid_on": remit.payment.paid_on.isoformat() if remit.payment.paid_on else None,
                "amount": _money(remit.payment.amount),
                "method": remit.payment.method,
                "balanced": not found,
                "provider_adjustments": [
                    {"reason": p.reason, "reference": p.reference, "amount": _money(p.amount)}
                    for p in remit.provider_adjustments
                ],
                "claims": [_claim(c, states[i], by_index.get(i)) for i, c in enumerate(remit.claims)],
            }
        )
    return {"remittances": remittances, "findings": findings}


def render_json(readings: Sequence[RemitReading]) -> str:
    return json.dumps(report_data(readings), indent=2) + "\n"


def render_text(readings: Sequence[RemitReading]) -> str:
    data = report_data(readings)
    out: list[str] = []
    for r in data["remittances"]:
        verdict = "balances" if r["balanced"] else "DOES NOT BALANCE"
        out.append(
            f"Remittance {r['trace_number']} from {r['payer']['name'] or r['payer']['id']}"
            f" paid {r['paid_on'] or '-'}: {r['amount']} ({r['method']}), {verdict}"
        )
        for c in r["claims"]:
            match = {True: "matched", False: "NOT MATCHED", None: ""}[c["matched"]]
            out.append(
                f"  {c['claim_id']:<38} {c['status']:<15} charge {c['charge']:>10}"
                f" paid {c['paid']:>10} patient {c['patient_responsibility']:>9} {match}".rstrip()
            )
            for a in c["adjustments"] + [a for line in c["lines"] for a in line["adjustments"]]:
                out.append(f"      {a['group']}-{a['reason']:<5} {a['amount']:>10}")
        for p in r["provider_adjustments"]:
            out.append(f"  provider adjustment {p['reason']} {p['amount']}")
    for f in data["findings"]:
        out.append(f"{f['severity'].upper()} {f['rule']} ({f['record']}): {f['message']}")
    return "\n".join(out) + "\n"
