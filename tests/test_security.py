"""The attack on the service, replayed: cross-site forms, guessed passwords, sessions that outlive
a password change or an idle hour, PHI read without trace, and a database file anyone may read.
Each test is named after the hole it closes (issue 8, items 9, 10, 11 and 14)."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from hitclaims.cli import app as cli
from hitclaims.core.errors import UnavailableError, UnusableInputError
from hitclaims.server import create_app
from hitclaims.services import users
from hitclaims.services.users import (
    LOGIN_COOKIE,
    SECURE_SESSION_COOKIE,
    SESSION_COOKIE,
    THROTTLE_LIMIT,
    check_password,
    form_token,
)
from hitclaims.services.workplace import Workplace
from hitclaims.store import users as user_store
from hitclaims.store.models import AuditEntry, ClaimRecord, SignInFailure, UserSession
from hitclaims.store.users import create_user

from .databases import EXAMPLE_PROVIDER, open_workplace

ROOT = Path(__file__).resolve().parent.parent
EX3 = ROOT / "examples" / "ex3-epidural-cocktail.json"
PASSWORD = "correct horse battery"
SITE = "https://testserver"
# The attacker's page: the same host (so the same *site*, and SameSite=Strict lets cookies go),
# another port (so another *origin*).
SIBLING = "https://testserver:8443"
runner = CliRunner()


@pytest.fixture
def place(tmp_path: Path) -> Iterator[Workplace]:
    opened = open_workplace(f"sqlite:///{tmp_path / 'security.db'}")
    with opened.factory() as db, db.begin():
        create_user(db, "ada", PASSWORD, "admin", "setup")
        create_user(db, "bill", PASSWORD, "biller", "setup")
    yield opened
    opened.close()


@pytest.fixture
def browser(place: Workplace) -> Iterator[TestClient]:
    """A browser on this site over HTTPS, sending the Origin a browser sends with a form."""
    with TestClient(
        create_app(place), base_url=SITE, headers={"Origin": SITE}, follow_redirects=False
    ) as client:
        yield client


def _hidden_token(html: str) -> str:
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def _page_sign_in(browser: TestClient, name: str = "bill") -> None:
    browser.cookies.clear()
    token = _hidden_token(browser.get("/login").text)
    answer = browser.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 303, answer.text


def _page_token(browser: TestClient) -> str:
    return form_token(browser.cookies[SECURE_SESSION_COOKIE])


def _api_sign_in(client: TestClient, name: str = "bill", password: str = PASSWORD) -> dict[str, str]:
    answer = client.post("/api/session", json={"username": name, "password": password})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def _ready_claim(place: Workplace, client: TestClient) -> int:
    """EX3 imported and billed through the API; the id of its ready claim."""
    biller = _api_sign_in(client)
    assert client.post("/api/episodes", headers=biller, json=json.loads(EX3.read_text())).status_code == 201
    body = {"from": "2025-09-01", "to": "2025-09-14", "as_of": "2025-09-16", "wait": True}
    assert client.post("/api/runs", headers=biller, json=body).status_code == 201
    with place.reading() as db:
        return int(db.scalar(select(ClaimRecord.id).where(ClaimRecord.status == "ready")) or 0)


def _status(place: Workplace, claim_id: int) -> str:
    with place.reading() as db:
        return str(db.scalar(select(ClaimRecord.status).where(ClaimRecord.id == claim_id)))


def _actions(place: Workplace) -> list[AuditEntry]:
    with place.reading() as db:
        return list(db.scalars(select(AuditEntry).order_by(AuditEntry.id)))


# --- item 9: CSRF ---------------------------------------------------------------------------------


def test_a_form_posted_from_another_port_of_the_same_host_no_longer_voids_a_claim(
    place: Workplace, browser: TestClient
) -> None:
    claim_id = _ready_claim(place, browser)
    _page_sign_in(browser)
    void = {"status": "void", "csrf_token": _page_token(browser)}
    # The attacker's auto-posted form: the victim's cookie goes along (same site), its Origin
    # does not match. Even a token would not help it.
    cross = browser.post(f"/claims/{claim_id}/status", data=void, headers={"Origin": SIBLING})
    assert cross.status_code == 403
    no_token = browser.post(f"/claims/{claim_id}/status", data={"status": "void"})
    assert no_token.status_code == 403
    assert "This form has expired or did not come from this site" in no_token.text
    wrong_token = browser.post(f"/claims/{claim_id}/status", data={**void, "csrf_token": "0" * 64})
    assert wrong_token.status_code == 403
    assert _status(place, claim_id) == "ready"
    # Without an Origin, the Referer must name this site.
    by_referer = {"Origin": "", "Referer": f"{SIBLING}/attack.html"}
    assert browser.post(f"/claims/{claim_id}/status", data=void, headers=by_referer).status_code == 403
    assert _status(place, claim_id) == "ready"
    mine = browser.post(f"/claims/{claim_id}/status", data=void)  # the claim page's own form
    assert mine.status_code == 303
    assert _status(place, claim_id) == "void"


def test_every_form_of_the_pages_carries_the_sessions_token(place: Workplace, browser: TestClient) -> None:
    claim_id = _ready_claim(place, browser)
    _page_sign_in(browser)
    expected = _page_token(browser)
    for path in ("/", "/episodes", "/runs", f"/claims/{claim_id}", "/account"):
        page = browser.get(path).text
        forms = page.split("<form")[1:]
        posting = [f for f in forms if 'method="post"' in f.split(">", 1)[0]]
        assert posting, path
        for found in posting:
            assert f'name="csrf_token" value="{expected}"' in found.split("</form>", 1)[0], path


def test_the_sign_in_form_refuses_a_cross_site_post_login_csrf(browser: TestClient) -> None:
    token = _hidden_token(browser.get("/login").text)
    data = {"username": "bill", "password": PASSWORD, "csrf_token": token}
    assert browser.post("/login", data=data, headers={"Origin": SIBLING}).status_code == 403
    no_token = browser.post("/login", data={"username": "bill", "password": PASSWORD})
    assert no_token.status_code == 403
    assert "The sign-in form had expired" in no_token.text
    browser.cookies.clear()  # a post without the form's cookie: the token alone is not enough
    assert browser.post("/login", data=data).status_code == 403
    assert SECURE_SESSION_COOKIE not in browser.cookies


def test_signing_out_takes_a_post_a_link_cannot_sign_anyone_out(browser: TestClient) -> None:
    _page_sign_in(browser)
    assert browser.get("/logout").status_code == 405
    assert browser.get("/").status_code == 200  # still signed in
    assert browser.post("/logout", data={}).status_code == 403  # a form without the token
    assert browser.get("/").status_code == 200
    assert browser.post("/logout", data={"csrf_token": _page_token(browser)}).headers["location"] == "/login"
    assert browser.get("/").status_code == 303


def _signed_cookie(client: TestClient) -> str:
    answer = client.post("/api/session", json={"username": "bill", "password": PASSWORD})
    return str(answer.headers["set-cookie"])


def test_the_session_cookie_is_host_prefixed_and_secure_off_plain_loopback(place: Workplace) -> None:
    with TestClient(create_app(place), base_url=SITE, headers={"Origin": SITE}) as client:
        assert client.get("/login").headers["set-cookie"].startswith("__Host-hitclaims_login=")
        cookie = _signed_cookie(client)
        assert cookie.startswith(f"{SECURE_SESSION_COOKIE}=")
        assert "Secure" in cookie
        assert "Path=/" in cookie
        assert "HttpOnly" in cookie
        assert "Domain" not in cookie
    # http://testserver is plain HTTP off this machine: still Secure (the browser will not keep
    # it, so the sign-in page says to use HTTPS).
    with TestClient(create_app(place), base_url="http://testserver") as client:
        assert "open it over HTTPS" in client.get("/login").text
        assert "Secure" in _signed_cookie(client)
    # The demo and the tests on plain http://127.0.0.1 keep working.
    with TestClient(create_app(place), base_url="http://127.0.0.1") as client:
        assert client.get("/login").headers["set-cookie"].startswith(f"{LOGIN_COOKIE}=")
        cookie = _signed_cookie(client)
        assert cookie.startswith(f"{SESSION_COOKIE}=")
        assert "Secure" not in cookie
        assert client.get("/api/me").json()["username"] == "bill"


def test_a_cookie_signed_api_change_needs_this_sites_origin_a_bearer_token_does_not(
    place: Workplace, browser: TestClient
) -> None:
    claim_id = _ready_claim(place, browser)
    _page_sign_in(browser)  # the session cookie, as a page would have it
    path = f"/api/claims/{claim_id}/status"
    cross = browser.post(path, json={"status": "void"}, headers={"Origin": SIBLING})
    assert (cross.status_code, cross.json()["field"]) == (403, "origin")
    assert browser.post(path, json={"status": "void"}, headers={"Origin": ""}).status_code == 403
    assert browser.delete("/api/session", headers={"Origin": SIBLING}).status_code == 403
    assert browser.get("/api/me").status_code == 200  # reading needs no Origin
    assert _status(place, claim_id) == "ready"
    with TestClient(create_app(place), base_url=SITE) as client:  # a script: no cookie, no Origin
        bearer = _api_sign_in(client)
        assert client.post(path, json={"status": "submitted"}, headers=bearer).status_code == 200


# --- item 10: brute force -------------------------------------------------------------------------


def test_200_wrong_passwords_get_429_after_10_with_retry_after_and_audit_rows(place: Workplace) -> None:
    with TestClient(create_app(place)) as client:
        answers = [
            client.post("/api/session", json={"username": "bill", "password": f"guess number {n}"})
            for n in range(200)
        ]
        statuses = [a.status_code for a in answers]
        assert statuses == [401] * THROTTLE_LIMIT + [429] * (200 - THROTTLE_LIMIT)
        waits = [int(a.headers["Retry-After"]) for a in answers[THROTTLE_LIMIT:]]
        assert all(0 < wait <= 15 * 60 for wait in waits)
        assert answers[-1].json()["detail"].startswith("too many failed sign-ins")
        # Throttled means untried: even the right password waits.
        right = client.post("/api/session", json={"username": "bill", "password": PASSWORD})
        assert right.status_code == 429
    actions = [(a.action, a.username, a.detail.get("address")) for a in _actions(place)]
    assert actions.count(("session.refused", "bill", "testclient")) == THROTTLE_LIMIT
    assert actions.count(("session.throttled", "bill", "testclient")) == 200 - THROTTLE_LIMIT + 1
    with place.reading() as db:
        assert db.scalar(select(func.count()).select_from(SignInFailure)) == THROTTLE_LIMIT
    logged = json.dumps([a.detail for a in _actions(place)])
    assert "guess number" not in logged
    assert PASSWORD not in logged


def test_one_address_guessing_many_names_is_throttled_and_the_page_says_when_to_retry(
    place: Workplace, browser: TestClient
) -> None:
    for n in range(THROTTLE_LIMIT):
        token = _hidden_token(browser.get("/login").text)
        data = {"username": f"user{n}", "password": "wrong password", "csrf_token": token}
        assert browser.post("/login", data=data).status_code == 401
    token = _hidden_token(browser.get("/login").text)
    page = browser.post("/login", data={"username": "ada", "password": PASSWORD, "csrf_token": token})
    assert page.status_code == 429
    assert int(page.headers["Retry-After"]) > 0
    assert "Too many failed sign-ins: try again in" in page.text
    # A name that is no user is audited as "unknown": a password typed as a name is not kept.
    assert {a.username for a in _actions(place) if a.action == "session.refused"} == {"unknown"}


def test_sign_ins_and_sign_outs_are_audited_without_passwords(place: Workplace) -> None:
    with TestClient(create_app(place)) as client:
        bearer = _api_sign_in(client)
        assert (
            client.post("/api/session", json={"username": "bill", "password": "not it at all"}).status_code
            == 401
        )
        assert client.delete("/api/session", headers=bearer).status_code == 204
    kept = [(a.action, a.username) for a in _actions(place) if a.action.startswith("session.")]
    assert kept == [("session.open", "bill"), ("session.refused", "bill"), ("session.close", "bill")]
    assert "not it at all" not in json.dumps([a.detail for a in _actions(place)])


def test_password_hashing_runs_at_most_a_few_at_once(
    place: Workplace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A flood of sign-ins cannot take Argon2's 64 MiB each without limit."""
    running, most = [0], [0]
    lock = threading.Lock()
    real = user_store._hasher

    class Counting:
        """Argon2, counting how many hashes run at once."""

        def verify(self, password_hash: str, password: str) -> bool:
            with lock:
                running[0] += 1
                most[0] = max(most[0], running[0])
            try:
                time.sleep(0.05)  # long enough for the others to pile up behind the limit
                return real.verify(password_hash, password)
            finally:
                with lock:
                    running[0] -= 1

    monkeypatch.setattr(user_store, "_hasher", Counting())
    threads = [
        threading.Thread(target=users.sign_in, args=(place, f"name{n}", "some wrong password", f"10.0.0.{n}"))
        for n in range(3 * user_store.HASHING_AT_ONCE)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 0 < most[0] <= user_store.HASHING_AT_ONCE
    # With every slot taken, a sign-in is told to come back (503) instead of queueing forever.
    monkeypatch.setattr(user_store, "HASHING_WAIT_SECONDS", 0.01)
    for _ in range(user_store.HASHING_AT_ONCE):
        user_store._hashing.acquire()
    try:
        with pytest.raises(UnavailableError):
            users.sign_in(place, "bill", PASSWORD, "10.0.1.1")
    finally:
        for _ in range(user_store.HASHING_AT_ONCE):
            user_store._hashing.release()


# --- item 11: sessions and passwords --------------------------------------------------------------


def test_an_old_token_stops_working_after_a_password_change(place: Workplace) -> None:
    new = "a much better passphrase"
    with TestClient(create_app(place)) as client:
        here, elsewhere = _api_sign_in(client), _api_sign_in(client)
        wrong = client.post(
            "/api/me/password", headers=here, json={"current_password": "nope", "new_password": new}
        )
        assert (wrong.status_code, wrong.json()["field"]) == (403, "current_password")
        body = {"current_password": PASSWORD, "new_password": new}
        assert client.post("/api/me/password", headers=here, json=body).status_code == 204
        assert client.get("/api/me", headers=elsewhere).status_code == 401  # the other session ended
        assert client.get("/api/me", headers=here).status_code == 200  # this one goes on
        assert client.post("/api/session", json={"username": "bill", "password": PASSWORD}).status_code == 401
        _api_sign_in(client, "bill", new)
        weak = client.post(
            "/api/me/password", headers=here, json={"current_password": new, "new_password": "password1234"}
        )
        assert (weak.status_code, weak.json()["field"]) == (422, "password")


def test_a_role_change_or_deactivation_ends_that_users_sessions(place: Workplace) -> None:
    with TestClient(create_app(place)) as client:
        admin, biller = _api_sign_in(client, "ada"), _api_sign_in(client)
        assert client.patch("/api/users/bill", headers=admin, json={"role": "viewer"}).status_code == 200
        assert client.get("/api/me", headers=biller).status_code == 401
        biller = _api_sign_in(client)
        assert client.get("/api/me", headers=biller).json()["role"] == "viewer"
        assert client.patch("/api/users/bill", headers=admin, json={"active": False}).status_code == 200
        assert client.get("/api/me", headers=biller).status_code == 401
        # An admin changing their own password keeps the session they did it with.
        body = {"password": "another long passphrase"}
        assert client.patch("/api/users/ada", headers=admin, json=body).status_code == 200
        assert client.get("/api/me", headers=admin).status_code == 200
    updates = [a.detail for a in _actions(place) if a.action == "user.update"]
    assert [u.get("sessions_ended") for u in updates] == [1, 1, 0]


def test_the_page_changes_your_own_password(browser: TestClient) -> None:
    _page_sign_in(browser)
    token = _page_token(browser)
    change = {
        "current_password": PASSWORD,
        "new_password": "aaaaaaaaaaaaaa",
        "repeat_password": "aaaaaaaaaaaaaa",
    }
    refused = browser.post("/account/password", data={**change, "csrf_token": token})
    assert refused.status_code == 422
    assert "A password is not one character repeated." in refused.text
    good = "a much better passphrase"
    change = {
        "current_password": PASSWORD,
        "new_password": good,
        "repeat_password": good,
        "csrf_token": token,
    }
    done = browser.post("/account/password", data=change)
    assert done.status_code == 200
    assert "Your password is changed" in done.text
    assert browser.get("/").status_code == 200


def test_a_session_idle_longer_than_the_timeout_ends(place: Workplace) -> None:
    with TestClient(create_app(place)) as client:
        bearer = _api_sign_in(client)

        def idle_for(minutes: int) -> None:
            with place.changing() as db:
                db.execute(
                    update(UserSession).values(last_seen_at=place.clock.now() - timedelta(minutes=minutes))
                )

        idle_for(29)
        assert client.get("/api/me", headers=bearer).status_code == 200  # and the use is noted
        with place.reading() as db:
            seen = db.scalar(select(UserSession.last_seen_at))
        assert seen is not None
        assert seen > place.clock.now() - timedelta(minutes=1)
        idle_for(31)
        assert client.get("/api/me", headers=bearer).status_code == 401
        place.session_idle = timedelta(minutes=5)  # the timeout is the workplace's setting
        bearer = _api_sign_in(client)
        idle_for(6)
        assert client.get("/api/me", headers=bearer).status_code == 401


def test_a_session_notes_its_use_at_most_once_a_minute(place: Workplace) -> None:
    with TestClient(create_app(place)) as client:
        bearer = _api_sign_in(client)
        with place.reading() as db:
            first = db.scalar(select(UserSession.last_seen_at))
        for _ in range(5):
            assert client.get("/api/me", headers=bearer).status_code == 200
        with place.reading() as db:
            assert db.scalar(select(UserSession.last_seen_at)) == first


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short one", "at least 12 characters"),
        ("aaaaaaaaaaaaaaaa", "one character repeated"),
        ("password1234", "too common"),
        ("Password1234", "too common"),
        ("QWERTY123456", "too common"),
        ("correct horse battery staple", "too common"),
        ("nora.bookkeeper", "too common"),  # the user name itself
    ],
)
def test_a_weak_password_is_refused_wherever_it_is_set(place: Workplace, password: str, problem: str) -> None:
    with pytest.raises(UnusableInputError, match=problem):
        check_password(password, "nora.bookkeeper")
    with TestClient(create_app(place)) as client:
        admin = _api_sign_in(client, "ada")
        new = client.post(
            "/api/users",
            headers=admin,
            json={"username": "nora.bookkeeper", "password": password, "role": "biller"},
        )
        assert new.status_code == 422
        assert new.json()["field"] == "password"
        if password != "nora.bookkeeper":  # that one is weak for nora only
            changed = client.patch("/api/users/bill", headers=admin, json={"password": password})
            assert changed.status_code == 422


