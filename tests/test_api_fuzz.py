"""Schemathesis exercises the OpenAPI document against the app: no 500, and the documented
status codes, content types and response schemas hold for generated requests."""

from __future__ import annotations

import json
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from hitclaims.core.days import Period
from hitclaims.inputs.loading import parse_episode
from hitclaims.server import create_app
from hitclaims.services.runs import execute_run, start_run
from hitclaims.services.workplace import Workplace
from hitclaims.store.episodes import import_episode
from hitclaims.store.users import create_user, open_session

from .builders import CATALOG
from .databases import open_workplace

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _workplace() -> tuple[Workplace, str]:
    """A workplace with the examples billed (so claim ids 1..3 exist) and an admin's token."""
    folder = Path(tempfile.mkdtemp(prefix="hitclaims-fuzz-"))
    place = open_workplace(f"sqlite:///{folder / 'hitclaims.db'}")
    with place.factory() as db, db.begin():
        for name in ("ex1-morphine-cancer", "ex2-fentanyl-postop", "ex3-epidural-cocktail"):
            import_episode(
                db, parse_episode(name, (EXAMPLES / f"{name}.json").read_text(), CATALOG), "json", [], "t"
            )
        admin = create_user(db, "ada", "correct horse battery", "admin", "setup")
        token = open_session(db, admin)
    for first, last, as_of in (
        ("2025-03-01", "2025-03-31", "2025-04-02"),
        ("2025-06-01", "2025-06-30", "2025-07-01"),
    ):
        run_id = start_run(
            place,
            Period(date.fromisoformat(first), date.fromisoformat(last)),
            date.fromisoformat(as_of),
            (),
            "t",
        )
        execute_run(place, run_id)
    return place, token


# The schema is loaded when the module is collected (schemathesis' pytest plugin needs it then).
PLACE, TOKEN = _workplace()
# Signing out would end the fuzzing session's own token: everything else is exercised.
# A password's rules (not one character repeated, not a common password) are beyond JSON Schema
# too.
CROSS_FIELD_RULES = {
    ("POST", "/api/episodes"),
    ("POST", "/api/runs"),
    ("POST", "/api/users"),
    ("PATCH", "/api/users/{username}"),
    ("POST", "/api/me/password"),
    # An 835's content is a string to JSON Schema; whether it is a readable X12 file is not.
    ("POST", "/api/remittances"),
}
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(PLACE)).exclude(
    path="/api/session", method="DELETE"
)


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
def test_the_api_answers_every_generated_request_without_a_server_error(case: Any) -> None:
    # Some bodies carry rules JSON Schema cannot state: an episode's drug keys and payer must be
    # known, a run's period must end after it starts and last at most a year, and a password must
    # not be common. For those operations a schema-valid body may rightly get a 422.
    excluded = [positive_data_acceptance] if (case.method, case.path) in CROSS_FIELD_RULES else []
    response = case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, excluded_checks=excluded)
    assert response.status_code < 500, json.dumps(response.text)[:500]
