"""The database: SQLite in a file by default, PostgreSQL by URL (settings decide which).

The schema is created and kept current by Alembic migrations on first start, never by
`create_all`, so production databases and tests go through the same path. A new SQLite file
is created readable by its owner only (0600): it holds PHI. SQLite gives its -wal and -shm files
the database file's mode.
"""

from __future__ import annotations

import contextlib
import os
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

# The API serves requests on a thread pool of 40; every one may need a connection at once.
POOL_SIZE, POOL_OVERFLOW = 20, 30


def _create_private_file(url: str) -> None:
    """Create the SQLite file, owner-only, before SQLite would create it with the umask's mode.
    An existing file keeps the mode its operator gave it; memory and URI databases are left alone."""
    parsed = make_url(url)
    name = parsed.database
    if not name or name == ":memory:" or name.startswith("file:") or parsed.query.get("uri"):
        return
    path = Path(name)
    if path.exists() or not path.parent.is_dir():
        return  # a missing folder: SQLite's own error says so
    with contextlib.suppress(FileExistsError):  # created meanwhile by another start: its own mode
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        _create_private_file(url)
        # A billing run and a biller's page may write at once: wait for the lock, don't fail.
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            pool_size=POOL_SIZE,
            max_overflow=POOL_OVERFLOW,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("hitclaims.store") / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (creating it in an empty database)."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
