"""Billing many episodes: the glue between loaded inputs and the pure engine.

Shared by the command line, the API and batch mode. One unusable episode never stops the others;
it is reported with its file, record and field, and nothing is billed from it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from hitclaims.catalog import Catalog
from hitclaims.claim import Claim, Result
from hitclaims.days import Period
from hitclaims.engine import bill_episode
from hitclaims.loading import InputError, PolicyBook, read_episode
from hitclaims.provider import Provider
from hitclaims.records import Episode


@dataclass(frozen=True)
class Setup:
    """Everything billing needs besides the episodes: loaded once, used for every episode."""

    catalog: Catalog
    policies: PolicyBook
    provider: Provider


@dataclass
class Outcome:
    claims: list[Claim] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)

    def result(self) -> Result:
        return Result(claims=sorted(self.claims, key=lambda c: (c.claim_id, c.period.from_)))


def bill_one(name: str, episode: Episode, setup: Setup, period: Period, as_of: date) -> list[Claim]:
    try:
        policy = setup.policies.for_payer(episode.coverage.payer_id, period.start)
    except LookupError as exc:
        raise InputError(name, "coverage", "payer_id", str(exc)) from None
    return bill_episode(episode, policy, setup.catalog, setup.provider, period, as_of)


def bill_files(
    paths: Iterable[Path],
    setup: Setup,
    period: Period,
    as_of: date,
    advance: Callable[[], None] = lambda: None,
) -> Outcome:
    outcome = Outcome()
    for path in paths:
        try:
            episode = read_episode(path, setup.catalog)
            outcome.claims.extend(bill_one(str(path), episode, setup, period, as_of))
        except InputError as exc:
            outcome.errors.append(exc)
        advance()
    return outcome
