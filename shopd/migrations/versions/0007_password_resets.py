"""password resets by e-mail link

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 09:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shopd.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "password_resets",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("created_at", shopd.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", shopd.db.UTCDateTime(), nullable=False),
        sa.Column("used_at", shopd.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"]),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index(
        op.f("ix_password_resets_customer_id"), "password_resets", ["customer_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_password_resets_customer_id"), table_name="password_resets")
    op.drop_table("password_resets")
