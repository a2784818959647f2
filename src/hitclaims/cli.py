"""The command line (SPEC "Command line"): thin over billing, loading and the renderers.

Commands import what only they need (the store, FHIR models, pyx12) when they run: `hitclaims
bill` should start in a fraction of a second, not pay for the web server's imports.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ParamSpec

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from hitclaims import cli_batch, cli_remit
from hitclaims.core.days import Period
from hitclaims.core.errors import HitclaimsError, InputError
from hitclaims.inputs.settings import Settings
from hitclaims.services import files
from hitclaims.services.billing import bill_files, parse_day

if TYPE_CHECKING:
    from hitclaims.services.workplace import Workplace

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Home infusion therapy records to explainable, payer-ready per-diem claims.",
)
# A pipe or file gets the report's fixed width; a terminal its own.
out = Console(highlight=False, width=None if sys.stdout.isatty() else files.REPORT_WIDTH)
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
        except HitclaimsError as exc:
            where = f"{exc.field}: " if exc.field and not str(exc).startswith(exc.field) else ""
            err.print(f"[bold red]unusable input[/]: {escape(where + str(exc))}", soft_wrap=True)
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


def _bill(paths: Sequence[Path], setup: files.Setup, period: Period, as_of: date) -> files.FilesBilled:
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
    start, end = parse_day(from_, "--from"), parse_day(to, "--to")
    if end < start:
        raise HitclaimsError(f"--to {end} is before --from {start}")
    # "Today" is the pharmacy's date in HITCLAIMS_TIMEZONE, as on the server.
    submitted = parse_day(as_of, "--as-of") if as_of else Settings.from_env().clock.today()
    setup = files.setup_from_files(policies, provider)
    outcome = _bill(episodes, setup, Period(start, end), submitted)
    for file, notes in outcome.notes:
        _notes(file, notes)
    result = outcome.result()
    if out_dir is not None:
        for path in files.write_all(result, setup, submitted, out_dir):
            err.print(f"wrote {path}")
    elif fmt is Format.text:
        out.print(files.report(result), soft_wrap=True)
    else:
        content = files.render(result, fmt.value, setup, submitted)
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
    report_ = files.validate_file(file)
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
    episode, notes = files.fhir_as_episode(bundle)
    _notes(str(bundle), notes)
    sys.stdout.write(episode.model_dump_json(indent=2, exclude_none=False) + "\n")


@app.command("export-fhir")
@guarded
def export_fhir(episode: Annotated[Path, typer.Argument(help="An episode JSON file.")]) -> None:
    """Write an episode as a FHIR R4 Bundle (JSON on stdout)."""
    data = files.episode_as_fhir(episode)
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


@app.command()
@guarded
def schema(which: Annotated[SchemaName, typer.Argument(help="episode or result")]) -> None:
    """Print the JSON Schema of the episode (input) or the result (output)."""
    sys.stdout.write(files.schema_text(which.value))


@app.command()
@guarded
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Where to write the outputs.")] = Path("out"),
) -> None:
    """Bill the bundled examples into ./out and print the report."""
    outcome, setup, last_as_of = files.bill_demo()
    result = outcome.result()
    out.print(files.report(result), soft_wrap=True)
    for path in files.write_all(result, setup, last_as_of, out_dir):
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
        bool,
        typer.Option("--demo", help="On an empty database: load the bundled examples and an admin account."),
    ] = False,
    database: Annotated[
        str | None, typer.Option(help="Database URL (default: HITCLAIMS_DATABASE_URL or ./hitclaims.db).")
    ] = None,
    grace: Annotated[
        int, typer.Option(min=0, max=600, help="Seconds a request may run on after SIGTERM or Ctrl-C.")
    ] = 10,
) -> None:
    """Start the REST API and the billers' web page (SQLite in ./hitclaims.db by default).

    Set HITCLAIMS_PROVIDER to the billing provider's YAML; only --demo bills as the example pharmacy.
    SIGTERM or Ctrl-C stops it: requests still running are cut after --grace seconds."""
    import uvicorn

    from hitclaims.server import create_app
    from hitclaims.services.runs import fail_interrupted
    from hitclaims.services.workplace import Workplace

    place = Workplace.open(Settings.from_env(database_url=database), allow_example_provider=demo)
    stopped = fail_interrupted(place)
    if stopped:
        listed = ", ".join(str(n) for n in stopped)
        err.print(
            f"billing run(s) {listed} were cut off when the server stopped: marked failed; run them again"
        )
    if demo:
        _start_demo(place)
    err.print(f"hitclaims on http://{host}:{port}/ (API documentation at /docs)")
    config = uvicorn.Config(
        create_app(place),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=grace,
    )
    # After SIGTERM uvicorn cuts what still runs after the grace and ends the process by the
    # signal; after Ctrl-C it returns here, where a worker thread could still hold the exit.
    try:
        uvicorn.Server(config).run()
    except KeyboardInterrupt:
        _leave_unfinished_work(130)
        raise typer.Exit(130) from None
    _leave_unfinished_work(0)


def _start_demo(place: Workplace) -> None:
    """Load the demo and tell its admin password: chosen in HITCLAIMS_PASSWORD, shown on a
    terminal, else written to a file only the operator can read; never to a pipe or a log."""
    from hitclaims.services.demo import DEMO_ADMIN, load_demo, new_password, save_password

    chosen = os.environ.get("HITCLAIMS_PASSWORD")
    password = chosen or new_password()
    load_demo(place, password)
    sign_in = f"[bold]demo[/]: examples loaded and billed. Sign in as [bold]{DEMO_ADMIN}[/]"
    if chosen:
        err.print(f"{sign_in} with the password in HITCLAIMS_PASSWORD.")
    elif sys.stderr.isatty():
        err.print(f"{sign_in} with password [bold]{escape(password)}[/] (shown once).")
    else:
        where = save_password(password)
        err.print(f"{sign_in} with the password in {escape(str(where))} (readable only by you).")


def _leave_unfinished_work(code: int) -> None:
    """Exit now even if a request's work is still running in a worker thread (a long billing
    run): Python would otherwise wait for it. Its transaction is rolled back by the database,
    and a run left running is marked failed on the next start."""
    busy = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if busy:
        err.print("stopped; work still running was cut")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


@app.command("user-add")
@guarded
def user_add(
    username: Annotated[str, typer.Argument(help="The new user's name (lower case).")],
    role: Annotated[str, typer.Option(help="admin, biller or viewer.")] = "biller",
    database: Annotated[str | None, typer.Option(help="Database URL.")] = None,
) -> None:
    """Add a user; the password is read from HITCLAIMS_PASSWORD or asked for."""
    from hitclaims.services.users import add_user, role_of
    from hitclaims.services.workplace import Workplace

    chosen = role_of(role)
    password = os.environ.get("HITCLAIMS_PASSWORD") or typer.prompt("password", hide_input=True)
    # Adding a user bills nothing: the example provider is enough to open the store.
    place = Workplace.open(Settings.from_env(database_url=database), allow_example_provider=True)
    try:
        add_user(place, username, password, chosen, "command line")
    finally:
        place.close()
    err.print(f"user {username} added as {role}")


cli_batch.register(app)
cli_remit.register(app, guarded)


def main() -> None:
    app()
