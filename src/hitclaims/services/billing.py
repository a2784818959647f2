"""Billing many episodes: the glue between loaded inputs and the pure engine.

Shared by the command line, the API and batch mode. One unusable episode never stops the others;
it is reported with its file, record and field, and nothing is billed from it. An episode whose
billing fails for any other reason is named with a plain sentence and the others go on. Every
ready claim is rendered alone before it leaves (`guard_sendable`): one whose 837 would break the
implementation guide is held, never handed out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Final

from hitclaims.core.catalog import Catalog
from hitclaims.core.claim import Claim, Result, held_by
from hitclaims.core.days import Period
from hitclaims.core.engine import History, bill_episode
from hitclaims.core.errors import InputError, UnusableInputError
from hitclaims.core.findings import Finding
from hitclaims.core.policy import PayerPolicy
from hitclaims.core.provider import Provider
from hitclaims.core.records import MAX_YEAR, MIN_YEAR, Episode
from hitclaims.formats.x12.claim_837p import certainly_valid_837, write_837
from hitclaims.formats.x12.envelope import default_envelope
from hitclaims.formats.x12.segments import element_problems
from hitclaims.inputs.loading import PolicyBook, is_fhir_bundle, parse_episode, read_text

log = logging.getLogger("hitclaims.billing")
EPISODE_FAILED: Final = (
    "could not be billed: an unexpected error stopped this file (nothing was billed from it;"
    " the other files were billed)"
)
X12_INVALID: Final = "claim.x12_invalid"


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


def policy_for(name: str, episode: Episode, setup: Setup, period: Period) -> PayerPolicy:
    try:
        return setup.policies.for_payer(episode.coverage.payer_id, period.start)
    except UnusableInputError as exc:
        raise InputError(name, "coverage", "payer_id", exc.message) from None


def bill_one(
    name: str, episode: Episode, setup: Setup, period: Period, as_of: date, history: History | None = None
) -> list[Claim]:
    """The episode's claims for the period, each ready one checked to render a valid 837.

    The one way into the engine: files, the batch, Spark and the store's runs (which pass what
    other claims already bill, `history`) all bill through here."""
    policy = policy_for(name, episode, setup, period)
    claims = bill_episode(episode, policy, setup.catalog, setup.provider, period, as_of, history)
    return guard_sendable(claims, setup)


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
    """Every file billed for the period; a file that cannot be billed is named in `errors`."""
    checked_period(period.start, period.end)
    outcome = FilesBilled()
    for path in paths:
        try:
            episode, notes, _ = parse_any(str(path), read_text(path), setup.catalog)
            if notes:
                outcome.notes.append((str(path), notes))
            outcome.claims.extend(bill_one(str(path), episode, setup, period, as_of))
        except InputError as exc:
            outcome.errors.append(exc)
        except Exception:  # one poison file must not stop a batch: it is named, the rest go on
            # Logged at debug level: the command line prints no traceback; a server log shows it.
            log.debug("billing %s failed", path, exc_info=True)
            outcome.errors.append(InputError(str(path), None, None, EPISODE_FAILED))
        advance()
    return outcome


def guard_sendable(claims: Sequence[Claim], setup: Setup) -> list[Claim]:
    """The claims, each ready one rendered alone as an 837 first: one whose segments would break
    an element's length, number format or the X12 character set is held (claim.x12_invalid),
    so that a ready claim always gives an 837 that passes validation."""
    checked = []
    for claim in claims:
        problems = _x12_problems(claim, setup.provider) if claim.status == "ready" else []
        if problems:
            checked.append(held_by(claim, _x12_finding(claim, problems, setup.catalog)))
        else:
            checked.append(claim)
    return checked


def _x12_problems(claim: Claim, provider: Provider) -> list[str]:
    envelope = default_envelope([claim], provider.receiver.id, claim.as_of)
    # Nearly every claim is judged on its segments' values; only one that might break is
    # rendered whole, so that the finding names what `element_problems` names.
    if certainly_valid_837(claim, envelope, provider.receiver.name):
        return []
    return element_problems(write_837([claim], envelope, provider.receiver.name))


def _x12_finding(claim: Claim, problems: Sequence[str], catalog: Catalog) -> Finding:
    # A payer's severity overrides do not apply: no policy makes a broken 837 sendable.
    rule = catalog.rules[X12_INVALID]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    message = f"the claim's 837 would not pass validation: {problems[0].rstrip('.')}{more}"
    return Finding(X12_INVALID, rule.severity, rule.holds, f"claim {claim.claim_id}", message)


def parse_day(text: str, field: str) -> date:
    """A date a person typed (an option, a form field): YYYY-MM-DD, or unusable input naming it."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UnusableInputError(f"{text!r} is not a date (YYYY-MM-DD)", field) from None


MAX_PERIOD_DAYS = 366  # a billing period is at most a year


def checked_period(first: date, last: date) -> Period:
    """A billing period as asked for by a person: ordered, at most a year, and within the years
    records may have (far-future days are refused, not computed)."""
    for day, name in ((first, "from"), (last, "to")):
        if not MIN_YEAR <= day.year <= MAX_YEAR:
            raise UnusableInputError(f"{day} is outside the years {MIN_YEAR} to {MAX_YEAR}", name)
    if last < first:
        raise UnusableInputError(f"{last} is before from {first}", "to")
    if (last - first).days > MAX_PERIOD_DAYS:
        raise UnusableInputError("a billing period is at most a year", "to")
    return Period(first, last)
