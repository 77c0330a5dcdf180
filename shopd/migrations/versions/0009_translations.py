"""catalog translations beyond English, and the language an order was placed in

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRANSLATED = ("series", "categories", "products", "announcements")


def upgrade() -> None:
    for table in TRANSLATED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("translations", sa.JSON(), nullable=True))
    with op.batch_alter_table("orders") as batch:
        batch.add_column(
            sa.Column("language", sa.String(length=8), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("language")
    for table in TRANSLATED:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("translations")
