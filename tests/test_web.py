"""The billers' web page: quick page checks through TestClient, then one real browser session
(uvicorn in a thread, Debian's Chromium driven by Playwright) doing a biller's morning."""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import ConsoleMessage, Page, expect, sync_playwright
from sqlalchemy import select

from hitclaims.core.days import Period
from hitclaims.inputs.loading import parse_episode
from hitclaims.server import create_app
from hitclaims.services.remit_files import simulate_835
from hitclaims.services.runs import start_run
from hitclaims.services.users import SECURE_SESSION_COOKIE, form_token
from hitclaims.services.workplace import Workplace
from hitclaims.store.claims import claim_of
from hitclaims.store.episodes import import_episode
from hitclaims.store.models import ClaimRecord
from hitclaims.store.users import create_user

from .databases import open_workplace

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
EX3 = EXAMPLES / "ex3-epidural-cocktail.json"
PASSWORD = "correct horse battery"
CLAIM = "EX3-EPIDURAL-COCKTAIL-250901-0914"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@contextmanager
def opened(url: str) -> Iterator[Workplace]:
    """A workplace with a biller (bill) and a viewer (vera)."""
    place = open_workplace(url)
    with place.factory() as db, db.begin():
        create_user(db, "bill", PASSWORD, "biller", "setup")
        create_user(db, "vera", PASSWORD, "viewer", "setup")
    try:
        yield place
    finally:
        place.close()


@pytest.fixture
def place(database_url: str) -> Iterator[Workplace]:
    """The page tests run on SQLite and on PostgreSQL, like the API's."""
    with opened(database_url) as place:
        yield place


SITE = "https://testserver"  # off loopback: the cookies are __Host- and Secure


@pytest.fixture
def web(place: Workplace) -> Iterator[TestClient]:
    """A browser on this site: HTTPS, and the Origin a browser sends with a form."""
    with TestClient(
        create_app(place), base_url=SITE, headers={"Origin": SITE}, follow_redirects=False
    ) as client:
        yield client


def login_token(web: TestClient) -> str:
    """The sign-in form's CSRF token, as the form carries it."""
    (hidden,) = [i for i in Elements(web.get("/login").text).all("input") if i.get("name") == "csrf_token"]
    return hidden["value"]


def sign_in(web: TestClient, name: str) -> None:
    web.cookies.clear()
    data = {"username": name, "password": PASSWORD, "csrf_token": login_token(web)}
    answer = web.post("/login", data=data)
    assert answer.status_code == 303, answer.text


def token(web: TestClient) -> str:
    """The token every signed-in page's forms carry."""
    return form_token(web.cookies[SECURE_SESSION_COOKIE])


def form(web: TestClient, **fields: str) -> dict[str, str]:
    return {**fields, "csrf_token": token(web)}


def bill_ex3(web: TestClient) -> None:
    """As the biller, through the pages: import the example and bill its first two weeks."""
    sign_in(web, "bill")
    imported = web.post(
        "/episodes", data=form(web), files={"file": (EX3.name, EX3.read_bytes(), "application/json")}
    )
    assert imported.status_code == 303, imported.text
    started = web.post(
        "/runs", data=form(web, **{"from": "2025-09-01", "to": "2025-09-14", "as_of": "2025-09-16"})
    )
    assert started.status_code == 303, started.text


