"""Real databases for the tests: a file SQLite, and a private PostgreSQL cluster started with
Debian's initdb + pg_ctl in a temporary folder (no system service, no network but loopback)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text

from hitclaims.inputs.settings import Settings
from hitclaims.services.workplace import Workplace

EXAMPLE_PROVIDER = Path(__file__).resolve().parent.parent / "examples" / "provider.yaml"


def _bindir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "pg_ctl").exists():
            return candidate
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(args: list[str]) -> list[str]:
    # initdb refuses to run as root; CI runs as root, developers usually not.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


@contextmanager
def postgres_cluster() -> Iterator[str]:
    """Start a throw-away cluster; yields the server URL (without a database name)."""
    bindir = _bindir()
    if bindir is None:
        if os.environ.get("CI"):
            raise RuntimeError(
                "PostgreSQL is not installed: .ci/run must install it (scripts/system-deps.sh)"
            )
        pytest.skip("PostgreSQL binaries not found (run scripts/system-deps.sh)")
    root = Path(tempfile.mkdtemp(prefix="hitclaims-pg-"))
    root.chmod(0o777)
    data, sockets = root / "data", root / "sock"
    sockets.mkdir()
    sockets.chmod(0o777)
    port = _free_port()
    subprocess.run(
        _as_postgres([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"]),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {sockets} -c listen_addresses='' -c fsync=off -c max_connections=200"
    subprocess.run(
        _as_postgres(
            [str(bindir / "pg_ctl"), "-D", str(data), "-w", "-o", options, "-l", str(root / "log"), "start"]
        ),
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://postgres@/{{db}}?host={sockets}&port={port}"
    finally:
        subprocess.run(
            _as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def fresh_database(server: str) -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server.format(db="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.format(db=name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def open_workplace(url: str, **settings: Any) -> Workplace:
    """The workplace the server would open on this database, billing as the example provider."""
    chosen = {"database_url": url, "provider_file": EXAMPLE_PROVIDER, "zone": ZoneInfo("America/Chicago")}
    return Workplace.open(Settings(**{**chosen, **settings}))
