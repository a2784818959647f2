"""The remittance commands: read 835s (`remit`), answer claims as a payer would
(`simulate-835`), and show accounts receivable from the store (`ar`)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from hitclaims.core.errors import UnusableInputError
from hitclaims.inputs.settings import Settings
from hitclaims.services import remit_files
from hitclaims.services.billing import parse_day

Guard = Callable[[Callable[..., None]], Callable[..., None]]


class RemitFormat(StrEnum):
    json = "json"
    text = "text"


def remit(
    files: Annotated[list[Path], typer.Argument(help="835 files.", show_default=False)],
    claims: Annotated[
        Path | None, typer.Option("--claims", help="Our claims (hitclaims bill JSON) to match against.")
    ] = None,
    fmt: Annotated[RemitFormat, typer.Option("--format", help="json or text.")] = RemitFormat.json,
) -> None:
    """Read 835 remittances: what was paid, how each balances, and (with --claims) how they match."""
    ours = remit_files.claims_file(claims) if claims else None
    sys.stdout.write(remit_files.report(remit_files.read_remittances(files, ours), fmt.value))


def simulate(
    claims: Annotated[Path, typer.Argument(help="Our claims (hitclaims bill JSON).")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the 835.")],
    paid_on: Annotated[str, typer.Option("--paid-on", help="The payment date (YYYY-MM-DD).")] = "",
    seed: Annotated[int, typer.Option(help="The same seed gives the same 835.")] = 0,
    patient_share: Annotated[str, typer.Option("--patient-share", help="Coinsurance, 0 to 1.")] = "0",
    deny_authorization: Annotated[
        list[str] | None, typer.Option("--deny-auth", help="CLAIM or CLAIM#LINE denied CO-197.")
    ] = None,
    deny_timely: Annotated[
        list[str] | None, typer.Option("--deny-timely", help="CLAIM or CLAIM#LINE denied CO-29.")
    ] = None,
) -> None:
    """Write the 835 the claims' payers would send: fee schedule paid, chosen lines denied."""
    try:
        share = Decimal(patient_share)
    except InvalidOperation:
        raise UnusableInputError(
            f"{patient_share!r} is not a number from 0 to 1", "--patient-share"
        ) from None
    if not Decimal(0) <= share <= Decimal(1):
        raise UnusableInputError("the patient share is a number from 0 to 1", "--patient-share")
    day = parse_day(paid_on, "--paid-on") if paid_on else Settings.from_env().clock.today()
    text = remit_files.simulate_835(
        remit_files.claims_file(claims),
        day,
        seed,
        share,
        frozenset(deny_authorization or ()),
        frozenset(deny_timely or ()),
    )
    out.write_text(text)
    typer.echo(f"wrote {out}", err=True)


def receivables_command(
    database: Annotated[str | None, typer.Option(help="Database URL.")] = None,
    as_of: Annotated[str, typer.Option("--as-of", help="Age as of this day (default today).")] = "",
) -> None:
    """Accounts receivable by payer in aging buckets, from the store."""
    from hitclaims.services.receivables import BUCKETS, aging
    from hitclaims.services.workplace import Workplace

    place = Workplace.open(Settings.from_env(database_url=database), allow_example_provider=True)
    try:
        found = aging(place, parse_day(as_of, "--as-of") if as_of else None)
    finally:
        place.close()
    rows: list[list[Any]] = [[p.payer_id, *(p.buckets[b] for b in BUCKETS), p.total] for p in found.payers]
    rows.append(["all payers", *(found.totals[b] for b in BUCKETS), found.total])
    header = ["Payer", *BUCKETS, "Total"]
    widths = [max(len(str(r[0])) for r in [header, *rows]), *([12] * (len(header) - 1))]
    typer.echo(f"Accounts receivable as of {found.as_of} (days since submission)")
    for row in [header, *rows]:
        cells = [str(row[0]).ljust(widths[0])] + [
            (f"{v:,.2f}" if isinstance(v, Decimal) else str(v)).rjust(w)
            for v, w in zip(row[1:], widths[1:], strict=True)
        ]
        typer.echo("  ".join(cells))


def register(app: typer.Typer, guarded: Guard) -> None:
    app.command("remit")(guarded(remit))
    app.command("simulate-835")(guarded(simulate))
    app.command("ar")(guarded(receivables_command))
