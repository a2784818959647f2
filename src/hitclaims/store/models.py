"""The biller's workplace in tables (SQLAlchemy 2, typed). Schema changes go through Alembic.

The guarantees live in unique keys, not in application checks, so that they hold for two
billing runs (or two uploads) at once on PostgreSQL:
- `billed_days` (patient, per-diem family, date): a per-diem day is billed once, whoever the payer;
- `billed_items` (patient, item): a drug, nursing or supply line is billed once;
- `claims` has at most one current claim per claim key (a partial unique index);
- `remittances` (payer, trace number): an 835 payment is posted once.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

MONEY = Numeric(12, 2)


class UtcDateTime(TypeDecorator[datetime]):
    """Timestamps come back aware (UTC) from every database: SQLite stores them without a zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10))  # admin | biller | viewer
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class UserSession(Base):
    """A signed-in session: only the token's digest is stored."""

    __tablename__ = "sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # The last request made with it: a session idle for longer than the idle timeout is over.
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime())
    user: Mapped[User] = relationship()


class SignInFailure(Base):
    """A failed sign-in, by user name and client address: what throttling counts."""

    __tablename__ = "sign_in_failures"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class AuditEntry(Base):
    """Who changed what, when. Record ids only, never personal data."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    username: Mapped[str] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(80))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Patient(Base):
    __tablename__ = "patients"
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_key: Mapped[str] = mapped_column(String(30), unique=True)
    last_name: Mapped[str] = mapped_column(String(60))
    first_name: Mapped[str] = mapped_column(String(60))


class EpisodeRecord(Base):
    __tablename__ = "episodes"
    id: Mapped[int] = mapped_column(primary_key=True)
    episode_key: Mapped[str] = mapped_column(String(30), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    payer_id: Mapped[str] = mapped_column(String(60))
    current_version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    patient: Mapped[Patient] = relationship()
    versions: Mapped[list[EpisodeVersion]] = relationship(
        back_populates="episode", order_by="EpisodeVersion.version"
    )


class EpisodeVersion(Base):
    """Every imported version is kept: a claim points at the records it was billed from."""

    __tablename__ = "episode_versions"
    __table_args__ = (UniqueConstraint("episode_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id"))
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]]
    content_digest: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(10))  # json | fhir
    notes: Mapped[list[Any]] = mapped_column(default=list)
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime())
    imported_by: Mapped[str] = mapped_column(String(60))
    episode: Mapped[EpisodeRecord] = relationship(back_populates="versions")


class PolicyRecord(Base):
    """The payer policies in use, as their YAML text (one row per file version)."""

    __tablename__ = "payer_policies"
    __table_args__ = (UniqueConstraint("payer_id", "effective_from"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    payer_id: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(100))
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    source_file: Mapped[str] = mapped_column(String(200))
    yaml_text: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(UtcDateTime())


class BillingRun(Base):
    __tablename__ = "billing_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    as_of: Mapped[date] = mapped_column(Date)
    scope: Mapped[list[Any]] = mapped_column(default=list)  # episode keys; empty: all
    status: Mapped[str] = mapped_column(String(10))  # running | done | failed
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    started_by: Mapped[str] = mapped_column(String(60))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ClaimRecord(Base):
    __tablename__ = "claims"
    __table_args__ = (
        # At most one current claim per claim key, whatever runs race: the database decides.
        # A void (frequency 8) stands beside the claim key's new claim, so it is not counted.
        Index(
            "uq_claims_current_key",
            "claim_key",
            unique=True,
            sqlite_where=text("is_current AND frequency_code <> '8'"),
            postgresql_where=text("is_current AND frequency_code <> '8'"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    claim_key: Mapped[str] = mapped_column(String(40), index=True)
    is_current: Mapped[bool] = mapped_column(Boolean)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("billing_runs.id"))
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id"), index=True)
    episode_version_id: Mapped[int] = mapped_column(ForeignKey("episode_versions.id"))
    payer_id: Mapped[str] = mapped_column(String(60), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), index=True)
    frequency_code: Mapped[str] = mapped_column(String(1))
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"))
    total_charge: Mapped[Decimal] = mapped_column(MONEY)
    content: Mapped[dict[str, Any]]
    content_digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    interchange_id: Mapped[int | None] = mapped_column(ForeignKey("interchanges.id"))
    # When it first went to the payer (A/R ages from here) and what the payer's money says of it.
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    payment_state: Mapped[str | None] = mapped_column(String(15))
    lines: Mapped[list[ClaimLineRecord]] = relationship(order_by="ClaimLineRecord.line_number")
    findings: Mapped[list[FindingRecord]] = relationship()
    held: Mapped[list[HeldDayRecord]] = relationship()
    events: Mapped[list[ClaimEvent]] = relationship(order_by="ClaimEvent.id")
    episode: Mapped[EpisodeRecord] = relationship()


class ClaimLineRecord(Base):
    __tablename__ = "claim_lines"
    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    line_number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))
    code: Mapped[str] = mapped_column(String(5), index=True)
    modifiers: Mapped[str] = mapped_column(String(20))
    service_from: Mapped[date] = mapped_column(Date)
    service_to: Mapped[date] = mapped_column(Date)
    units: Mapped[int] = mapped_column(Integer)
    charge: Mapped[Decimal] = mapped_column(MONEY)
    ndc: Mapped[str | None] = mapped_column(String(11))


class FindingRecord(Base):
    __tablename__ = "claim_findings"
    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    rule: Mapped[str] = mapped_column(String(40), index=True)
    severity: Mapped[str] = mapped_column(String(7))
    holds: Mapped[str] = mapped_column(String(6))
    day: Mapped[date | None] = mapped_column(Date)
    record: Mapped[str] = mapped_column(String(120))
    message: Mapped[str] = mapped_column(Text)


class HeldDayRecord(Base):
    __tablename__ = "held_days"
    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    rule: Mapped[str] = mapped_column(String(40))


class ClaimEvent(Base):
    """Every change of a claim's state, with who and when."""

    __tablename__ = "claim_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    username: Mapped[str] = mapped_column(String(60))
    from_status: Mapped[str | None] = mapped_column(String(10))
    to_status: Mapped[str] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(Text, default="")


