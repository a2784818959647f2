"""Settings and the clock: read once, at an entry point, and handed to everything else.

The environment is read here and nowhere else (HITCLAIMS_DATABASE_URL, HITCLAIMS_PROVIDER,
HITCLAIMS_TIMEZONE), and "today" is always the pharmacy's date in its own time zone, whether the
command line, the server or a billing run asks. The core never reads a clock: it receives dates.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hitclaims.core.errors import UnusableInputError

DEFAULT_DATABASE_URL = "sqlite:///hitclaims.db"
DEFAULT_ZONE = "America/Chicago"
DEFAULT_SESSION_IDLE_MINUTES = 30

__all__ = ["DEFAULT_DATABASE_URL", "Clock", "Settings"]


@dataclass(frozen=True)
class Clock:
    """The pharmacy's clock: its time zone, today's date there, and the current instant."""

    zone: ZoneInfo

    def today(self) -> date:
        return datetime.now(self.zone).date()

    def now(self) -> datetime:
        return datetime.now(UTC)

    def local_now(self) -> datetime:
        return datetime.now(self.zone)


@dataclass(frozen=True)
class Settings:
    database_url: str
    provider_file: Path | None  # None: the bundled example provider (the demo and `bill` only)
    zone: ZoneInfo
    session_idle_minutes: int = DEFAULT_SESSION_IDLE_MINUTES  # a session unused this long is over

    @property
    def clock(self) -> Clock:
        return Clock(self.zone)

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        database_url: str | None = None,
        provider_file: Path | None = None,
    ) -> Settings:
        """The settings from the environment; an explicit argument (a command-line option) wins."""
        env = os.environ if environ is None else environ
        provider = provider_file or (
            Path(env["HITCLAIMS_PROVIDER"]) if env.get("HITCLAIMS_PROVIDER") else None
        )
        return cls(
            database_url=database_url or env.get("HITCLAIMS_DATABASE_URL") or DEFAULT_DATABASE_URL,
            provider_file=provider,
            zone=_zone(env.get("HITCLAIMS_TIMEZONE") or DEFAULT_ZONE),
            session_idle_minutes=_minutes(env.get("HITCLAIMS_SESSION_IDLE_MINUTES")),
        )


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise UnusableInputError(
            "HITCLAIMS_TIMEZONE is not an IANA time zone (for example America/Chicago)", "HITCLAIMS_TIMEZONE"
        ) from None


def _minutes(text: str | None) -> int:
    if not text:
        return DEFAULT_SESSION_IDLE_MINUTES
    if not text.isdigit() or not 1 <= int(text) <= 24 * 60:
        raise UnusableInputError(
            "HITCLAIMS_SESSION_IDLE_MINUTES is a whole number of minutes from 1 to 1440",
            "HITCLAIMS_SESSION_IDLE_MINUTES",
        )
    return int(text)
