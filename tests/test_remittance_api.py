"""Remittances through the API and the pages: a biller sends claims, uploads the payer's 835,
sees the claim paid with its payment history, the denial worklist and accounts receivable."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hitclaims.core.claim import Claim
from hitclaims.server import create_app
from hitclaims.services.remit_files import simulate_835
from hitclaims.services.workplace import Workplace
from hitclaims.store import audit as audit_store
from hitclaims.store.users import create_user

from .databases import open_workplace

ROOT = Path(__file__).resolve().parent.parent
EX3 = ROOT / "examples" / "ex3-epidural-cocktail.json"
PASSWORD = "correct horse battery"
SITE = "https://testserver"


@pytest.fixture
def place(database_url: str) -> Iterator[Workplace]:
    opened = open_workplace(database_url)
    with opened.factory() as db, db.begin():
        create_user(db, "bill", PASSWORD, "biller", "setup")
        create_user(db, "vera", PASSWORD, "viewer", "setup")
    yield opened
    opened.close()


@pytest.fixture
def client(place: Workplace) -> Iterator[TestClient]:
    with TestClient(create_app(place), base_url=SITE, headers={"Origin": SITE}) as c:
        yield c


def _sign_in(client: TestClient, name: str = "bill") -> dict[str, str]:
    answer = client.post("/api/session", json={"username": name, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def _sent_claim(client: TestClient, who: dict[str, str]) -> dict[str, object]:
    assert client.post("/api/episodes", headers=who, json=json.loads(EX3.read_text())).status_code == 201
    run = {"from": "2025-09-01", "to": "2025-09-14", "as_of": "2025-09-16", "wait": True}
    assert client.post("/api/runs", headers=who, json=run).status_code == 201
    assert client.post("/api/exports", headers=who, json={}).status_code == 201
    (summary,) = client.get("/api/claims?status=submitted", headers=who).json()
    return client.get(f"/api/claims/{summary['id']}", headers=who).json()  # type: ignore[no-any-return]


def test_an_uploaded_835_pays_the_claim_and_shows_in_its_payment_history(
    client: TestClient, place: Workplace
) -> None:
    biller = _sign_in(client)
    record = _sent_claim(client, biller)
    claim = Claim.model_validate_json(json.dumps(record["claim"])).model_copy(update={"status": "submitted"})
    text = simulate_835([claim], date(2025, 10, 1), seed=2)
    (done,) = client.post(
        "/api/remittances", headers=biller, json={"file_name": "p.835", "content": text}
    ).json()
    assert (done["outcome"], done["claims_posted"], done["unmatched_claims"]) == ("posted", 1, 0)
    again = client.post("/api/remittances", headers=biller, json={"file_name": "p.835", "content": text})
    assert again.json()[0]["outcome"] == "already_posted"
    (payment,) = client.get(f"/api/claims/{record['id']}/payments", headers=biller).json()
    # The simulated payer allows its fee schedule, or the charge where it has no price.
    allowed = sum(
        min(ln.charge, ln.charge if ln.expected_payment is None else ln.expected_payment)
        for ln in claim.lines
    )
    assert payment["paid"] == f"{allowed:.2f}"
    assert all(line["line_number"] is not None for line in payment["lines"])
    assert client.get(f"/api/claims/{record['id']}", headers=biller).json()["status"] == "paid"
    aging = client.get("/api/receivables?as_of=2025-10-15", headers=biller).json()
    assert aging["total"] == "0.00"
    assert client.get("/api/remittances/unmatched", headers=biller).json() == []
    with place.reading() as db:  # reads of patients' payments are audited, by user
        actions = {(a.username, a.action) for a in audit_store.recent(db, 100)}
    assert {("bill", "claim.payments"), ("bill", "remittance.unmatched")} <= actions


def test_a_denial_shows_in_the_worklist_with_its_next_action(client: TestClient) -> None:
    biller = _sign_in(client)
    record = _sent_claim(client, biller)
    claim = Claim.model_validate_json(json.dumps(record["claim"])).model_copy(update={"status": "submitted"})
    text = simulate_835([claim], date(2025, 10, 1), deny_authorization=frozenset({claim.claim_id}))
    client.post("/api/remittances", headers=biller, json={"content": text})
    (denial,) = client.get("/api/denials", headers=biller).json()
    assert (denial["code"], denial["next_action"]) == ("CO-197", "get_authorization")
    assert "auth.missing" in denial["our_rules"]
    aging = client.get("/api/receivables?as_of=2025-10-15", headers=biller).json()
    assert aging["payers"][0]["buckets"]["0-30"] == f"{claim.total_charge:.2f}"


def test_a_viewer_reads_remittances_but_cannot_upload_one(client: TestClient) -> None:
    viewer = _sign_in(client, "vera")
    assert client.get("/api/remittances", headers=viewer).status_code == 200
    refused = client.post("/api/remittances", headers=viewer, json={"content": "ISA*"})
    assert refused.status_code == 403


def test_an_unreadable_835_is_a_422_naming_the_line_and_segment(client: TestClient) -> None:
    answer = client.post("/api/remittances", headers=_sign_in(client), json={"content": "NOT AN 835"})
    assert answer.status_code == 422
    assert "ISA" in answer.json()["detail"]


def test_the_pages_show_remittances_denials_and_receivables(client: TestClient) -> None:
    token = client.post("/api/session", json={"username": "bill", "password": PASSWORD}).json()["token"]
    record = _sent_claim(client, {"Authorization": f"Bearer {token}"})
    claim = Claim.model_validate_json(json.dumps(record["claim"])).model_copy(update={"status": "submitted"})
    text = simulate_835([claim], date(2025, 10, 1), deny_authorization=frozenset({f"{claim.claim_id}#1"}))
    client.post("/api/remittances", headers={"Authorization": f"Bearer {token}"}, json={"content": text})
    client.cookies.clear()
    login = client.get("/login").text
    csrf = login.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    signed = client.post(
        "/login", data={"username": "bill", "password": PASSWORD, "csrf_token": csrf}, follow_redirects=False
    )
    assert signed.status_code == 303
    listing = client.get("/remittances")
    assert listing.status_code == 200
    assert 'name="csrf_token"' in listing.text
    assert "posted" in listing.text
    assert "CO-197" in client.get("/denials").text
    history = client.get(f"/claims/{record['id']}").text
    assert "partially paid" in history  # one line denied, the others paid
    assert 'href="/remittances/' in history
    receivables = client.get("/receivables")
    assert receivables.status_code == 200
    assert "<svg" in receivables.text
