"""The server's guards: request bodies limited before they are read, SIGTERM and Ctrl-C stop
`hitclaims serve` mid-request, the API's no-store headers, documentation served from here, and
`serve --demo` that never touches a database holding data."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from hitclaims.cli import app as cli
from hitclaims.core.days import Period
from hitclaims.inputs.loading import parse_episode
from hitclaims.server import MAX_BODY_BYTES, MAX_INPUT_BYTES, create_app
from hitclaims.services.runs import execute_run, start_run
from hitclaims.services.workplace import Workplace
from hitclaims.store import users as user_store
from hitclaims.store.episodes import import_episode

from .builders import CATALOG
from .databases import EXAMPLE_PROVIDER, open_workplace

ROOT = Path(__file__).resolve().parent.parent
EX1 = ROOT / "examples" / "ex1-morphine-cancer.json"
PASSWORD = "a long enough passphrase"
runner = CliRunner()


@pytest.fixture
def place(tmp_path: Path) -> Iterator[Workplace]:
    opened = open_workplace(f"sqlite:///{tmp_path / 'server.db'}")
    yield opened
    opened.close()


# --- request bodies -------------------------------------------------------------------------


def _call(app: Any, headers: list[tuple[bytes, bytes]], chunks: list[bytes]) -> tuple[int, int]:
    """One POST /api/episodes straight through ASGI, unsigned-in: (status, body chunks read)."""
    read = 0
    answer: dict[str, Any] = {}

    async def receive() -> dict[str, Any]:
        nonlocal read
        read += 1
        more = read < len(chunks)
        return {"type": "http.request", "body": chunks[read - 1], "more_body": more}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/episodes",
        "raw_path": b"/api/episodes",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    anyio.run(app, scope, receive, send)
    return answer["status"], read


def test_a_declared_104_mb_body_is_refused_413_before_one_byte_is_read(place: Workplace) -> None:
    length = str(104 * 1024 * 1024).encode()
    status, read = _call(create_app(place), [(b"content-length", length)], [b"{}"] * 2)
    assert status == 413
    assert read == 0


def test_a_chunked_body_is_cut_at_the_limit_not_read_in_full_before_the_401(place: Workplace) -> None:
    megabyte = b" " * (1024 * 1024)
    status, read = _call(create_app(place), [(b"transfer-encoding", b"chunked")], [megabyte] * 104)
    assert status == 413
    assert read <= MAX_BODY_BYTES // len(megabyte) + 1


def test_a_body_over_the_limit_gets_a_problem_with_no_store(place: Workplace) -> None:
    client = TestClient(create_app(place))
    response = client.post("/api/episodes", content=b" " * (MAX_BODY_BYTES + 1))
    assert response.status_code == 413
    assert response.json()["detail"] == f"the request body is larger than {MAX_INPUT_BYTES >> 20} MB"
    assert response.headers["cache-control"] == "no-store"


def test_a_body_under_the_limit_is_read_as_before(place: Workplace) -> None:
    client = TestClient(create_app(place))
    response = client.post("/api/episodes", content=b" " * (MAX_INPUT_BYTES - 10) + b"{}")
    assert response.status_code == 401


# --- headers and documentation ----------------------------------------------------------------


def _billed_workplace(place: Workplace) -> str:
    with place.changing() as db:
        import_episode(db, parse_episode("ex1", EX1.read_text(), CATALOG), "json", [], "t")
        admin = user_store.create_user(db, "ada", PASSWORD, "admin", "setup")
        token = user_store.open_session(db, admin)
    run_id = start_run(place, Period(date(2025, 3, 1), date(2025, 3, 31)), date(2025, 4, 2), (), "t")
    execute_run(place, run_id)
    return token


def test_api_answers_holding_patient_data_are_no_store_and_nosniff(place: Workplace) -> None:
    client = TestClient(create_app(place))
    client.headers["Authorization"] = f"Bearer {_billed_workplace(place)}"
    claim = client.get("/api/claims").json()[0]["id"]
    for path in (
        "/api/episodes",
        "/api/episodes/EX1-MORPHINE",
        "/api/episodes/EX1-MORPHINE/ledger?from=2025-03-01&to=2025-03-31",
        "/api/claims",
        f"/api/claims/{claim}",
        f"/api/claims/{claim}/837",
        f"/api/claims/{claim}/fhir",
        f"/api/claims/{claim}/pdf",
        "/api/claims/999",
        "/api/worklist",
        "/openapi.json",
    ):
        response = client.get(path)
        assert response.status_code in (200, 404), (path, response.text)
        assert response.headers.get("cache-control") == "no-store", path
        assert response.headers.get("x-content-type-options") == "nosniff", path
    unsigned = TestClient(create_app(place)).get("/api/claims")
    assert unsigned.status_code == 401
    assert unsigned.headers["cache-control"] == "no-store"


def test_the_api_documentation_loads_no_third_party_script_and_carries_the_pages_csp(
    place: Workplace,
) -> None:
    client = TestClient(create_app(place))
    page = client.get("/docs")
    assert page.status_code == 200
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources, page.text
    for source in sources:
        assert source.startswith("/"), source  # this server's own copy, never a CDN
        loaded = client.get(source)
        assert loaded.status_code == 200, source
        assert loaded.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in page.text  # the CSP forbids inline script: started from a file
    assert client.get("/redoc", follow_redirects=False).headers["location"] == "/docs"
    assert client.get("/docs/assets/redoc.standalone.js").status_code == 404


# --- stopping the server ----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(tmp_path: Path, prelude: str = "") -> tuple[subprocess.Popen[bytes], int]:
    """`hitclaims serve` in a process of its own on loopback; `prelude` runs before it."""
    port = _free_port()
    code = f"{prelude}\nfrom hitclaims.cli import main\nmain()"
    args = ["serve", "--port", str(port), "--grace", "1", "--database", f"sqlite:///{tmp_path / 's.db'}"]
    env = {**os.environ, "HITCLAIMS_PROVIDER": str(EXAMPLE_PROVIDER)}
    server = subprocess.Popen(
        [sys.executable, "-c", code, *args], env=env, cwd=tmp_path, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 60  # a bound on a hang, not a speed check
    while time.monotonic() < deadline and server.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server, port
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise AssertionError(f"the server did not start: {server.communicate()[1].decode()[-2000:]}")


def _stops_on(server: subprocess.Popen[bytes], sent: signal.Signals) -> int:
    server.send_signal(sent)
    try:
        return server.wait(timeout=60)  # a bound on a hang: the grace is 1 s
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
        raise AssertionError(f"{sent.name} did not stop the server") from None


def test_sigterm_stops_the_server_while_a_slow_request_is_in_flight(tmp_path: Path) -> None:
    server, port = _serve(tmp_path)
    with socket.create_connection(("127.0.0.1", port)) as slow:
        # A client that sends a third of its body and then nothing: the request never ends.
        slow.sendall(
            b"POST /api/episodes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 30\r\n\r\n{"episode":'
        )
        time.sleep(0.5)
        assert server.poll() is None
        assert _stops_on(server, signal.SIGTERM) in (0, -signal.SIGTERM)


def test_ctrl_c_stops_the_server_while_a_request_works_in_a_thread(tmp_path: Path) -> None:
    # The sign-in check (a worker thread, as a long billing run is) made to take ten minutes.
    prelude = "import time, hitclaims.api.deps as d\nd.signed_in = lambda *a: time.sleep(600)"
    server, port = _serve(tmp_path, prelude)
    with socket.create_connection(("127.0.0.1", port)) as busy:
        busy.sendall(b"GET /api/me HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.5)
        assert _stops_on(server, signal.SIGINT) == 130


# --- serve --demo ----------------------------------------------------------------------------


def test_serve_demo_refuses_a_database_holding_a_deactivated_admin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'real.db'}"
    with open_workplace(url).changing() as db:
        user_store.create_user(db, "ada", PASSWORD, "admin", "setup")
        user_store.create_user(db, "admin", PASSWORD, "viewer", "setup")
        user_store.update_user(db, "admin", "setup", active=False)
    monkeypatch.delenv("HITCLAIMS_PASSWORD", raising=False)
    result = runner.invoke(cli, ["serve", "--demo", "--database", url])
    assert result.exit_code == 2
    assert "already holds data" in result.stderr
    place = open_workplace(url)
    with place.reading() as db:
        admin = user_store.by_name(db, "admin")
        assert admin is not None
        assert (admin.active, admin.role) == (False, "viewer")
        assert user_store.authenticate(db, "admin", PASSWORD) is None  # still inactive, not reset


def _demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> tuple[Any, str]:
    import uvicorn

    monkeypatch.setattr(uvicorn.Server, "run", lambda self: None)  # the demo's start, not its serving
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.delenv("HITCLAIMS_PASSWORD", raising=False)
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    return runner.invoke(cli, ["serve", "--demo", "--database", url], env=env), url


def test_the_demo_password_goes_to_a_private_file_when_stderr_is_not_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    result, url = _demo(tmp_path, monkeypatch)
    assert result.exit_code == 0, result.stderr
    written = [p for p in tmp_path.iterdir() if p.name.startswith("hitclaims-demo-")]
    assert len(written) == 1
    assert written[0].stat().st_mode & 0o777 == 0o600
    password = written[0].read_text().strip()
    assert password not in result.stderr + result.stdout
    assert str(written[0]) in result.stderr.replace("\n", "")
    with open_workplace(url).reading() as db:
        assert user_store.authenticate(db, "admin", password) is not None


def test_the_demo_takes_its_password_from_hitclaims_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, url = _demo(tmp_path, monkeypatch, HITCLAIMS_PASSWORD=PASSWORD)
    assert result.exit_code == 0, result.stderr
    assert PASSWORD not in result.stderr
    with open_workplace(url).reading() as db:
        assert user_store.authenticate(db, "admin", PASSWORD) is not None
    again = runner.invoke(cli, ["serve", "--demo", "--database", url], env={"HITCLAIMS_PASSWORD": PASSWORD})
    assert again.exit_code == 2, again.stderr
    assert json.dumps(again.stderr).count("already holds data") == 1