class Elements(HTMLParser):
    """Every element's attributes, to ask for the forms or a calendar cell of a page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, {k: v or "" for k, v in attrs}))

    def all(self, tag: str) -> list[dict[str, str]]:
        return [attrs for t, attrs in self.found if t == tag]

    def one(self, **wanted: str) -> dict[str, str]:
        (hit,) = [a for _, a in self.found if all(a.get(k.replace("_", "-")) == v for k, v in wanted.items())]
        return hit


# --- pages through TestClient -----------------------------------------------------------------


def test_signed_out_every_page_sends_you_to_sign_in(web: TestClient) -> None:
    for path in ("/", "/episodes", "/episodes/EX3", "/claims", "/claims/1", "/runs", "/runs/1/progress"):
        answer = web.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/login"), path
    assert web.get("/claims?status=held").headers["location"] == "/login?next=/claims%3Fstatus%3Dheld"
    assert web.post("/runs", data={"from": "2025-09-01"}).headers["location"] == "/login"
    polled = web.get("/runs/1/progress", headers={"HX-Request": "true"})
    assert polled.headers["HX-Redirect"] == "/login"
    assert 'name="password"' in web.get("/login").text


def test_signing_in_uses_the_api_session_and_refuses_a_wrong_password(web: TestClient) -> None:
    wrong = web.post(
        "/login", data={"username": "bill", "password": "not the password", "csrf_token": login_token(web)}
    )
    assert wrong.status_code == 401
    assert "Wrong user name or password." in wrong.text
    assert "hitclaims_session" not in wrong.headers.get("set-cookie", "")

    data = {
        "username": "bill",
        "password": PASSWORD,
        "next": "//evil.example/",
        "csrf_token": login_token(web),
    }
    answer = web.post("/login", data=data)
    assert answer.headers["location"] == "/"  # never off the site
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert web.get("/api/me").json()["username"] == "bill"  # the API reads the same cookie

    assert web.post("/logout", data=form(web)).headers["location"] == "/login"
    assert web.get("/api/me").status_code == 401


def test_a_viewer_sees_every_page_but_no_form_and_the_server_refuses_changes(web: TestClient) -> None:
    bill_ex3(web)
    sign_in(web, "vera")
    claim_id = web.get("/").text.split('href="/claims/', 1)[1].split('"', 1)[0]
    for path in (
        "/",
        "/episodes",
        "/episodes/EX3-EPIDURAL-COCKTAIL",
        "/claims",
        f"/claims/{claim_id}",
        "/runs",
    ):
        page = web.get(path)
        assert page.status_code == 200, path
        posts = [f["action"] for f in Elements(page.text).all("form") if f.get("method") == "post"]
        assert posts == ["/logout"], path  # only signing out
    refused = [
        web.post(
            "/episodes", data=form(web), files={"file": (EX3.name, EX3.read_bytes(), "application/json")}
        ),
        web.post("/runs", data=form(web, **{"from": "2025-09-01", "to": "2025-09-14"})),
        web.post("/export", data=form(web)),
        web.post(f"/claims/{claim_id}/status", data=form(web, status="void")),
    ]
    for answer in refused:
        assert answer.status_code == 403
        assert "A viewer can look but not change anything." in answer.text


def test_the_import_form_says_what_is_wrong_with_a_file_in_words(web: TestClient) -> None:
    sign_in(web, "bill")
    cases = [
        (("<script>notes.json", b"this is not JSON", "application/json"), "not valid JSON"),
        (("scan.pdf", b"%PDF-1.7\n\xff\xfe\x00\x81", "application/pdf"), "not a text file"),
        (("", b"", "application/octet-stream"), "Choose an episode file"),
        (("empty.json", b"{}", "application/json"), "is required and missing"),
    ]
    for upload, words in cases:
        answer = web.post("/episodes", data=form(web), files={"file": upload})
        assert answer.status_code == 422, upload[0]
        (alert,) = re.findall(r'<p class="alert alert--error" role="alert">(.*?)</p>', answer.text, re.S)
        assert words in alert
        assert "Traceback" not in answer.text
    # The file's name is shown escaped, never as markup.
    escaped = web.post("/episodes", data=form(web), files={"file": cases[0][0]}).text
    assert "&lt;script&gt;notes.json" in escaped
    assert "<script>notes" not in escaped


def test_the_calendar_cells_carry_their_reasons(web: TestClient) -> None:
    bill_ex3(web)
    page = web.get("/episodes/EX3-EPIDURAL-COCKTAIL")  # defaults to the month of the latest claim
    assert "September 2025" in page.text
    cells = Elements(page.text)
    inpatient = cells.one(data_date="2025-09-09")
    assert "day--not-billable" in inpatient["class"]
    assert "inpatient hold" in inpatient["title"]
    held = cells.one(data_date="2025-09-12")
    assert "day--held" in held["class"]
    assert "held: note.missing" in held["title"]
    billed = cells.one(data_date="2025-09-01")
    assert "day--billed" in billed["class"]
    assert f"billed on claim {CLAIM}" in billed["title"]
    assert all(c["tabindex"] == "0" for c in cells.all("div") if "data-date" in c)  # keyboard reachable
    assert "August 2025" in web.get("/episodes/EX3-EPIDURAL-COCKTAIL?month=2025-08").text
    assert web.get("/episodes/EX3-EPIDURAL-COCKTAIL?month=soon").status_code == 422
    assert web.get("/episodes/NOPE").status_code == 404


def test_a_claim_offers_only_the_moves_its_state_allows(web: TestClient) -> None:
    bill_ex3(web)
    claim_id = web.get("/claims?status=ready").text.split('href="/claims/', 1)[1].split('"', 1)[0]
    page = web.get(f"/claims/{claim_id}")
    buttons = [b["value"] for b in Elements(page.text).all("button") if b.get("name") == "status"]
    assert buttons == ["submitted", "void"]
    assert f'href="/api/claims/{claim_id}/837"' in page.text
    moved = web.post(f"/claims/{claim_id}/status", data=form(web, status="submitted", note="portal"))
    assert moved.status_code == 303
    page = web.get(f"/claims/{claim_id}")
    assert [b["value"] for b in Elements(page.text).all("button") if b.get("name") == "status"] == [
        "paid",
        "denied",
        "void",
    ]
    assert "portal" in page.text
    wrong = web.post(f"/claims/{claim_id}/status", data=form(web, status="ready"))
    assert wrong.status_code == 409
    assert "A submitted claim cannot become ready (allowed: denied, paid, void)." in wrong.text


def test_the_run_form_names_a_bad_field_and_a_finished_run_says_nothing_new(web: TestClient) -> None:
    bill_ex3(web)
    backwards = web.post("/runs", data=form(web, **{"from": "2025-09-14", "to": "2025-09-01"}))
    assert backwards.status_code == 422
    assert "To: 2025-09-01 is before from 2025-09-14." in backwards.text
    unknown = web.post(
        "/runs", data=form(web, **{"from": "2025-09-01", "to": "2025-09-14", "episodes": "EX9, EX3-X"})
    )
    assert "Episodes: there is no episode EX9, EX3-X." in unknown.text
    again = web.post(
        "/runs", data=form(web, **{"from": "2025-09-01", "to": "2025-09-14", "as_of": "2025-09-16"})
    )
    run_id = again.headers["location"].rsplit("=", 1)[1]
    progress = web.get(f"/runs/{run_id}/progress").text
    assert 'data-status="done"' in progress
    assert "hx-get" not in progress.split("</section>")[0]  # finished: polling stops
    assert "1 of 1 episodes" in progress
    assert "Nothing new to bill" in progress


def test_a_running_run_is_polled_every_half_second(web: TestClient, place: Workplace) -> None:
    sign_in(web, "bill")
    with place.factory() as db, db.begin():
        import_episode(db, parse_episode(EX3.name, EX3.read_text(), place.catalog), "json", [], "bill")
    period = Period(date(2025, 9, 1), date(2025, 9, 14))
    run_id = start_run(place, period, date(2025, 9, 16), [], "bill")
    fragment = web.get(f"/runs/{run_id}/progress").text  # started, not yet executed
    assert 'hx-trigger="load delay:500ms"' in fragment
    assert f'hx-get="/runs/{run_id}/progress"' in fragment
    assert "0 of 1 episodes" in fragment
    assert "<progress" in fragment


def test_an_unknown_page_answers_in_a_sentence_and_the_api_still_in_json(web: TestClient) -> None:
    sign_in(web, "bill")
    page = web.get("/nowhere")
    assert page.status_code == 404
    assert "There is no such page." in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert web.get("/claims/abc").status_code == 404
    assert web.get("/api/nowhere").json()["detail"] == "Not Found"


def test_export_offers_the_batch_download(web: TestClient) -> None:
    bill_ex3(web)
    done = web.post("/export", data=form(web))
    assert done.status_code == 303
    page = web.get(done.headers["location"]).text
    batch = re.search(r'href="(/api/exports/\d+/837)"', page)
    assert batch is not None
    assert web.get(batch.group(1)).text.startswith("ISA*")
    assert (
        "No claim is ready to send" in web.get(web.post("/export", data=form(web)).headers["location"]).text
    )


# --- a biller's morning in a real browser -----------------------------------------------------


def _need_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing: the browser test drives Debian's chromium package"
    if os.environ.get("CI"):
        pytest.fail(message + " (scripts/system-deps.sh installs it)")
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """The app on a real port (the browser needs one), in a thread of this process."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _shot(page: Page, name: str, folder: Path) -> None:
    page.screenshot(path=folder / name, full_page=True)
    if os.environ.get("HITCLAIMS_SCREENSHOTS"):  # only on request: CI must not rewrite tracked files
        shutil.copyfile(folder / name, ROOT / "docs" / name)


