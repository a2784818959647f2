"""Billing results as Arrow tables: claims, lines, held days, findings and the day ledger.

Columnar and flat, so DuckDB, Polars or Spark read them without knowing hitclaims. Every table
starts with its sort key (`SORT_KEYS`): sorted by it, two engines' files compare equal. A claim
split in parts (over 50 lines) repeats its ledger, findings and holds on every part; the tables
hold them once, under the first part's claim id. Money is decimal(14, 2), never a float.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import pyarrow as pa

from hitclaims.core.claim import Claim

MONEY: Final = pa.decimal128(14, 2)
TEXTS: Final = pa.list_(pa.string())

SCHEMAS: Final[dict[str, pa.Schema]] = {
    "claims": pa.schema([
        ("claim_id", pa.string()), ("episode_id", pa.string()), ("patient_id", pa.string()),
        ("payer_id", pa.string()), ("payer_kind", pa.string()), ("x12_payer_id", pa.string()),
        ("status", pa.string()), ("part", pa.int16()), ("parts", pa.int16()),
        ("period_from", pa.date32()), ("period_to", pa.date32()), ("as_of", pa.date32()),
        ("line_count", pa.int32()), ("units", pa.int32()), ("total_charge", MONEY),
        ("expected_payment", MONEY), ("held_days", pa.int32()), ("findings", pa.int32()),
    ]),
    "lines": pa.schema([
        ("claim_id", pa.string()), ("line_number", pa.int16()), ("episode_id", pa.string()),
        ("payer_id", pa.string()), ("kind", pa.string()), ("code", pa.string()), ("modifiers", TEXTS),
        ("from", pa.date32()), ("to", pa.date32()), ("units", pa.int32()), ("unit_charge", MONEY),
        ("charge", MONEY), ("expected_payment", MONEY), ("place_of_service", pa.string()),
        ("ndc", pa.string()), ("ndc_quantity", pa.string()), ("ndc_unit", pa.string()),
        ("authorization", pa.string()), ("record", pa.string()), ("item_key", pa.string()),
    ]),
    "held_days": pa.schema([
        ("claim_id", pa.string()), ("date", pa.date32()), ("rule", pa.string()),
        ("episode_id", pa.string()), ("payer_id", pa.string()),
    ]),
    "findings": pa.schema([
        ("claim_id", pa.string()), ("finding_number", pa.int16()), ("episode_id", pa.string()),
        ("payer_id", pa.string()), ("rule", pa.string()), ("severity", pa.string()), ("holds", pa.string()),
        ("date", pa.date32()), ("record", pa.string()), ("message", pa.string()),
    ]),
    "ledger": pa.schema([
        ("claim_id", pa.string()), ("date", pa.date32()), ("episode_id", pa.string()),
        ("payer_id", pa.string()), ("billed", pa.bool_()), ("status", pa.string()), ("code", pa.string()),
        ("units", pa.int16()), ("held_by", TEXTS), ("reasons", TEXTS),
    ]),
}  # fmt: skip

# The columns that order each table's rows (the rest only break ties between duplicate inputs).
SORT_KEYS: Final[dict[str, tuple[str, ...]]] = {
    "claims": ("claim_id",),
    "lines": ("claim_id", "line_number"),
    "held_days": ("claim_id", "date", "rule"),
    "findings": ("claim_id", "finding_number"),
    "ledger": ("claim_id", "date"),
}
TABLES: Final = tuple(SCHEMAS)


class _Columns:
    """One table being filled column by column: far cheaper than a dict per row."""

    def __init__(self, schema: pa.Schema) -> None:
        self.schema = schema
        self.data: dict[str, list[Any]] = {name: [] for name in schema.names}

    def add(self, *values: Any) -> None:
        for column, value in zip(self.data.values(), values, strict=True):
            column.append(value)

    def table(self) -> pa.Table:
        return pa.Table.from_arrays(
            [pa.array(self.data[f.name], f.type) for f in self.schema], schema=self.schema
        )


def claim_tables(claims: Sequence[Claim]) -> dict[str, pa.Table]:
    """The five tables of a list of claims, rows in the claims' order."""
    tables = {name: _Columns(schema) for name, schema in SCHEMAS.items()}
    for claim in claims:
        _claim_row(tables["claims"], claim)
        for line in claim.lines:
            tables["lines"].add(
                claim.claim_id, line.line_number, claim.episode_id, claim.payer_id, line.kind, line.code,
                line.modifiers, line.from_, line.to, line.units, line.unit_charge, line.charge,
                line.expected_payment, line.place_of_service, line.ndc,
                None if line.ndc_quantity is None else f"{line.ndc_quantity:f}", line.ndc_unit,
                line.authorization, line.record, line.item_key,
            )  # fmt: skip
        # Parts of one claim share the ledger, findings and holds: keep them once, with part 1.
        if claim.part == 1:
            _episode_rows(tables, claim)
    return {name: columns.table() for name, columns in tables.items()}


def _claim_row(claims: _Columns, claim: Claim) -> None:
    claims.add(
        claim.claim_id, claim.episode_id, claim.patient.id, claim.payer_id, claim.payer.payer_kind,
        claim.payer.x12_payer_id, claim.status, claim.part, claim.parts, claim.period.from_,
        claim.period.to, claim.as_of, len(claim.lines), sum(line.units for line in claim.lines),
        claim.total_charge, claim.expected_payment, len(claim.held_days), len(claim.findings),
    )  # fmt: skip


def _episode_rows(tables: dict[str, _Columns], claim: Claim) -> None:
    cid, eid, pid = claim.claim_id, claim.episode_id, claim.payer_id
    for held in claim.held_days:
        tables["held_days"].add(cid, held.date, held.rule, eid, pid)
    for number, f in enumerate(claim.findings, start=1):
        tables["findings"].add(
            cid, number, eid, pid, f.rule, f.severity, f.holds, f.date, f.record, f.message
        )
    for row in claim.ledger:
        tables["ledger"].add(
            cid, row.date, eid, pid, row.billed, row.status, row.code, row.units, row.held_by, row.reasons
        )
