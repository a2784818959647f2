"""The workplace, the composition root: one database plus what billing needs (catalogs, policies,
the provider) and the pharmacy's clock, wired once from the settings.

Opening it migrates the database and loads the policy files into it; billing reads the policies
back from the database, so every run bills with the policies on record.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from importlib.resources.abc import Traversable
from pathlib import Path

from sqlalchemy import Engine, event, func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import ORMExecuteState, sessionmaker
from sqlalchemy.orm import Session as DbSession

from hitclaims.core.catalog import Catalog
from hitclaims.core.errors import ConflictError, UnavailableError, UnusableInputError
from hitclaims.core.provider import Provider
from hitclaims.inputs.catalog_files import load_catalog
from hitclaims.inputs.loading import bundled_policy_folders, bundled_provider_file, load_provider
from hitclaims.inputs.settings import Clock, Settings
from hitclaims.services.billing import Setup
from hitclaims.store.db import make_engine, migrate, session_factory
from hitclaims.store.models import PolicyRecord
from hitclaims.store.policies import policy_book, sync_policies
from hitclaims.store.users import SESSION_IDLE_MINUTES

WRITE_WAIT_SECONDS = 30
NO_PROVIDER = (
    "no billing provider is set: set HITCLAIMS_PROVIDER to the provider YAML (NPI, tax id, address,"
    " clearinghouse), or start with --demo to use the example pharmacy"
)


@dataclass
class Workplace:
    engine: Engine
    factory: sessionmaker[DbSession]
    catalog: Catalog
    provider: Provider
    clock: Clock
    # A session unused for this long is over (besides its 12-hour limit).
    session_idle: timedelta = timedelta(minutes=SESSION_IDLE_MINUTES)
    _setup: Setup | None = None
    _stamp: object = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # SQLite has one writer at a time, and its busy handler waits in sleeps of up to 100 ms: the
    # server's threads queue for the write lock here instead, in turn, without those sleeps.
    _writer: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def open(
        cls,
        settings: Settings,
        allow_example_provider: bool = False,
        policy_folders: Sequence[Path | Traversable] | None = None,
    ) -> Workplace:
        """Wire the workplace. Without a provider file only the demo (and commands that bill
        nothing) may use the example pharmacy: a real server must never bill as someone else."""
        if settings.provider_file is None and not allow_example_provider:
            raise UnusableInputError(NO_PROVIDER, "HITCLAIMS_PROVIDER")
        provider = load_provider(settings.provider_file or bundled_provider_file())
        engine = make_engine(settings.database_url)
        migrate(engine)
        factory = session_factory(engine)
        catalog = load_catalog()
        with factory() as db, db.begin():
            sync_policies(db, policy_folders or bundled_policy_folders(), catalog, "system")
            policy_book(db, catalog)  # overlapping policies refuse the start, as on the command line
        place = cls(engine, factory, catalog, provider, settings.clock)
        place.session_idle = timedelta(minutes=settings.session_idle_minutes)
        return place

    def setup(self) -> Setup:
        """Catalogs, the policies on record and the provider; reread when the policies change."""
        with self.factory() as db:
            stamp = db.execute(select(func.count(), func.max(PolicyRecord.loaded_at))).one()
            with self._lock:
                if self._setup is None or stamp != self._stamp:
                    self._setup = Setup(self.catalog, policy_book(db, self.catalog), self.provider)
                    self._stamp = tuple(stamp)
                return self._setup

    @contextmanager
    def reading(self) -> Iterator[DbSession]:
        """A session for reads (no transaction kept open)."""
        with self.factory() as db:
            yield db

    @contextmanager
    def transaction(self) -> Iterator[DbSession]:
        """One transaction, the driver's errors untouched (for callers that retry on them)."""
        with self.factory() as db, ExitStack() as turn:
            if self.engine.dialect.name == "sqlite":
                self._wait_turn_before_writing(db, turn)
            with db.begin():
                yield db
            # leaving `turn` after the commit: the next writer starts on committed data

    def _wait_turn_before_writing(self, db: DbSession, turn: ExitStack) -> None:
        """Take the write lock at the session's first write, where SQLite's driver begins its
        transaction: reads before it run side by side, and writers queue in turn."""
        taken = False

        def take() -> None:
            nonlocal taken
            if not taken:
                # As long as SQLite's own busy timeout: past it, the database is busy.
                if not self._writer.acquire(timeout=WRITE_WAIT_SECONDS):
                    raise UnavailableError("the database is busy; try again")
                turn.callback(self._writer.release)
                taken = True

        def on_execute(state: ORMExecuteState) -> None:
            if not state.is_select:
                take()

        event.listen(db, "before_flush", lambda *_: take())
        event.listen(db, "do_orm_execute", on_execute)

    @contextmanager
    def changing(self) -> Iterator[DbSession]:
        """One transaction; a lost race or a busy database is a typed error, not a driver's."""
        try:
            with self.transaction() as db:
                yield db
        except IntegrityError:
            raise ConflictError(
                "the change conflicts with another one made at the same time; try again"
            ) from None
        except OperationalError:
            raise UnavailableError("the database is busy; try again") from None

    def close(self) -> None:
        self.engine.dispose()
