"""Remittance files, without the store: read 835s and match them to a claims file, and write the
835 a simulated payer would send for our claims (for the demo and the tests)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

from hitclaims.core.adjudication import SimulatorSettings, adjudicate
from hitclaims.core.claim import Claim
from hitclaims.core.errors import InputError
from hitclaims.core.matching import match_remittance
from hitclaims.formats import remit_report
from hitclaims.formats.remit_report import RemitReading
from hitclaims.formats.result_json import read_json
from hitclaims.formats.x12.envelope import Envelope
from hitclaims.formats.x12.remit_835 import read_835
from hitclaims.formats.x12.write_835 import write_835
from hitclaims.inputs.loading import read_text

__all__ = ["claims_file", "read_remittances", "report", "simulate_835"]


def claims_file(path: Path) -> list[Claim]:
    """The claims of a result document (`hitclaims bill` JSON)."""
    try:
        return list(read_json(read_text(path)).claims)
    except InputError:
        raise
    except ValueError:
        raise InputError(
            str(path), None, None, "not a claims result document (hitclaims bill JSON)"
        ) from None


def read_remittances(paths: Sequence[Path], claims: Sequence[Claim] | None) -> list[RemitReading]:
    """Every remittance of every file, matched against `claims` when given. One unreadable file
    stops everything: nothing is half-read."""
    readings = []
    for path in paths:
        for remit in read_835(read_text(path), str(path)):
            match = match_remittance(remit, claims) if claims is not None else None
            readings.append(RemitReading(remit, match))
    return readings


def report(readings: Sequence[RemitReading], fmt: str) -> str:
    return remit_report.render_json(readings) if fmt == "json" else remit_report.render_text(readings)


def simulate_835(
    claims: Sequence[Claim],
    paid_on: date,
    seed: int = 0,
    patient_share: Decimal = Decimal(0),
    deny_authorization: frozenset[str] = frozenset(),
    deny_timely_filing: frozenset[str] = frozenset(),
) -> str:
    """The 835 the payers of these claims would send: the fee schedule paid, the patient's share
    taken where given, and the chosen claims or lines (`CLAIM` or `CLAIM#LINE`) denied."""
    shares = {c.payer_id: patient_share for c in claims} if patient_share else {}
    settings = SimulatorSettings(
        paid_on,
        seed=seed,
        patient_share=shares,
        deny_authorization=deny_authorization,
        deny_timely_filing=deny_timely_filing,
    )
    remits = adjudicate(claims, settings)
    if not remits:
        raise InputError(
            "claims", None, "status", "no claim is ready or submitted: nothing for a payer to answer"
        )
    payer = claims[0].payer.x12_payer_id
    receiver = claims[0].provider.npi
    envelope = Envelope(payer, receiver, datetime.combine(paid_on, time(8, 0)), 1 + seed % 999_999_998)
    return write_835(remits, envelope)