def _nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()


def _answer_with_an_835(page: Page, place: Workplace, folder: Path) -> None:
    """Send the claim, let the payer answer with one line denied, upload the 835 and see the
    claim paid in part and the denial in the worklist."""
    _nav(page, "Worklist")
    page.get_by_role("button", name="Export ready claims (837)").click()
    expect(page.get_by_role("status")).to_contain_text("they are now submitted")
    with place.factory() as db:
        record = db.scalar(select(ClaimRecord).where(ClaimRecord.status == "submitted"))
        assert record is not None
        claim = claim_of(record).model_copy(update={"status": "submitted"})
    answer = folder / "payer.835"
    answer.write_text(simulate_835([claim], date(2025, 10, 1), deny_authorization=frozenset({f"{CLAIM}#1"})))
    _nav(page, "Remittances")
    page.get_by_label("835 file").set_input_files(answer)
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("link", name=CLAIM)).to_be_visible()
    _shot(page, "web-remittance.png", folder)
    page.get_by_role("link", name=CLAIM).click()
    expect(page.locator("#payments-title")).to_contain_text("partially paid")
    _nav(page, "Denials")
    expect(page.locator("tr", has_text="CO-197")).to_contain_text("get authorization")
    _nav(page, "Receivables")
    expect(page.locator("svg.aging-chart")).to_be_visible()
    _shot(page, "web-receivables.png", folder)
    _nav(page, "Claims")
    page.get_by_role("link", name=CLAIM).first.click()


