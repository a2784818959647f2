"""The demo workplace: the bundled examples imported, billed, sent and answered by a simulated
payer (some paid, one denied, so the denial worklist and A/R have something to show), and an
admin to sign in with.

The demo only ever starts on an empty database: on one that holds episodes, claims or users it
refuses, so that it can never bill examples into real work, nor reactivate, promote or reset the
password of a real user who happens to be called "admin".
"""

from __future__ import annotations

import os
import secrets
import tempfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from hitclaims.core.errors import ConflictError, UnusableInputError
from hitclaims.inputs.loading import bundled_examples, parse_episode
from hitclaims.services import exports, remittances
from hitclaims.services.remit_files import simulate_835
from hitclaims.services.runs import execute_run, start_run
from hitclaims.services.users import Person, add_user
from hitclaims.services.workplace import Workplace
from hitclaims.store import claims as claim_store
from hitclaims.store import episodes as episode_store
from hitclaims.store.models import ClaimRecord, EpisodeRecord, User

DEMO_ADMIN = "admin"
NOT_EMPTY = (
    "the database already holds data (episodes, claims or users); the demo starts only on an empty"
    " one: name a new database with --database, or start without --demo"
)


def holds_data(place: Workplace) -> bool:
    """Whether the database holds any episode, claim or user (policies alone are not data: every
    start records them)."""
    with place.reading() as db:
        return any(
            db.scalar(select(table.id).limit(1)) is not None for table in (EpisodeRecord, ClaimRecord, User)
        )


def new_password() -> str:
    return secrets.token_urlsafe(16)


def load_demo(place: Workplace, password: str) -> None:
    """On an empty database: the demo admin with this password, then the examples imported and
    billed for the periods they name."""
    if holds_data(place):
        raise UnusableInputError(NOT_EMPTY, "--database")
    # The admin first: a password the rules refuse stops the demo before anything is imported.
    add_user(place, DEMO_ADMIN, password, "admin", "demo")
    examples = bundled_examples()
    with place.changing() as db:
        for example in examples:
            episode = parse_episode(example.name, example.text, place.catalog)
            episode_store.import_episode(db, episode, "json", [], "demo")
    for example in examples:
        run_id = start_run(place, example.period, example.as_of, [example.episode_id], "demo")
        execute_run(place, run_id)
    _remit(place, max(e.as_of for e in examples))


def _remit(place: Workplace, sent_on: date) -> None:
    """Send the ready claims and post the payers' answer: the first claim denied for a missing
    authorization, the others paid with a 20 % patient share."""
    demo = Person("demo", "admin")
    try:
        exports.export_ready(place, demo)
    except ConflictError:
        return  # nothing ready to send: nothing for a payer to answer
    with place.reading() as db:
        rows = db.scalars(
            select(ClaimRecord).where(ClaimRecord.status == "submitted").order_by(ClaimRecord.id)
        )
        sent = [claim_store.claim_of(r).model_copy(update={"status": "submitted"}) for r in rows]
    denied = frozenset({sent[0].claim_id}) if len(sent) > 1 else frozenset()
    answer = simulate_835(sent, sent_on + timedelta(days=21), 1, Decimal("0.2"), denied)
    remittances.upload(place, "demo-payer.835", answer, demo)


def save_password(password: str) -> Path:
    """Write the demo admin's password to a new file only its owner may read (mode 0600), for
    when no terminal is there to show it: a log or a pipe must never hold it."""
    handle, name = tempfile.mkstemp(prefix="hitclaims-demo-", suffix=".password")
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        file.write(password + "\n")
    return Path(name)
