"""automatic promotions: coupons applied without a code when the cart qualifies

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 18:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("coupons") as batch:
        batch.add_column(
            sa.Column("automatic", sa.Boolean(), server_default=sa.text("0"), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("coupons") as batch:
        batch.drop_column("automatic")
