"""The REST API on SQLite and on PostgreSQL: what a biller does in a day, through HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from hitclaims.formats.fhir.episode_out import episode_to_bundle
from hitclaims.formats.x12.validate import validate_x12
from hitclaims.inputs.loading import parse_episode
from hitclaims.server import create_app
from hitclaims.store.users import create_user

from .builders import CATALOG
from .databases import open_workplace

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PASSWORD = "correct horse battery"


def example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / f"{name}.json").read_text())  # type: ignore[no-any-return]


@pytest.fixture
def api(database_url: str) -> Iterator[TestClient]:
    place = open_workplace(database_url)
    with place.factory() as db, db.begin():
        for name, role in (("ada", "admin"), ("bill", "biller"), ("vera", "viewer")):
            create_user(db, name, PASSWORD, role, "setup")  # type: ignore[arg-type]
    with TestClient(create_app(place)) as client:
        yield client
    place.close()


def sign_in(api: TestClient, name: str) -> dict[str, str]:
    answer = api.post("/api/session", json={"username": name, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def run(
    api: TestClient, who: dict[str, str], first: str, last: str, as_of: str, **more: Any
) -> dict[str, Any]:
    answer = api.post(
        "/api/runs", headers=who, json={"from": first, "to": last, "as_of": as_of, "wait": True, **more}
    )
    assert answer.status_code == 201, answer.text
    return answer.json()  # type: ignore[no-any-return]


def test_a_billers_day_import_run_read_download_export(api: TestClient) -> None:
    biller = sign_in(api, "bill")
    imported = api.post("/api/episodes", headers=biller, json=example("ex3-epidural-cocktail"))
    assert imported.status_code == 201, imported.text
    assert imported.json() == {
        "episode_id": "EX3-EPIDURAL-COCKTAIL",
        "version": 1,
        "changed": True,
        "notes": [],
    }

    done = run(api, biller, "2025-09-01", "2025-09-14", "2025-09-16")
    assert (done["status"], done["summary"]["created"]) == ("done", 1)

    (claim,) = api.get("/api/claims", headers=biller, params={"status": "ready"}).json()
    assert claim["claim_id"] == "EX3-EPIDURAL-COCKTAIL-250901-0914"
    assert claim["total_charge"] == "5241.50"

    detail = api.get(f"/api/claims/{claim['id']}", headers=biller).json()
    assert [h["date"] for h in detail["claim"]["held_days"]] == ["2025-09-12"]
    row = next(r for r in detail["claim"]["ledger"] if r["date"] == "2025-09-09")
    assert "covers the whole day" in row["reasons"][1]
    assert detail["events"][0]["to_status"] == "ready"

    work = api.get("/api/worklist", headers=biller).json()
    assert [(w["holds"], w["date"], w["rule"]) for w in work] == [("day", "2025-09-12", "note.missing")]

    x12 = api.get(f"/api/claims/{claim['id']}/837", headers=biller)
    assert x12.status_code == 200
    assert validate_x12(x12.text).valid
    fhir = api.get(f"/api/claims/{claim['id']}/fhir", headers=biller)
    assert fhir.json()["resourceType"] == "Bundle"
    pdf = api.get(f"/api/claims/{claim['id']}/pdf", headers=biller)
    assert pdf.headers["content-type"] == "application/pdf"
    assert "S9326" in PdfReader(__import__("io").BytesIO(pdf.content)).pages[0].extract_text()

    exported = api.post("/api/exports", headers=biller, json={})
    assert exported.status_code == 201, exported.text
    batch = api.get(f"/api/exports/{exported.json()['interchange']}/837", headers=biller)
    assert validate_x12(batch.text).valid
    assert api.get(f"/api/claims/{claim['id']}", headers=biller).json()["status"] == "submitted"
    assert api.post("/api/exports", headers=biller, json={}).status_code == 409


def test_rerunning_a_period_bills_nothing_twice_and_says_so(api: TestClient) -> None:
    biller = sign_in(api, "bill")
    api.post("/api/episodes", headers=biller, json=example("ex1-morphine-cancer"))
    run(api, biller, "2025-03-01", "2025-03-31", "2025-04-02")
    again = run(api, biller, "2025-03-01", "2025-03-31", "2025-04-02")
    assert (again["summary"]["created"], again["summary"]["unchanged"]) == (0, 1)
    assert again["summary"]["episodes"][0]["message"] == "nothing new to bill"
    assert len(api.get("/api/claims", headers=biller).json()) == 1


def test_changed_records_after_sending_make_a_replacement_claim(api: TestClient) -> None:
    biller = sign_in(api, "bill")
    records = example("ex1-morphine-cancer")
    api.post("/api/episodes", headers=biller, json=records)
    run(api, biller, "2025-03-01", "2025-03-31", "2025-04-02")
    api.post("/api/exports", headers=biller, json={})
    records["holds"] = [
        {"start": "2025-03-10T08:00:00-05:00", "end": "2025-03-12T16:00:00-05:00", "reason": "inpatient"}
    ]
    assert api.post("/api/episodes", headers=biller, json=records).json()["version"] == 2
    assert run(api, biller, "2025-03-01", "2025-03-31", "2025-04-05")["summary"]["replaced"] == 1
    (current,) = api.get("/api/claims", headers=biller).json()
    assert current["frequency_code"] == "7"
    detail = api.get(f"/api/claims/{current['id']}", headers=biller).json()
    assert detail["claim"]["original_claim_id"] == "EX1-MORPHINE-202503"
    assert "REF*F8*EX1-MORPHINE-202503~" in api.get(f"/api/claims/{current['id']}/837", headers=biller).text


def test_a_fhir_bundle_is_imported_like_an_episode(api: TestClient) -> None:
    biller = sign_in(api, "bill")
    episode = parse_episode("ex2", json.dumps(example("ex2-fentanyl-postop")), CATALOG)
    answer = api.post("/api/episodes", headers=biller, json=episode_to_bundle(episode))
    assert answer.status_code == 201, answer.text
    read = api.get("/api/episodes/EX2-FENTANYL", headers=biller).json()
    assert read["versions"][0]["source"] == "fhir"


def test_a_background_run_reports_its_progress(api: TestClient) -> None:
    biller = sign_in(api, "bill")
    api.post("/api/episodes", headers=biller, json=example("ex1-morphine-cancer"))
    started = api.post(
        "/api/runs", headers=biller, json={"from": "2025-03-01", "to": "2025-03-31", "as_of": "2025-04-02"}
    )
    assert started.status_code == 202
    for _ in range(100):
        state = api.get(f"/api/runs/{started.json()['id']}", headers=biller).json()
        if state["status"] != "running":
            break
        time.sleep(0.05)
    assert (state["status"], state["done"], state["total"]) == ("done", 1, 1)


def test_the_episode_ledger_says_why_for_every_day(api: TestClient) -> None:
    biller = sign_in(api, "bill")
    api.post("/api/episodes", headers=biller, json=example("ex3-epidural-cocktail"))
    ledger = api.get(
        "/api/episodes/EX3-EPIDURAL-COCKTAIL/ledger",
        headers=biller,
        params={"from": "2025-09-01", "to": "2025-09-14", "as_of": "2025-09-16"},
    ).json()
    status = {d["date"]: d["status"] for d in ledger["days"]}
    assert (status["2025-09-09"], status["2025-09-12"], status["2025-09-13"]) == (
        "not_billable",
        "held",
        "billed",
    )
    assert all(d["reasons"] for d in ledger["days"])


def test_claim_states_move_only_as_allowed(api: TestClient) -> None:
    biller = sign_in(api, "bill")
    api.post("/api/episodes", headers=biller, json=example("ex1-morphine-cancer"))
    run(api, biller, "2025-03-01", "2025-03-31", "2025-04-02")
    (claim,) = api.get("/api/claims", headers=biller).json()
    url = f"/api/claims/{claim['id']}/status"
    assert api.post(url, headers=biller, json={"status": "paid"}).status_code == 409
    assert (
        api.post(url, headers=biller, json={"status": "submitted", "note": "portal"}).json()["status"]
        == "submitted"
    )
    moved = api.post(url, headers=biller, json={"status": "paid"}).json()
    assert [e["to_status"] for e in moved["events"]] == ["ready", "submitted", "paid"]
    assert moved["events"][1]["username"] == "bill"


# --- access control ---------------------------------------------------------------------------


def test_nothing_without_signing_in(api: TestClient) -> None:
    for path in ("/api/claims", "/api/episodes", "/api/worklist", "/api/me"):
        answer = api.get(path)
        assert answer.status_code == 401
        assert answer.json()["detail"].startswith("not signed in")


def test_a_viewer_reads_but_changes_nothing(api: TestClient) -> None:
    viewer = sign_in(api, "vera")
    assert api.get("/api/claims", headers=viewer).status_code == 200
    assert api.post("/api/episodes", headers=viewer, json=example("ex1-morphine-cancer")).status_code == 403
    assert (
        api.post("/api/runs", headers=viewer, json={"from": "2025-03-01", "to": "2025-03-31"}).status_code
        == 403
    )
    assert api.post("/api/exports", headers=viewer, json={}).status_code == 403


def test_only_an_admin_manages_users_and_reads_the_audit_log(api: TestClient) -> None:
    biller, admin = sign_in(api, "bill"), sign_in(api, "ada")
    new = {"username": "nora", "password": PASSWORD, "role": "biller"}
    assert api.post("/api/users", headers=biller, json=new).status_code == 403
    assert api.post("/api/users", headers=admin, json=new).status_code == 201
    assert api.patch("/api/users/nora", headers=admin, json={"active": False}).json()["active"] is False
    assert api.post("/api/session", json={"username": "nora", "password": PASSWORD}).status_code == 401
    assert api.get("/api/audit", headers=biller).status_code == 403
    actions = [a["action"] for a in api.get("/api/audit", headers=admin).json()]
    assert {"user.create", "user.update", "session.open"} <= set(actions)


def test_the_last_admin_cannot_be_demoted(api: TestClient) -> None:
    admin = sign_in(api, "ada")
    answer = api.patch("/api/users/ada", headers=admin, json={"role": "viewer"})
    assert answer.status_code == 422
    assert answer.json()["field"] == "role"


def test_passwords_are_stored_hashed_with_argon2(api: TestClient, database_url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as conn:
        hashes = [h for (h,) in conn.execute(text("select password_hash from users"))]
    engine.dispose()
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert all(PASSWORD not in h for h in hashes)


def test_the_audit_log_holds_record_ids_not_personal_data(api: TestClient) -> None:
    biller, admin = sign_in(api, "bill"), sign_in(api, "ada")
    api.post("/api/episodes", headers=biller, json=example("ex1-morphine-cancer"))
    run(api, biller, "2025-03-01", "2025-03-31", "2025-04-02")
    text_ = json.dumps(api.get("/api/audit", headers=admin).json())
    for personal in ("Olsen", "Margaret", "1947-05-14", "410 Oak Ave", "ACM000111"):
        assert personal not in text_


# --- errors -----------------------------------------------------------------------------------


def test_bad_input_is_a_4xx_naming_the_field(api: TestClient) -> None:
    biller = sign_in(api, "bill")
    broken = example("ex1-morphine-cancer")
    broken["orders"][0]["drug"] = "morfine"
    answer = api.post("/api/episodes", headers=biller, json=broken)
    assert answer.status_code == 422
    assert answer.json()["field"] == "drug"
    assert "unknown drug 'morfine'" in answer.json()["detail"]
    bad_period = api.post("/api/runs", headers=biller, json={"from": "2025-03-31", "to": "2025-03-01"})
    assert (bad_period.status_code, bad_period.json()["field"]) == (422, "to")
    missing = api.get("/api/claims/999999", headers=biller)
    assert (missing.status_code, missing.json()["detail"]) == (404, "no claim 999999")
    assert api.get("/api/claims", headers=biller, params={"status": "lost"}).status_code == 422


def test_money_travels_as_strings_in_the_openapi_document(api: TestClient) -> None:
    schema = api.get("/openapi.json").json()
    total = schema["components"]["schemas"]["ClaimSummary"]["properties"]["total_charge"]
    assert total["type"] == "string"
    assert total["pattern"] == r"^-?\d+\.\d{2}$"
