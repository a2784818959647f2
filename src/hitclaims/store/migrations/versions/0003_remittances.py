"""Remittances: 835 payments posted once per payer and trace number, what each CLP and SVC paid
on our claims and lines with their adjustments, and on each claim when it was first submitted and
what the payer's money says of it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 23:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "remittances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payer_id", sa.String(length=80), nullable=False),
        sa.Column("payer_name", sa.String(length=60), nullable=False),
        sa.Column("trace_number", sa.String(length=80), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("method", sa.String(length=3), nullable=False),
        sa.Column("balanced", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_by", sa.String(length=60), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("posted_by", sa.String(length=60), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("payer_id", "trace_number", name="uq_remittance_trace"),
    )
    with op.batch_alter_table("remittances", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_remittances_status"), ["status"], unique=False)

    op.create_table(
        "claim_payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("remittance_id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("claim_key", sa.String(length=40), nullable=False),
        sa.Column("status_code", sa.String(length=2), nullable=False),
        sa.Column("state", sa.String(length=15), nullable=False),
        sa.Column("charge", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("paid", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("patient_responsibility", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("contractual", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("prior_payers", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("denied", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("payer_claim_id", sa.String(length=50), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["claims.id"],
        ),
        sa.ForeignKeyConstraint(
            ["remittance_id"],
            ["remittances.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("claim_payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_payments_claim_id"), ["claim_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_claim_payments_remittance_id"), ["remittance_id"], unique=False)

    op.create_table(
        "line_payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_payment_id", sa.Integer(), nullable=False),
        sa.Column("claim_line_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("modifiers", sa.String(length=20), nullable=False),
        sa.Column("charge", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("paid", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("contractual", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("patient_responsibility", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("prior_payers", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("denied", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("state", sa.String(length=15), nullable=False),
        sa.Column("matched_by", sa.String(length=12), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["claim_line_id"],
            ["claim_lines.id"],
        ),
        sa.ForeignKeyConstraint(
            ["claim_payment_id"],
            ["claim_payments.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("line_payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_line_payments_claim_line_id"), ["claim_line_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_line_payments_claim_payment_id"), ["claim_payment_id"], unique=False
        )

    op.create_table(
        "payment_adjustments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_payment_id", sa.Integer(), nullable=False),
        sa.Column("line_payment_id", sa.Integer(), nullable=True),
        sa.Column("group", sa.String(length=2), nullable=False),
        sa.Column("reason", sa.String(length=5), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=15, scale=2), nullable=True),
        sa.ForeignKeyConstraint(
            ["claim_payment_id"],
            ["claim_payments.id"],
        ),
        sa.ForeignKeyConstraint(
            ["line_payment_id"],
            ["line_payments.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("payment_adjustments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_adjustments_claim_payment_id"), ["claim_payment_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_payment_adjustments_line_payment_id"), ["line_payment_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_payment_adjustments_reason"), ["reason"], unique=False)

    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("payment_state", sa.String(length=15), nullable=True))

    # A/R ages from the first time a claim went to the payer.
    op.execute(
        "UPDATE claims SET submitted_at = (SELECT min(e.at) FROM claim_events e"
        " WHERE e.claim_id = claims.id AND e.to_status = 'submitted')"
    )


def downgrade() -> None:
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_column("payment_state")
        batch_op.drop_column("submitted_at")

    with op.batch_alter_table("payment_adjustments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_adjustments_reason"))
        batch_op.drop_index(batch_op.f("ix_payment_adjustments_line_payment_id"))
        batch_op.drop_index(batch_op.f("ix_payment_adjustments_claim_payment_id"))

    op.drop_table("payment_adjustments")
    with op.batch_alter_table("line_payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_line_payments_claim_payment_id"))
        batch_op.drop_index(batch_op.f("ix_line_payments_claim_line_id"))

    op.drop_table("line_payments")
    with op.batch_alter_table("claim_payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_payments_remittance_id"))
        batch_op.drop_index(batch_op.f("ix_claim_payments_claim_id"))

    op.drop_table("claim_payments")
    with op.batch_alter_table("remittances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_remittances_status"))

    op.drop_table("remittances")
