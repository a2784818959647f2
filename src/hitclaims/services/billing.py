"""Billing many episodes: the glue between loaded inputs and the pure engine.

Shared by the command line, the API and batch mode. One unusable episode never stops the others;
it is reported with its file, record and field, and nothing is billed from it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from hitclaims.core.catalog import Catalog
from hitclaims.core.claim import Claim, Result
from hitclaims.core.days import Period
from hitclaims.core.engine import bill_episode
from hitclaims.core.errors import InputError, UnusableInputError
from hitclaims.core.provider import Provider
from hitclaims.core.records import Episode
from hitclaims.inputs.loading import PolicyBook, is_fhir_bundle, parse_episode, read_text


@dataclass(frozen=True)
class Setup:
    """Everything billing needs besides the episodes: loaded once, used for every episode."""

    catalog: Catalog
    policies: PolicyBook
    provider: Provider


@dataclass
class FilesBilled:
    claims: list[Claim] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    # Per file, what an imported FHIR Bundle held that could not be mapped.
    notes: list[tuple[str, list[str]]] = field(default_factory=list)

    def merge(self, other: FilesBilled) -> None:
        self.claims.extend(other.claims)
        self.errors.extend(other.errors)
        self.notes.extend(other.notes)

    def result(self) -> Result:
        return Result(claims=sorted(self.claims, key=lambda c: (c.claim_id, c.period.from_)))


def bill_one(name: str, episode: Episode, setup: Setup, period: Period, as_of: date) -> list[Claim]:
    try:
        policy = setup.policies.for_payer(episode.coverage.payer_id, period.start)
    except UnusableInputError as exc:
        raise InputError(name, "coverage", "payer_id", exc.message) from None
    return bill_episode(episode, policy, setup.catalog, setup.provider, period, as_of)


def parse_any(name: str, text: str, catalog: Catalog) -> tuple[Episode, list[str], str]:
    """An episode JSON or a FHIR Bundle: the episode, what the Bundle held that could not be
    mapped, and which of the two it was ("json" or "fhir")."""
    if is_fhir_bundle(text):
        # fhir.resources takes a fifth of a second to import: only a Bundle pays for it.
        from hitclaims.formats.fhir.episode_in import bundle_to_episode

        episode, notes = bundle_to_episode(name, text, catalog)
        return episode, notes, "fhir"
    return parse_episode(name, text, catalog), [], "json"


def bill_files(
    paths: Iterable[Path],
    setup: Setup,
    period: Period,
    as_of: date,
    advance: Callable[[], None] = lambda: None,
) -> FilesBilled:
    outcome = FilesBilled()
    for path in paths:
        try:
            episode, notes, _ = parse_any(str(path), read_text(path), setup.catalog)
            if notes:
                outcome.notes.append((str(path), notes))
            outcome.claims.extend(bill_one(str(path), episode, setup, period, as_of))
        except InputError as exc:
            outcome.errors.append(exc)
        advance()
    return outcome


MAX_PERIOD_DAYS = 366  # a billing period is at most a year


def checked_period(first: date, last: date) -> Period:
    """A billing period as asked for by a person: ordered, and at most a year."""
    if last < first:
        raise UnusableInputError(f"{last} is before from {first}", "to")
    if (last - first).days > MAX_PERIOD_DAYS:
        raise UnusableInputError("a billing period is at most a year", "to")
    return Period(first, last)
