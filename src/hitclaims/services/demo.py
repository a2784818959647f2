"""The demo workplace: the bundled examples imported and billed, and an admin to sign in with."""

from __future__ import annotations

import secrets

from hitclaims.inputs.loading import bundled_examples, parse_episode
from hitclaims.services.runs import execute_run, start_run
from hitclaims.services.workplace import Workplace
from hitclaims.store import episodes as episode_store
from hitclaims.store import users as user_store

DEMO_ADMIN = "admin"


def load_demo(place: Workplace) -> str:
    """Import and bill the examples (a second start bills nothing twice); returns a fresh
    password for the demo admin, who is created on the first start."""
    examples = bundled_examples()
    with place.changing() as db:
        for example in examples:
            episode = parse_episode(example.name, example.text, place.catalog)
            episode_store.import_episode(db, episode, "json", [], "demo")
    for example in examples:
        run_id = start_run(place, example.period, example.as_of, [example.episode_id], "demo")
        execute_run(place, run_id)
    password = secrets.token_urlsafe(12)
    with place.changing() as db:
        if user_store.by_name(db, DEMO_ADMIN) is None:
            user_store.create_user(db, DEMO_ADMIN, password, "admin", "demo")
        else:
            user_store.update_user(db, DEMO_ADMIN, "demo", role="admin", active=True, password=password)
    return password
