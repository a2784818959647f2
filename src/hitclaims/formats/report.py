"""The readable report: per claim its status, lines, held days, findings and a month calendar of
the ledger, so a biller sees at a glance what is billed, what is held and why.

The report is built once as styled text: `report.txt` takes its plain characters, a terminal
gets the colours. Columns are laid out here rather than with Rich tables, which cost ~20 ms a
claim and made the report, not the billing, the slow part of a 1,000-episode run.
"""

from __future__ import annotations

import calendar
import textwrap
from collections.abc import Sequence
from datetime import date

from rich.text import Text

from hitclaims.core.claim import Claim, LedgerRow, Result

_STATUS_STYLE = {"ready": "bold green", "held": "bold yellow", "refused": "bold red"}
_DAY_MARK = {"billed": ("B", "green"), "held": ("H", "bold yellow"), "not_billable": ("-", "dim")}
WIDTH = 110
_GAP = "  "


def _columns(
    text: Text, header: Sequence[str], rows: Sequence[Sequence[str]], right: set[int], wrap_last: bool = False
) -> None:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]
    if wrap_last:
        used = sum(widths[:-1]) + len(_GAP) * (len(widths) - 1)
        widths[-1] = max(20, min(widths[-1], WIDTH - used))

    def cells(values: Sequence[str]) -> list[str]:
        return [
            v.rjust(w) if i in right else v.ljust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ]

    text.append(_GAP.join(cells(header)).rstrip() + "\n", style="bold")
    for row in rows:
        if not wrap_last:
            text.append(_GAP.join(cells(row)).rstrip() + "\n")
            continue
        pieces = textwrap.wrap(row[-1], widths[-1]) or [""]
        head = _GAP.join(cells([*row[:-1], pieces[0]])).rstrip()
        indent = " " * (len(head) - len(pieces[0]))
        text.append(head + "\n")
        for more in pieces[1:]:
            text.append(indent + more + "\n")


def _lines(text: Text, claim: Claim) -> None:
    header = [
        "#",
        "Code",
        "Mod",
        "From",
        "To",
        "Units",
        "Charge",
        "Expected",
        "POS",
        "NDC",
        "NDC qty",
        "Auth",
    ]
    rows = [
        [
            str(line.line_number),
            line.code,
            " ".join(line.modifiers),
            line.from_.isoformat(),
            line.to.isoformat() if line.to != line.from_ else "",
            str(line.units),
            str(line.charge),
            "" if line.expected_payment is None else str(line.expected_payment),
            line.place_of_service,
            line.ndc or "",
            f"{line.ndc_quantity} {line.ndc_unit}" if line.ndc_quantity is not None else "",
            line.authorization or "",
        ]
        for line in claim.lines
    ]
    _columns(text, header, rows, right={0, 5, 6, 7, 10})


def _findings(text: Text, claim: Claim) -> None:
    rows = [
        [f.severity.upper(), f.rule, f.holds, f.date.isoformat() if f.date else "", f.record, f.message]
        for f in claim.findings
    ]
    _columns(
        text, ["Severity", "Rule", "Holds", "Date", "Record", "Message"], rows, right=set(), wrap_last=True
    )


def _months(rows: Sequence[LedgerRow]) -> list[tuple[int, int]]:
    seen: list[tuple[int, int]] = []
    for row in rows:
        key = (row.date.year, row.date.month)
        if key not in seen:
            seen.append(key)
    return seen


def calendar_text(rows: Sequence[LedgerRow]) -> Text:
    """A month grid per month of the ledger: B billed, H held, - not billable."""
    by_day = {row.date: row for row in rows}
    out = Text()
    for year, month in _months(rows):
        out.append(f"{calendar.month_name[month]} {year}\n", style="bold")
        out.append(" Mo   Tu   We   Th   Fr   Sa   Su\n", style="dim")
        for week in calendar.Calendar(firstweekday=0).monthdayscalendar(year, month):
            cells = Text()
            for n in week:
                row = by_day.get(date(year, month, n)) if n else None
                if n == 0:
                    cells.append("     ")
                elif row is None:
                    cells.append(f" {n:2d}  ", style="dim")
                else:
                    mark, style = _DAY_MARK[row.status]
                    cells.append(f" {n:2d}{mark} ", style=style)
            cells.rstrip()
            out.append_text(cells)
            out.append("\n")
    out.append(
        "B billed   H held (documentation)   - not billable   plain: outside the therapy period\n",
        style="dim",
    )
    return out


def claim_text(claim: Claim) -> Text:
    text = Text()
    part = f" (part {claim.part} of {claim.parts})" if claim.parts > 1 else ""
    text.append(f"Claim {claim.claim_id}{part}  ", style="bold")
    text.append(claim.status.upper(), style=_STATUS_STYLE[claim.status])
    text.append(f"  {claim.payer.name} ({claim.payer.id})\n")
    p = claim.patient
    text.append(
        f"Patient {p.id} {p.last_name}, {p.first_name} · member {claim.coverage.member_id}"
        f" · episode {claim.episode_id}\n"
        f"Period {claim.period.from_} to {claim.period.to} · as of {claim.as_of}"
        f" · diagnoses {', '.join(claim.diagnoses)}\n"
    )
    text.append(f"Total charge {claim.total_charge}")
    if claim.expected_payment is not None:
        text.append(f" · expected payment {claim.expected_payment}")
    text.append("\n\nLines\n", style="bold underline")
    if claim.lines:
        _lines(text, claim)
    else:
        text.append("(no lines)\n")
    held = ", ".join(f"{h.date} {h.rule}" for h in claim.held_days) or "none"
    text.append(f"\nHeld days: {held}\n")
    text.append("\nFindings\n", style="bold underline")
    if claim.findings:
        _findings(text, claim)
    else:
        text.append("none\n")
    if claim.part == 1 and claim.ledger:
        text.append("\nLedger\n", style="bold underline")
        text.append_text(calendar_text(claim.ledger))
        skipped = [r for r in claim.ledger if r.status != "billed"]
        if skipped:
            rows = [[r.date.isoformat(), r.status.replace("_", " "), r.reasons[-1]] for r in skipped]
            _columns(text, ["Date", "Status", "Why"], rows, right=set(), wrap_last=True)
    text.append("─" * 60 + "\n", style="dim")
    return text


def report(result: Result) -> Text:
    ready = sum(1 for c in result.claims if c.status == "ready")
    held = sum(1 for c in result.claims if c.status == "held")
    refused = sum(1 for c in result.claims if c.status == "refused")
    text = Text()
    text.append(
        f"hitclaims {result.hitclaims_version} billing report: {len(result.claims)} claim(s),"
        f" {ready} ready, {held} held, {refused} refused\n\n",
        style="bold",
    )
    for claim in result.claims:
        text.append_text(claim_text(claim))
        text.append("\n")
    return text


def render_text(result: Result) -> str:
    """The report as plain text (report.txt): no colour codes."""
    return report(result).plain
