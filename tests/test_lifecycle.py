"""The claim lifecycle, decided without a database: what billing a period again does to the
claims on record, and which moves a biller may make."""

from __future__ import annotations

import json
from datetime import date

import pytest

from hitclaims.core import lifecycle
from hitclaims.core.claim import Claim
from hitclaims.core.days import Period
from hitclaims.core.engine import bill_episode
from hitclaims.core.errors import ConflictError
from hitclaims.core.lifecycle import NewClaim, StoredClaim, VoidOf, billing_digest, decide
from hitclaims.core.vocabulary import CLAIM_STATUSES, ClaimStatus
from hitclaims.inputs.catalog_files import load_catalog
from hitclaims.inputs.loading import (
    bundled_policy_folders,
    bundled_provider_file,
    load_policies,
    load_provider,
    parse_episode,
)

from .builders import CATALOG, episode_dict

MARCH = Period(date(2025, 3, 1), date(2025, 3, 31))


def _claim(**changes: object) -> Claim:
    data = episode_dict(**changes)
    data["coverage"]["payer_id"] = "nhia-commercial-access"
    episode = parse_episode("test", json.dumps(data), CATALOG)
    catalog = load_catalog()
    policy = load_policies(bundled_policy_folders(), catalog).for_payer("nhia-commercial-access", MARCH.start)
    provider = load_provider(bundled_provider_file())
    (claim,) = bill_episode(episode, policy, catalog, provider, MARCH, date(2025, 4, 2))
    return claim


CLAIM = _claim()
EMPTY = CLAIM.model_copy(update={"lines": []})
# What the payer sees changed: one day fewer on the per-diem line.
CHANGED = CLAIM.model_copy(
    update={"lines": [CLAIM.lines[0].model_copy(update={"units": CLAIM.lines[0].units - 1})]}
)


def _stored(claim: Claim, status: ClaimStatus, key: str = "EP-T1-202503") -> StoredClaim:
    return StoredClaim(key, status, billing_digest(claim), claim.payer_id)


def test_a_first_billing_creates_an_original_claim() -> None:
    decision = decide([], [CLAIM])
    assert decision.outcome == "created"
    assert decision.writes == (NewClaim(CLAIM, None),)
    assert decision.retired == ()


def test_billing_again_with_nothing_new_for_the_payer_changes_nothing() -> None:
    later = CLAIM.model_copy(update={"as_of": date(2025, 5, 1)})  # only the submission date moved
    decision = decide([_stored(CLAIM, "submitted")], [later])
    assert (decision.outcome, decision.writes, decision.retired) == ("unchanged", (), ())


def test_a_claim_never_sent_is_superseded_and_becomes_void() -> None:
    changed = CHANGED
    decision = decide([_stored(CLAIM, "ready")], [changed])
    assert decision.outcome == "superseded"
    assert decision.retired == (0,)
    assert decision.voided_unsent == (0,)
    assert decision.writes == (NewClaim(changed, None),)


def test_a_sent_claim_is_replaced_part_by_part_with_frequency_7() -> None:
    changed = CHANGED
    decision = decide([_stored(CLAIM, "submitted")], [changed])
    assert decision.outcome == "replaced"
    assert decision.voided_unsent == ()
    assert decision.writes == (NewClaim(changed, 0),)
    replacement = lifecycle.as_replacement(changed, "EP-T1-202503")
    assert (replacement.frequency_code, replacement.original_claim_id) == ("7", "EP-T1-202503")


def test_a_sent_part_with_nothing_left_to_bill_is_voided_with_frequency_8() -> None:
    decision = decide([_stored(CLAIM, "submitted")], [EMPTY])
    assert decision.writes == (VoidOf(0), NewClaim(EMPTY, None))
    void = lifecycle.void_of(CLAIM, "EP-T1-202503")
    assert (void.frequency_code, void.original_claim_id, void.status) == ("8", "EP-T1-202503", "ready")
    assert void.lines == CLAIM.lines


def test_fewer_parts_after_sending_void_the_sent_parts_left_over() -> None:
    first, second = _stored(CLAIM, "submitted", "K-1"), _stored(CLAIM, "paid", "K-2")
    changed = CHANGED
    decision = decide([first, second], [changed])
    assert decision.writes == (NewClaim(changed, 0), VoidOf(1))


def test_a_new_part_beyond_the_sent_ones_is_an_original() -> None:
    more = CHANGED.model_copy(update={"claim_id": "EP-T1-202503-2"})
    decision = decide([_stored(CLAIM, "submitted")], [CHANGED, more])
    assert [type(w) for w in decision.writes] == [NewClaim, NewClaim]
    assert [w.replaces for w in decision.writes if isinstance(w, NewClaim)] == [0, None]


def test_the_digest_ignores_the_line_basis_and_the_submission_date() -> None:
    explained = CLAIM.model_copy(
        update={
            "lines": [ln.model_copy(update={"basis": ["another reason"]}) for ln in CLAIM.lines],
            "as_of": date(2026, 1, 1),
        }
    )
    assert billing_digest(explained) == billing_digest(CLAIM)
    assert billing_digest(CHANGED) != billing_digest(CLAIM)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("ready", "submitted"),
        ("ready", "void"),
        ("held", "void"),
        ("submitted", "paid"),
        ("denied", "submitted"),
    ],
)
def test_a_biller_may_make_the_moves_the_lifecycle_opens(before: ClaimStatus, after: str) -> None:
    assert lifecycle.check_move(before, after) == after


@pytest.mark.parametrize("before", CLAIM_STATUSES)
def test_every_other_move_is_a_conflict_naming_the_allowed_ones(before: ClaimStatus) -> None:
    for after in CLAIM_STATUSES:
        if after in lifecycle.moves_from(before):
            continue
        with pytest.raises(ConflictError, match=f"a {before} claim cannot become {after}") as caught:
            lifecycle.check_move(before, after)
        assert caught.value.field == "status"


def test_paid_and_void_are_final() -> None:
    assert lifecycle.moves_from("paid") == frozenset() == lifecycle.moves_from("void")


def test_a_payer_change_voids_what_the_old_payer_was_sent_and_sends_the_new_payer_an_original() -> None:
    new_payer = CLAIM.model_copy(update={"payer_id": "state-medicaid-daily"})
    decision = decide([_stored(CLAIM, "submitted")], [new_payer])
    assert decision.outcome == "payer_changed"
    assert decision.writes == (VoidOf(0), NewClaim(new_payer, None))  # never a frequency 7


def test_a_payer_change_before_sending_simply_supersedes() -> None:
    new_payer = CLAIM.model_copy(update={"payer_id": "state-medicaid-daily"})
    decision = decide([_stored(CLAIM, "ready")], [new_payer])
    assert decision.outcome == "superseded"
    assert decision.writes == (NewClaim(new_payer, None),)
