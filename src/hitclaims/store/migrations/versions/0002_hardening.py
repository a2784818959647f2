"""Hardening: a per-diem day and a service are billed once per patient whoever the payer;
sessions remember their last use (idle timeout); failed sign-ins are kept for throttling.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 23:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("billed_days") as batch_op:
        batch_op.drop_constraint("uq_billed_day", type_="unique")
        batch_op.create_unique_constraint("uq_billed_day_once", ["patient_key", "family", "service_date"])
    with op.batch_alter_table("billed_items") as batch_op:
        batch_op.drop_constraint("uq_billed_item", type_="unique")
        batch_op.create_unique_constraint("uq_billed_item_once", ["patient_key", "item_key"])
    with op.batch_alter_table("sessions") as batch_op:
        batch_op.add_column(sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE sessions SET last_seen_at = created_at")
    with op.batch_alter_table("sessions") as batch_op:
        batch_op.alter_column("last_seen_at", nullable=False)
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=60), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sign_in_failures") as batch_op:
        batch_op.create_index(batch_op.f("ix_sign_in_failures_username"), ["username"], unique=False)
        batch_op.create_index(batch_op.f("ix_sign_in_failures_address"), ["address"], unique=False)
        batch_op.create_index(batch_op.f("ix_sign_in_failures_at"), ["at"], unique=False)


def downgrade() -> None:
    op.drop_table("sign_in_failures")
    with op.batch_alter_table("sessions") as batch_op:
        batch_op.drop_column("last_seen_at")
    with op.batch_alter_table("billed_items") as batch_op:
        batch_op.drop_constraint("uq_billed_item_once", type_="unique")
        batch_op.create_unique_constraint("uq_billed_item", ["patient_key", "payer_id", "item_key"])
    with op.batch_alter_table("billed_days") as batch_op:
        batch_op.drop_constraint("uq_billed_day_once", type_="unique")
        batch_op.create_unique_constraint(
            "uq_billed_day", ["patient_key", "family", "service_date", "payer_id"]
        )
