"""The command line (SPEC "Command line"): thin over billing, loading and the renderers.

Commands import what only they need (the store, FHIR models, pyx12) when they run: `hitclaims
bill` should start in a fraction of a second, not pay for the web server's imports.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from enum import StrEnum
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, ParamSpec

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from hitclaims.core.days import Period
from hitclaims.core.errors import InputError
from hitclaims.formats.outputs import FORMATS, write_all
from hitclaims.formats.report import WIDTH, report
from hitclaims.inputs.catalog_files import load_catalog
from hitclaims.inputs.loading import (
    bundled_policy_folders,
    bundled_provider_file,
    load_policies,
    load_provider,
    read_episode,
    read_text,
)
from hitclaims.inputs.schemas import schema_text
from hitclaims.services.billing import Outcome, Setup, bill_files

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
    x12 = "x12"
    fhir = "fhir"
    pdf = "pdf"


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
            err.print(f"[bold red]unusable input[/]: {escape(str(exc))}", soft_wrap=True)
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


def _report_errors(errors: Sequence[InputError]) -> None:
    for error in errors:
        err.print(f"[bold red]unusable input[/]: {escape(str(error))}", soft_wrap=True)


def _notes(file: str, notes: Sequence[str]) -> None:
    for note in notes:
        err.print(f"[yellow]not mapped[/]: {escape(file)}: {escape(note)}", soft_wrap=True)


@app.command()
@guarded
def bill(
    episodes: Annotated[
        list[Path], typer.Argument(help="Episode JSON files or FHIR Bundles.", show_default=False)
    ],
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
        typer.Option(
            "--out", help="Write claims.json, claims.837, claims.fhir.json, claims.pdf, report.txt."
        ),
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
    for file, notes in outcome.notes:
        _notes(file, notes)
    result = outcome.result()
    if out_dir is not None:
        for path in write_all(result, setup.provider, submitted, out_dir):
            err.print(f"wrote {path}")
    elif fmt is Format.text:
        out.print(report(result), soft_wrap=True)
    else:
        content = FORMATS[fmt.value].render(result, setup.provider, submitted)
        if content is None:
            err.print("no claim is ready to send: no 837 written")
        else:
            sys.stdout.buffer.write(content)
            sys.stdout.flush()
    _report_errors(outcome.errors)
    if outcome.errors:
        raise typer.Exit(2)


@app.command()
@guarded
def validate(file: Annotated[Path, typer.Argument(help="An X12 file (837P, 835).")]) -> None:
    """Check an X12 file with pyx12 and list its errors in words (exit 1 when invalid)."""
    from hitclaims.formats.x12_validate import validate_x12

    report_ = validate_x12(read_text(file))
    if report_.valid:
        out.print(f"{file}: valid (pyx12 accepted every transaction set)")
        return
    out.print(f"{file}: [bold red]not valid[/], {len(report_.problems)} problem(s):", soft_wrap=True)
    for problem in report_.problems:
        out.print(f"  {problem.sentence()}", soft_wrap=True, markup=False)
    raise typer.Exit(1)


@app.command("import-fhir")
@guarded
def import_fhir(bundle: Annotated[Path, typer.Argument(help="A FHIR R4 Bundle (JSON).")]) -> None:
    """Turn a FHIR Bundle into an episode (JSON on stdout); what cannot be mapped is listed."""
    from hitclaims.formats.fhir_episode import bundle_to_episode

    episode, notes = bundle_to_episode(str(bundle), read_text(bundle), load_catalog())
    _notes(str(bundle), notes)
    sys.stdout.write(episode.model_dump_json(indent=2, exclude_none=False) + "\n")


@app.command("export-fhir")
@guarded
def export_fhir(episode: Annotated[Path, typer.Argument(help="An episode JSON file.")]) -> None:
    """Write an episode as a FHIR R4 Bundle (JSON on stdout)."""
    from hitclaims.formats.fhir_episode import episode_to_bundle

    data = episode_to_bundle(read_episode(episode, load_catalog()))
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


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
    setup = _setup(None, None)
    outcome = Outcome()
    last_as_of = date.min
    for episode_file, period, as_of in _demo_cases(resources.files("hitclaims") / "examples"):
        with resources.as_file(episode_file) as path:
            outcome.merge(bill_files([path], setup, period, as_of))
        last_as_of = max(last_as_of, as_of)
    result = outcome.result()
    out.print(report(result), soft_wrap=True)
    for path in write_all(result, setup.provider, last_as_of, out_dir):
        err.print(f"wrote {path}")
    _report_errors(outcome.errors)
    if outcome.errors:
        raise typer.Exit(2)


@app.command()
@guarded
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo: Annotated[
        bool, typer.Option("--demo", help="Load the bundled examples and an admin account.")
    ] = False,
    database: Annotated[
        str | None, typer.Option(help="Database URL (default: HITCLAIMS_DATABASE_URL or ./hitclaims.db).")
    ] = None,
) -> None:
    """Start the REST API and the billers' web page (SQLite in ./hitclaims.db by default)."""
    import uvicorn

    from hitclaims.api.app import create_app
    from hitclaims.services.demo import load_demo
    from hitclaims.services.workplace import Workplace

    place = Workplace.open(database)
    if demo:
        password = load_demo(place)
        err.print(
            f"[bold]demo[/]: examples loaded and billed. Sign in as [bold]admin[/] with password"
            f" [bold]{escape(password)}[/] (shown once)."
        )
    err.print(f"hitclaims on http://{host}:{port}/ (API documentation at /docs)")
    uvicorn.run(create_app(place), host=host, port=port, log_level="warning", access_log=False)


@app.command("user-add")
@guarded
def user_add(
    username: Annotated[str, typer.Argument(help="The new user's name (lower case).")],
    role: Annotated[str, typer.Option(help="admin, biller or viewer.")] = "biller",
    database: Annotated[str | None, typer.Option(help="Database URL.")] = None,
) -> None:
    """Add a user; the password is read from HITCLAIMS_PASSWORD or asked for."""
    from hitclaims.services.workplace import Workplace
    from hitclaims.store.users import ROLES, create_user

    if role not in ROLES:
        raise UnusableInputError(f"--role: {role!r} is not one of {', '.join(ROLES)}")
    password = os.environ.get("HITCLAIMS_PASSWORD") or typer.prompt("password", hide_input=True)
    place = Workplace.open(database)
    try:
        with place.factory() as db, db.begin():
            create_user(db, username, password, role, "command line")
    except ValueError as exc:
        raise UnusableInputError(str(exc)) from None
    finally:
        place.close()
    err.print(f"user {username} added as {role}")


def main() -> None:
    app()