def test_a_billers_morning_in_the_browser(tmp_path: Path) -> None:
    _need_chromium()
    problems: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(message.text)

    with (
        opened(f"sqlite:///{tmp_path / 'web.db'}") as place,
        serving(create_app(place)) as base,
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 860}, accept_downloads=True)
            page.on("console", console)
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.set_default_timeout(10_000)

            page.goto(base + "/")
            expect(page).to_have_url(re.compile(r"/login$"))
            page.get_by_label("User name").fill("bill")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("heading", name="Worklist")).to_be_visible()

            _nav(page, "Episodes")
            page.get_by_label("Episode file").set_input_files(EX3)
            page.get_by_role("button", name="Import").click()
            expect(page.get_by_role("status")).to_contain_text("imported as version 1")

            _nav(page, "Billing runs")
            page.get_by_label("From", exact=True).fill("2025-09-01")
            page.get_by_label("To", exact=True).fill("2025-09-14")
            page.get_by_label("As of", exact=True).fill("2025-09-16")
            page.get_by_role("button", name="Start billing run").click()
            progress = page.locator("#run-progress")
            expect(progress).to_have_attribute("data-status", "done")
            expect(progress).to_contain_text("1 of 1 episodes")
            expect(progress.locator(".outcome--created")).to_contain_text("1")
            expect(page.locator("#recent-runs")).to_contain_text("1 created")  # swapped in by htmx

            _nav(page, "Worklist")
            held = page.locator("tr", has_text="2025-09-12")
            expect(held).to_contain_text("note.missing")
            _shot(page, "web-worklist.png", tmp_path)

            page.get_by_role("link", name=CLAIM).click()
            expect(page.get_by_role("heading", name=CLAIM)).to_be_visible()
            with page.expect_download() as started:
                page.get_by_role("link", name="837", exact=True).click()
            x12 = Path(started.value.path()).read_text()
            assert x12.startswith("ISA*"), x12[:40]
            page.locator("h1").click()  # away from the button: no focus ring in the picture
            _shot(page, "web-claim.png", tmp_path)

            _answer_with_an_835(page, place, tmp_path)
            page.get_by_role("link", name="EX3-EPIDURAL-COCKTAIL", exact=True).first.click()
            cell = page.locator('[data-date="2025-09-09"]')
            assert "inpatient hold" in (cell.get_attribute("title") or "")
            cell.focus()  # the keyboard's way to the details panel
            expect(cell.locator(".why")).to_be_visible()
            expect(cell.locator(".why")).to_contain_text("inpatient hold")
            _shot(page, "web-calendar.png", tmp_path)
        finally:
            browser.close()
    assert not problems, problems
