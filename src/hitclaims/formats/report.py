"""The readable report: per claim its status, lines, held days, findings and a month calendar of
the ledger, so a biller sees at a glance what is billed, what is held and why."""

from __future__ import annotations

import calendar
import io
from collections.abc import Iterator
from datetime import date

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from hitclaims.claim import Claim, LedgerRow, Result

_STATUS_STYLE = {"ready": "bold green", "held": "bold yellow", "refused": "bold red"}
_DAY_MARK = {"billed": ("B", "green"), "held": ("H", "bold yellow"), "not_billable": ("-", "dim")}
WIDTH = 110


def _money(value: object) -> str:
    return "" if value is None else f"{value}"


def _lines_table(claim: Claim) -> Table:
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    for name, justify in (
        ("#", "right"),
        ("Code", "left"),
        ("Mod", "left"),
        ("From", "left"),
        ("To", "left"),
        ("Units", "right"),
        ("Charge", "right"),
        ("Expected", "right"),
        ("POS", "left"),
        ("NDC", "left"),
        ("NDC qty", "right"),
        ("Auth", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for line in claim.lines:
        table.add_row(
            str(line.line_number),
            line.code,
            " ".join(line.modifiers),
            line.from_.isoformat(),
            line.to.isoformat() if line.to != line.from_ else "",
            str(line.units),
            _money(line.charge),
            _money(line.expected_payment),
            line.place_of_service,
            line.ndc or "",
            f"{line.ndc_quantity} {line.ndc_unit}" if line.ndc_quantity is not None else "",
            line.authorization or "",
        )
    return table


def _findings_table(claim: Claim) -> Table:
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    for name in ("Severity", "Rule", "Holds", "Date", "Record", "Message"):
        table.add_column(name, overflow="fold")
    for f in claim.findings:
        style = "yellow" if f.severity == "error" else "dim"
        table.add_row(
            Text(f.severity.upper(), style=style),
            f.rule,
            f.holds,
            f.date.isoformat() if f.date else "",
            f.record,
            f.message,
        )
    return table


def _months(rows: list[LedgerRow]) -> Iterator[tuple[int, int]]:
    seen: list[tuple[int, int]] = []
    for row in rows:
        key = (row.date.year, row.date.month)
        if key not in seen:
            seen.append(key)
    return iter(seen)


def calendar_text(rows: list[LedgerRow]) -> Text:
    """A month grid per month of the ledger: B billed, H held, - not billable."""
    by_day = {row.date: row for row in rows}
    out = Text()
    for year, month in _months(rows):
        out.append(f"{calendar.month_name[month]} {year}\n", style="bold")
        out.append(" Mo   Tu   We   Th   Fr   Sa   Su\n", style="dim")
        for week in calendar.Calendar(firstweekday=0).monthdayscalendar(year, month):
            for n in week:
                if n == 0:
                    out.append("     ")
                    continue
                row = by_day.get(date(year, month, n))
                if row is None:
                    out.append(f" {n:2d}  ", style="dim")
                    continue
                mark, style = _DAY_MARK[row.status]
                out.append(f" {n:2d}", style=style)
                out.append(f"{mark} ", style=style)
            out.append("\n")
    out.append(
        "B billed   H held (documentation)   - not billable   plain: outside the therapy period\n",
        style="dim",
    )
    return out


def _not_billed(claim: Claim) -> Table:
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    table.add_column("Date")
    table.add_column("Status")
    table.add_column("Why", overflow="fold")
    for row in claim.ledger:
        if row.status != "billed":
            table.add_row(row.date.isoformat(), row.status.replace("_", " "), row.reasons[-1])
    return table


def claim_block(claim: Claim) -> RenderableType:
    part = f" (part {claim.part} of {claim.parts})" if claim.parts > 1 else ""
    head = Text()
    head.append(f"Claim {claim.claim_id}{part}  ", style="bold")
    head.append(claim.status.upper(), style=_STATUS_STYLE[claim.status])
    head.append(f"  {claim.payer.name} ({claim.payer.id})\n")
    p = claim.patient
    head.append(
        f"Patient {p.id} {p.last_name}, {p.first_name} · member {claim.coverage.member_id}"
        f" · episode {claim.episode_id} · period {claim.period.from_} to {claim.period.to}"
        f" · as of {claim.as_of}\n"
    )
    head.append(
        f"Total charge {claim.total_charge}"
        + (f" · expected payment {claim.expected_payment}" if claim.expected_payment is not None else "")
        + f" · diagnoses {', '.join(claim.diagnoses)}\n"
    )
    parts: list[RenderableType] = [head]
    parts.append(Text("Lines", style="bold underline"))
    parts.append(_lines_table(claim) if claim.lines else Text("(no lines)"))
    held = ", ".join(f"{h.date} {h.rule}" for h in claim.held_days) or "none"
    parts.append(Text(f"\nHeld days: {held}"))
    parts.append(Text("\nFindings", style="bold underline"))
    parts.append(_findings_table(claim) if claim.findings else Text("none"))
    if claim.part == 1:
        parts.append(Text("\nLedger", style="bold underline"))
        parts.append(calendar_text(claim.ledger))
        if any(r.status != "billed" for r in claim.ledger):
            parts.append(_not_billed(claim))
    parts.append(Text("─" * 60, style="dim"))
    return Group(*parts)


def report_renderables(result: Result) -> list[RenderableType]:
    ready = sum(1 for c in result.claims if c.status == "ready")
    held = sum(1 for c in result.claims if c.status == "held")
    refused = sum(1 for c in result.claims if c.status == "refused")
    summary = Text(
        f"hitclaims {result.hitclaims_version} billing report: {len(result.claims)} claim(s),"
        f" {ready} ready, {held} held, {refused} refused\n",
        style="bold",
    )
    return [summary, *(claim_block(c) for c in result.claims)]


def render_text(result: Result) -> str:
    """The report as plain text (report.txt): no colour codes, fixed width."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=WIDTH, color_system=None, force_terminal=False, highlight=False)
    for item in report_renderables(result):
        console.print(item)
    return buffer.getvalue()
