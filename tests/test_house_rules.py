"""How the house answers: typed errors mapped at the entry points and nothing else, settings and
the clock read once at the entry points, and the reshaping's bugs, each named."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from hitclaims.cli import app
from hitclaims.core.days import Period
from hitclaims.core.errors import InputError, UnusableInputError
from hitclaims.inputs.catalog_files import load_catalog
from hitclaims.inputs.loading import load_policies, parse_episode
from hitclaims.inputs.settings import Settings
from hitclaims.server import create_app
from hitclaims.services import claims, exports
from hitclaims.services.errors import INTERNAL
from hitclaims.services.runs import execute_run, start_run
from hitclaims.services.users import Person
from hitclaims.services.workplace import Workplace
from hitclaims.store import audit as audit_store
from hitclaims.store.episodes import import_episode
from hitclaims.store.users import create_user

from .databases import EXAMPLE_PROVIDER, open_workplace

ROOT = Path(__file__).resolve().parent.parent
EX1 = ROOT / "examples" / "ex1-morphine-cancer.json"
PASSWORD = "correct horse battery"
BILLER = Person("bill", "biller")
runner = CliRunner()


@pytest.fixture
def place(tmp_path: Path) -> Iterator[Workplace]:
    opened = open_workplace(f"sqlite:///{tmp_path / 'house.db'}")
    with opened.factory() as db, db.begin():
        create_user(db, "bill", PASSWORD, "biller", "setup")
    yield opened
    opened.close()


def _signed_in(client: TestClient) -> dict[str, str]:
    answer = client.post("/api/session", json={"username": "bill", "password": PASSWORD})
    return {"Authorization": f"Bearer {answer.json()['token']}"}


@pytest.mark.parametrize(
    "internal", [KeyError("rule"), ValueError("status: broken"), IndexError("list index")]
)
def test_an_internal_error_is_a_logged_500_never_a_404_or_422(
    place: Workplace, monkeypatch: pytest.MonkeyPatch, internal: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_: object) -> None:
        raise internal

    monkeypatch.setattr(claims, "read", broken)
    monkeypatch.setattr(claims, "read_page", broken)
    # Plain HTTP on loopback: the session cookie keeps its plain name (elsewhere it is __Host-…).
    with TestClient(create_app(place), raise_server_exceptions=False, base_url="http://127.0.0.1") as client:
        answer = client.get("/api/claims/1", headers=_signed_in(client))
        assert answer.status_code == 500
        assert answer.json() == {"detail": INTERNAL, "field": None}
        client.cookies.set("hitclaims_session", _signed_in(client)["Authorization"][7:])
        page = client.get("/claims/1")
    assert page.status_code == 500
    assert str(internal.args[0]) not in page.text
    assert "internal error" in caplog.text


def test_a_typed_error_keeps_its_status_and_names_its_field(place: Workplace) -> None:
    with TestClient(create_app(place)) as client:
        answer = client.get("/api/claims/7", headers=_signed_in(client))
    assert (answer.status_code, answer.json()) == (404, {"detail": "no claim 7", "field": "claim_id"})


def test_a_server_without_a_provider_refuses_to_start(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'none.db'}"
    with pytest.raises(UnusableInputError, match="HITCLAIMS_PROVIDER") as caught:
        Workplace.open(Settings(url, None, ZoneInfo("America/Chicago")))
    assert caught.value.field == "HITCLAIMS_PROVIDER"
    result = runner.invoke(app, ["serve", "--database", url], env={"HITCLAIMS_PROVIDER": ""})
    assert result.exit_code == 2
    assert "set HITCLAIMS_PROVIDER" in result.stderr
    assert "--demo" in result.stderr


def test_the_demo_may_bill_as_the_example_pharmacy(tmp_path: Path) -> None:
    opened = Workplace.open(Settings(f"sqlite:///{tmp_path / 'demo.db'}", None, ZoneInfo("UTC")), True)
    assert opened.provider.npi
    opened.close()


def test_overlapping_policies_are_refused_by_the_server_as_by_the_command_line(tmp_path: Path) -> None:
    source = (ROOT / "examples" / "policies" / "example-commercial-access.yaml").read_text()
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "a.yaml").write_text(source)
    url = f"sqlite:///{tmp_path / 'policies.db'}"
    settings = Settings(url, EXAMPLE_PROVIDER, ZoneInfo("America/Chicago"))
    Workplace.open(settings, policy_folders=[folder]).close()
    # A second version of the same payer in force on the same days, added for the next start.
    (folder / "b.yaml").write_text(source + "effective: {from: 2025-06-01, to: null}\n")
    with pytest.raises(InputError, match="already has a policy in force on these dates"):
        load_policies([folder], load_catalog())
    with pytest.raises(InputError, match="already has a policy in force on these dates"):
        Workplace.open(settings, policy_folders=[folder])


def test_the_command_lines_today_is_the_pharmacys_date_in_hitclaims_timezone() -> None:
    seen = {}
    for zone in ("Pacific/Kiritimati", "Etc/GMT+12"):  # 26 hours apart: never the same date
        result = runner.invoke(
            app,
            ["bill", str(EX1), "--from", "2025-03-01", "--to", "2025-03-31"],
            env={"HITCLAIMS_TIMEZONE": zone},
        )
        assert result.exit_code == 0, result.stderr
        seen[zone] = json.loads(result.stdout)["claims"][0]["as_of"]
        assert seen[zone] == datetime.now(ZoneInfo(zone)).date().isoformat()
    assert len(set(seen.values())) == 2


def test_a_timezone_that_is_not_one_is_unusable_input() -> None:
    with pytest.raises(UnusableInputError, match="IANA time zone"):
        Settings.from_env({"HITCLAIMS_TIMEZONE": "x" * 400})


def test_export_sends_every_ready_claim_however_many_in_batches(
    place: Workplace, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = load_catalog()
    text = EX1.read_text()
    with place.factory() as db, db.begin():
        for n in range(3):
            episode = parse_episode("ex1", text, catalog)
            episode = episode.model_copy(
                update={
                    "episode_id": f"EX1-{n}",
                    "patient": episode.patient.model_copy(update={"id": f"P-{n}"}),
                }
            )
            import_episode(db, episode, "json", [], "bill")
    execute_run(
        place, start_run(place, Period(date(2025, 3, 1), date(2025, 3, 31)), date(2025, 4, 2), [], "bill")
    )
    monkeypatch.setattr(exports, "BATCH", 2)  # the limit is 5,000 a batch; three claims show the same
    done = exports.export_ready(place, BILLER)
    assert [len(batch.claim_ids) for batch in done] == [2, 1]
    assert claims.status_counts(place)["ready"] == 0
    assert claims.status_counts(place)["submitted"] == 3


def test_the_idle_timeout_is_a_setting_read_once() -> None:
    assert Settings.from_env({}).session_idle_minutes == 30
    assert Settings.from_env({"HITCLAIMS_SESSION_IDLE_MINUTES": "5"}).session_idle_minutes == 5
    with pytest.raises(UnusableInputError, match="1 to 1440"):
        Settings.from_env({"HITCLAIMS_SESSION_IDLE_MINUTES": "0"})


def test_downloading_an_837_batch_is_audited(place: Workplace) -> None:
    catalog = load_catalog()
    with place.factory() as db, db.begin():
        import_episode(db, parse_episode("ex1", EX1.read_text(), catalog), "json", [], "bill")
    execute_run(
        place, start_run(place, Period(date(2025, 3, 1), date(2025, 3, 31)), date(2025, 4, 2), [], "bill")
    )
    (done,) = exports.export_ready(place, BILLER)
    exports.batch(place, done.interchange_id, BILLER)
    with place.factory() as db:
        actions = [a.action for a in audit_store.recent(db, 20)]
    assert "batch.837" in actions
