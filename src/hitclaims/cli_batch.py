"""The command line's bulk commands: `generate` a synthetic population, `batch` bill one.

Thin over `services.population` and `services.batch`; `cli.py` adds them with `register(app)`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from hitclaims.core.errors import HitclaimsError
from hitclaims.inputs.settings import Settings
from hitclaims.services.billing import checked_period, parse_day

err = Console(stderr=True, highlight=False)
SHOWN_ERRORS = 20  # bad episodes listed on the terminal; all of them are in DIR/errors.ndjson


class Engine(StrEnum):
    local = "local"
    spark = "spark"


@contextmanager
def _plain_errors() -> Iterator[None]:
    """Unusable input ends in a sentence and exit 2, never a traceback."""
    try:
        yield
    except HitclaimsError as exc:
        where = f"{exc.field}: " if exc.field and not str(exc).startswith(exc.field) else ""
        err.print(f"[bold red]unusable input[/]: {escape(where + str(exc))}", soft_wrap=True)
        raise typer.Exit(2) from None


@contextmanager
def _progress(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar on a terminal (with no total, a running count); nothing in a pipe or a log."""
    if not err.is_terminal:
        yield lambda n: None
        return
    columns = (TextColumn(label), BarColumn(), TaskProgressColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


def generate(
    episodes: Annotated[int, typer.Option("--episodes", help="How many episodes (episode-months).")],
    out: Annotated[Path, typer.Option("--out", help="The NDJSON file to write.")],
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same bytes.")] = 1,
    profile: Annotated[
        Path | None, typer.Option("--profile", help="Profile YAML over the defaults (population mix).")
    ] = None,
    month: Annotated[
        str | None, typer.Option("--month", help="YYYY-MM (default: the profile's month).")
    ] = None,
) -> None:
    """Write a synthetic, seeded population of pain-management episodes as NDJSON."""
    with _plain_errors(), _progress("generating", episodes) as advance:
        from hitclaims.services import population  # pyarrow and the pool: imported when used

        size = population.generate(out, episodes, seed, profile, month, advance=advance)
    err.print(f"wrote {episodes} episodes ({size / 1e6:.1f} MB) to {out}")


def batch_command(
    source: Annotated[Path, typer.Argument(help="Episodes: FILE.ndjson or FILE.parquet.")],
    from_: Annotated[str, typer.Option("--from", help="First day of the billing period.")],
    to: Annotated[str, typer.Option("--to", help="Last day of the billing period.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the Parquet tables, 837s, summary.")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Submission date for timely filing (default: today).")
    ] = None,
    engine: Annotated[Engine, typer.Option("--engine", help="local (worker processes) or spark.")] = (
        Engine.local
    ),
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            help="Worker processes (default: the machine's cores); with spark, the driver's for the 837s.",
        ),
    ] = None,
    master: Annotated[
        str | None,
        typer.Option("--master", help="Spark master URL (default local[2]; under spark-submit, its master)."),
    ] = None,
    policies: Annotated[Path | None, typer.Option(help="Folder of payer policy YAML files.")] = None,
    provider: Annotated[Path | None, typer.Option(help="Billing provider YAML.")] = None,
) -> None:
    """Bill a whole population for a period: Parquet results, 837s per payer, a summary."""
    with _plain_errors():
        if engine is Engine.local and master is not None:
            raise HitclaimsError("--master is for --engine spark")
        period = checked_period(parse_day(from_, "--from"), parse_day(to, "--to"))
        submitted = parse_day(as_of, "--as-of") if as_of else Settings.from_env().clock.today()
        from hitclaims.services import batch, files, spark_batch  # pyarrow, DuckDB: when used

        setup = files.setup_from_files(policies, provider)
        count = workers or os.cpu_count() or 1
        if engine is Engine.spark:
            spark_batch.checked_source(source)
            with spark_batch.spark_session(master) as spark, _progress("billing on Spark", None) as advance:
                outcome = spark_batch.run_spark_batch(
                    spark, source, out, setup, period, submitted, count, advance
                )
        else:
            with _progress("billing", batch.batch_input_size(source)) as advance:
                outcome = batch.run_batch(source, out, setup, period, submitted, count, advance)
    for line, message in outcome.errors[:SHOWN_ERRORS]:
        err.print(f"[bold red]line {line}[/]: {escape(message)}", soft_wrap=True)
    if len(outcome.errors) > SHOWN_ERRORS:
        err.print(f"... and {len(outcome.errors) - SHOWN_ERRORS} more in {out / 'errors.ndjson'}")
    err.print(
        f"billed {outcome.episodes - len(outcome.errors)} of {outcome.episodes} episodes:"
        f" {outcome.claims} claims, {len(outcome.x12_files)} 837 files in {out}"
    )
    sys.stderr.flush()
    if outcome.errors:
        raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    app.command("generate")(generate)
    app.command("batch")(batch_command)
