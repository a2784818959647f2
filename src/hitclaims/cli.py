"""The command line (SPEC "Command line"): thin over billing, loading and the renderers."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from enum import StrEnum
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, ParamSpec

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from hitclaims.billing import Outcome, Setup, bill_files
from hitclaims.catalog import load_catalog
from hitclaims.claim import Result
from hitclaims.days import Period
from hitclaims.formats.report import WIDTH, render_text, report
from hitclaims.formats.result_json import render_json
from hitclaims.loading import (
    InputError,
    bundled_policy_folders,
    bundled_provider_file,
    load_policies,
    load_provider,
)
from hitclaims.schemas import schema_text

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Home infusion therapy records to explainable, payer-ready per-diem claims.",
)
# A pipe or file gets the report's fixed width; a terminal its own.
out = Console(highlight=False, width=None if sys.stdout.isatty() else WIDTH)
err = Console(stderr=True, highlight=False)
PROGRESS_FROM = 5  # episodes: below this a bar is more noise than help


class Format(StrEnum):
    json = "json"
    text = "text"


class SchemaName(StrEnum):
    episode = "episode"
    result = "result"


class UnusableInputError(Exception):
    """Raised for input the command cannot use at all (exit 2)."""


P = ParamSpec("P")


def guarded(command: Callable[P, None]) -> Callable[P, None]:
    """Every command ends in a plain message and an exit code, never a traceback."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            command(*args, **kwargs)
        except InputError as exc:
            _report_errors([exc])
            raise typer.Exit(2) from None
        except UnusableInputError as exc:
            err.print(f"[bold red]unusable input[/]: {exc}", soft_wrap=True)
            raise typer.Exit(2) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:  # the last line of defence
            if os.environ.get("HITCLAIMS_DEBUG"):
                raise
            err.print(
                f"[bold red]internal error[/]: {type(exc).__name__}. The command stopped."
                " Set HITCLAIMS_DEBUG=1 to see details, and please report it."
            )
            raise typer.Exit(1) from None

    return run


def _date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UnusableInputError(f"{option}: {value!r} is not a date (YYYY-MM-DD)") from None


def _setup(policies: Path | None, provider: Path | None) -> Setup:
    catalog = load_catalog()
    folders: Sequence[Path | Traversable] = [policies] if policies else bundled_policy_folders()
    return Setup(
        catalog=catalog,
        policies=load_policies(folders, catalog),
        provider=load_provider(provider or bundled_provider_file()),
    )


def _bill(paths: Sequence[Path], setup: Setup, period: Period, as_of: date) -> Outcome:
    if len(paths) < PROGRESS_FROM or not err.is_terminal:
        return bill_files(paths, setup, period, as_of)
    columns = (TextColumn("billing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("bill", total=len(paths))
        return bill_files(paths, setup, period, as_of, advance=lambda: progress.advance(task))


def write_outputs(result: Result, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = {
        "claims.json": render_json(result),
        "report.txt": render_text(result),
    }
    paths = []
    for name, text in written.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def _report_errors(errors: Sequence[InputError]) -> None:
    for error in errors:
        err.print(f"[bold red]unusable input[/]: {error}", soft_wrap=True)


@app.command()
@guarded
def bill(
    episodes: Annotated[list[Path], typer.Argument(help="Episode JSON files.", show_default=False)],
    from_: Annotated[str, typer.Option("--from", help="First day of the billing period (YYYY-MM-DD).")],
    to: Annotated[str, typer.Option("--to", help="Last day of the billing period (YYYY-MM-DD).")],
    policies: Annotated[
        Path | None,
        typer.Option(help="Folder of payer policy YAML files (default: the bundled policies)."),
    ] = None,
    provider: Annotated[
        Path | None,
        typer.Option(help="Billing provider YAML (default: the bundled example provider)."),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Submission date for timely filing (default: today)."),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Write claims.json and report.txt into this folder."),
    ] = None,
    fmt: Annotated[
        Format, typer.Option("--format", help="What to print when --out is not given.")
    ] = Format.json,
) -> None:
    """Bill episodes for a period: one claim per patient, payer and period."""
    start, end = _date(from_, "--from"), _date(to, "--to")
    if end < start:
        raise UnusableInputError(f"--to {end} is before --from {start}")
    submitted = _date(as_of, "--as-of") if as_of else datetime.now(UTC).astimezone().date()
    setup = _setup(policies, provider)
    outcome = _bill(episodes, setup, Period(start, end), submitted)
    result = outcome.result()
    if out_dir is not None:
        for path in write_outputs(result, out_dir):
            err.print(f"wrote {path}")
    elif fmt is Format.text:
        out.print(report(result), soft_wrap=True)
    else:
        sys.stdout.write(render_json(result))
    _report_errors(outcome.errors)
    if outcome.errors:
        raise typer.Exit(2)


@app.command()
@guarded
def schema(which: Annotated[SchemaName, typer.Argument(help="episode or result")]) -> None:
    """Print the JSON Schema of the episode (input) or the result (output)."""
    sys.stdout.write(schema_text(which.value))


def _demo_cases(folder: Traversable) -> list[tuple[Traversable, Period, date]]:
    """The bundled examples, each with the period and submission date its expectation names."""
    cases = []
    for expected in sorted(folder.iterdir(), key=lambda f: f.name):
        if not expected.name.endswith(".expected.json"):
            continue
        meta = json.loads(expected.read_text("utf-8"))
        episode = folder / expected.name.replace(".expected.json", ".json")
        first, last = (date.fromisoformat(d) for d in meta["period"])
        cases.append((episode, Period(first, last), date.fromisoformat(meta["as_of"])))
    return cases


@app.command()
@guarded
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Where to write the outputs.")] = Path("out"),
) -> None:
    """Bill the bundled examples into ./out and print the report."""
    from importlib import resources

    setup = _setup(None, None)
    outcome = Outcome()
    for episode_file, period, as_of in _demo_cases(resources.files("hitclaims") / "examples"):
        # The examples are package data; read them through a real path for the loader.
        with resources.as_file(episode_file) as path:
            part = bill_files([path], setup, period, as_of)
        outcome.claims.extend(part.claims)
        outcome.errors.extend(part.errors)
    result = outcome.result()
    out.print(report(result), soft_wrap=True)
    for path in write_outputs(result, out_dir):
        err.print(f"wrote {path}")
    _report_errors(outcome.errors)
    if outcome.errors:
        raise typer.Exit(2)


def main() -> None:
    app()