def test_the_tests_password_and_the_command_lines_user_add_follow_the_rules(tmp_path: Path) -> None:
    check_password(PASSWORD, "bill")
    env = {"HITCLAIMS_PROVIDER": str(EXAMPLE_PROVIDER), "HITCLAIMS_PASSWORD": "password1234"}
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    weak = runner.invoke(cli, ["user-add", "nora", "--database", url], env=env)
    assert weak.exit_code == 2
    assert "too common" in weak.stderr
    env["HITCLAIMS_PASSWORD"] = PASSWORD
    bad_name = runner.invoke(cli, ["user-add", "Nora Smith", "--database", url], env=env)
    assert bad_name.exit_code == 2
    assert "a user name is 3 to 60 lower-case letters" in bad_name.stderr
    assert runner.invoke(cli, ["user-add", "nora", "--database", url], env=env).exit_code == 0


# --- item 14: PHI reads audited, the database file private ----------------------------------------


def test_reads_of_phi_are_audited_by_user_and_record_id(place: Workplace, browser: TestClient) -> None:
    claim_id = _ready_claim(place, browser)
    with TestClient(create_app(place)) as client:
        bearer = _api_sign_in(client)
        for path in ("", "/837", "/fhir", "/pdf"):
            assert client.get(f"/api/claims/{claim_id}{path}", headers=bearer).status_code == 200
        assert client.get("/api/episodes/EX3-EPIDURAL-COCKTAIL", headers=bearer).status_code == 200
        ledger = client.get(
            "/api/episodes/EX3-EPIDURAL-COCKTAIL/ledger",
            headers=bearer,
            params={"from": "2025-09-01", "to": "2025-09-14"},
        )
        assert ledger.status_code == 200
        assert client.get("/api/claims/999999", headers=bearer).status_code == 404  # nothing read
    _page_sign_in(browser, "ada")
    assert browser.get(f"/claims/{claim_id}").status_code == 200
    assert browser.get("/episodes/EX3-EPIDURAL-COCKTAIL").status_code == 200
    reads = [
        (a.username, a.action, a.entity, a.entity_id, a.detail)
        for a in _actions(place)
        if a.action
        in {"claim.read", "claim.837", "claim.fhir", "claim.pdf", "episode.read", "episode.ledger"}
    ]
    key = "EX3-EPIDURAL-COCKTAIL"
    assert reads == [
        ("bill", "claim.read", "claim", str(claim_id), {}),
        ("bill", "claim.837", "claim", str(claim_id), {}),
        ("bill", "claim.fhir", "claim", str(claim_id), {}),
        ("bill", "claim.pdf", "claim", str(claim_id), {}),
        ("bill", "episode.read", "episode", key, {}),
        ("bill", "episode.ledger", "episode", key, {}),
        ("ada", "claim.read", "claim", str(claim_id), {}),
        ("ada", "episode.read", "episode", key, {}),
        ("ada", "episode.ledger", "episode", key, {}),
    ]


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_a_new_sqlite_database_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    before = os.umask(0o022)  # the usual umask would make it world-readable
    try:
        place = open_workplace(f"sqlite:///{tmp_path / 'private.db'}")
    finally:
        os.umask(before)
    try:
        with place.changing() as db:
            create_user(db, "nora", PASSWORD, "viewer", "setup")
        files = [p for p in tmp_path.iterdir() if p.name.startswith("private.db")]
        assert files
        assert {p.name: _mode(p) for p in files} == {p.name: 0o600 for p in files}
    finally:
        place.close()