class BilledDayRecord(Base):
    """The billed-day ledger: a per-diem day of one patient and therapy family, once, whoever the
    payer (the payer is kept to tell a second payer's claim which claim has the day)."""

    __tablename__ = "billed_days"
    __table_args__ = (UniqueConstraint("patient_key", "family", "service_date", name="uq_billed_day_once"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_key: Mapped[str] = mapped_column(String(30))
    family: Mapped[str] = mapped_column(String(30))
    service_date: Mapped[date] = mapped_column(Date)
    payer_id: Mapped[str] = mapped_column(String(60))
    code: Mapped[str] = mapped_column(String(5))
    authorization: Mapped[str | None] = mapped_column(String(50), index=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)


class BilledItemRecord(Base):
    """Drug, nursing and supply services billed: each once per patient, whoever the payer."""

    __tablename__ = "billed_items"
    __table_args__ = (UniqueConstraint("patient_key", "item_key", name="uq_billed_item_once"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_key: Mapped[str] = mapped_column(String(30))
    payer_id: Mapped[str] = mapped_column(String(60))
    item_key: Mapped[str] = mapped_column(String(200))
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)


class Interchange(Base):
    """An exported 837 batch; its id is the interchange control number (ISA13)."""

    __tablename__ = "interchanges"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(60))
    claim_count: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)


class RemittanceRecord(Base):
    """One 835 payment (ST-SE), kept with the file it came in: posted, or held for a biller."""

    __tablename__ = "remittances"
    __table_args__ = (UniqueConstraint("payer_id", "trace_number", name="uq_remittance_trace"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    payer_id: Mapped[str] = mapped_column(String(80))
    payer_name: Mapped[str] = mapped_column(String(60))
    trace_number: Mapped[str] = mapped_column(String(80))
    paid_on: Mapped[date | None] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    method: Mapped[str] = mapped_column(String(3))
    balanced: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(10), index=True)  # posted | held
    findings: Mapped[list[Any]] = mapped_column(default=list)
    file_name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)  # which ST-SE of the file
    source: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    received_by: Mapped[str] = mapped_column(String(60))
    posted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    posted_by: Mapped[str | None] = mapped_column(String(60))
    payments: Mapped[list[ClaimPaymentRecord]] = relationship(order_by="ClaimPaymentRecord.position")


class ClaimPaymentRecord(Base):
    """What one CLP paid on one of our claims (a reversal with negative amounts), or why it
    matched none (`claim_id` empty, `reason` says why)."""

    __tablename__ = "claim_payments"
    id: Mapped[int] = mapped_column(primary_key=True)
    remittance_id: Mapped[int] = mapped_column(ForeignKey("remittances.id"), index=True)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    claim_key: Mapped[str] = mapped_column(String(40))
    status_code: Mapped[str] = mapped_column(String(2))
    state: Mapped[str] = mapped_column(String(15))
    charge: Mapped[Decimal] = mapped_column(MONEY)
    paid: Mapped[Decimal] = mapped_column(MONEY)
    patient_responsibility: Mapped[Decimal] = mapped_column(MONEY)  # CLP05, as the payer states it
    # Where the rest of the charge went, from the claim's and lines' adjustments.
    contractual: Mapped[Decimal] = mapped_column(MONEY)
    prior_payers: Mapped[Decimal] = mapped_column(MONEY)
    denied: Mapped[Decimal] = mapped_column(MONEY)
    payer_claim_id: Mapped[str] = mapped_column(String(50))
    reason: Mapped[str | None] = mapped_column(Text)
    posted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    lines: Mapped[list[LinePaymentRecord]] = relationship(order_by="LinePaymentRecord.position")
    adjustments: Mapped[list[AdjustmentRecord]] = relationship(
        primaryjoin="and_(AdjustmentRecord.claim_payment_id == ClaimPaymentRecord.id, "
        "AdjustmentRecord.line_payment_id.is_(None))",
        viewonly=True,
    )


class LinePaymentRecord(Base):
    """What one SVC paid on one of our lines, split by where the charge went."""

    __tablename__ = "line_payments"
    id: Mapped[int] = mapped_column(primary_key=True)
    claim_payment_id: Mapped[int] = mapped_column(ForeignKey("claim_payments.id"), index=True)
    claim_line_id: Mapped[int | None] = mapped_column(ForeignKey("claim_lines.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    line_number: Mapped[int | None] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(10))
    modifiers: Mapped[str] = mapped_column(String(20))
    charge: Mapped[Decimal] = mapped_column(MONEY)
    paid: Mapped[Decimal] = mapped_column(MONEY)
    contractual: Mapped[Decimal] = mapped_column(MONEY)
    patient_responsibility: Mapped[Decimal] = mapped_column(MONEY)
    prior_payers: Mapped[Decimal] = mapped_column(MONEY)
    denied: Mapped[Decimal] = mapped_column(MONEY)
    state: Mapped[str] = mapped_column(String(15))
    matched_by: Mapped[str | None] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(Text)
    adjustments: Mapped[list[AdjustmentRecord]] = relationship(viewonly=True)


class AdjustmentRecord(Base):
    """One CAS triple, on a claim payment or on one of its lines."""

    __tablename__ = "payment_adjustments"
    id: Mapped[int] = mapped_column(primary_key=True)
    claim_payment_id: Mapped[int] = mapped_column(ForeignKey("claim_payments.id"), index=True)
    line_payment_id: Mapped[int | None] = mapped_column(ForeignKey("line_payments.id"), index=True)
    group: Mapped[str] = mapped_column(String(2))
    reason: Mapped[str] = mapped_column(String(5), index=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    quantity: Mapped[Decimal | None] = mapped_column(Numeric(15, 2))
    # Set when writing, so a line and its adjustments go to the database in one flush.
    line_payment: Mapped[LinePaymentRecord | None] = relationship()
