"""The workplace: one database plus what billing needs (catalogs, policies, the provider).

Opening it migrates the database and loads the policy files into it; billing reads the policies
back from the database, so every run bills with the policies on record.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import sessionmaker

from hitclaims.core.catalog import Catalog
from hitclaims.core.provider import Provider
from hitclaims.inputs.catalog_files import load_catalog
from hitclaims.inputs.loading import bundled_policy_folders, bundled_provider_file, load_provider
from hitclaims.services.billing import Setup
from hitclaims.store.db import make_engine, migrate, session_factory
from hitclaims.store.models import PolicyRecord
from hitclaims.store.policies import policy_book, sync_policies


@dataclass
class Workplace:
    engine: Engine
    factory: sessionmaker[DbSession]
    catalog: Catalog
    provider: Provider
    zone: ZoneInfo  # the pharmacy's own time zone: 837 timestamps, "today"
    _setup: Setup | None = None
    _stamp: object = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def open(
        cls,
        url: str | None = None,
        provider_file: Path | None = None,
        policy_folders: Sequence[Path | Traversable] | None = None,
    ) -> Workplace:
        engine = make_engine(url)
        migrate(engine)
        factory = session_factory(engine)
        catalog = load_catalog()
        provider_path = provider_file or _env_path("HITCLAIMS_PROVIDER")
        provider = load_provider(provider_path or bundled_provider_file())
        with factory() as db, db.begin():
            sync_policies(db, policy_folders or bundled_policy_folders(), catalog, "system")
        zone = ZoneInfo(os.environ.get("HITCLAIMS_TIMEZONE", "America/Chicago"))
        return cls(engine, factory, catalog, provider, zone)

    def setup(self) -> Setup:
        """Catalogs, the policies on record and the provider; reread when the policies change."""
        with self.factory() as db:
            stamp = db.execute(select(func.count(), func.max(PolicyRecord.loaded_at))).one()
            with self._lock:
                if self._setup is None or stamp != self._stamp:
                    self._setup = Setup(self.catalog, policy_book(db, self.catalog), self.provider)
                    self._stamp = tuple(stamp)
                return self._setup

    def close(self) -> None:
        self.engine.dispose()


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None
