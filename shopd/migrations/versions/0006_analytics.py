"""visit counters: page views per day and thing seen, daily visitors as salted hashes

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 09:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "page_views",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("views", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "kind", "key"),
    )
    op.create_table(
        "daily_visitors",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("visitor", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("day", "visitor"),
    )


def downgrade() -> None:
    op.drop_table("daily_visitors")
    op.drop_table("page_views")
