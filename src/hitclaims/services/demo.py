"""The demo workplace: the bundled examples imported and billed, and an admin to sign in with."""

from __future__ import annotations

import json
import secrets
from datetime import date
from importlib import resources

from sqlalchemy import select

from hitclaims.core.days import Period
from hitclaims.inputs.loading import parse_episode
from hitclaims.services.workplace import Workplace
from hitclaims.store.episodes import import_episode
from hitclaims.store.models import User
from hitclaims.store.runs import execute_run, start_run
from hitclaims.store.users import create_user, update_user

DEMO_ADMIN = "admin"


def load_demo(place: Workplace) -> str:
    """Import and bill the examples (a second start bills nothing twice); returns a fresh
    password for the demo admin, who is created on the first start."""
    folder = resources.files("hitclaims") / "examples"
    runs: list[tuple[str, Period, date]] = []
    with place.factory() as db, db.begin():
        for expected in sorted(folder.iterdir(), key=lambda f: f.name):
            if not expected.name.endswith(".expected.json"):
                continue
            meta = json.loads(expected.read_text("utf-8"))
            source = folder / expected.name.replace(".expected.json", ".json")
            episode = parse_episode(source.name, source.read_text("utf-8"), place.catalog)
            import_episode(db, episode, "json", [], "demo")
            first, last = (date.fromisoformat(d) for d in meta["period"])
            runs.append((episode.episode_id, Period(first, last), date.fromisoformat(meta["as_of"])))
    for episode_id, period, as_of in runs:
        run_id = start_run(place.factory, period, as_of, [episode_id], "demo")
        execute_run(place.factory, run_id, place.setup())
    password = secrets.token_urlsafe(12)
    with place.factory() as db, db.begin():
        if db.scalar(select(User).where(User.username == DEMO_ADMIN)) is None:
            create_user(db, DEMO_ADMIN, password, "admin", "demo")
        else:
            update_user(db, DEMO_ADMIN, "demo", role="admin", active=True, password=password)
    return password
