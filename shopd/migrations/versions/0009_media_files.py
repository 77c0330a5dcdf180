"""uploaded images in the database, for every app server and every backup

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 18:00:00
"""

from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

import shopd.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "media_files",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column(
            "data",
            sa.LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql", "mariadb"),
            nullable=False,
        ),
        sa.Column("created_at", shopd.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    _copy_uploaded_files(table)


def _copy_uploaded_files(table: sa.Table) -> None:
    """Images uploaded before this revision are on the disk of the app server that took them;
    the one that migrates brings its own into the table."""
    from shopd.config import Settings  # the running shop's settings: where its media are

    folder = Settings().media_dir / "products"
    if not folder.is_dir():
        return
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    rows = [
        {"name": f"products/{path.name}", "data": path.read_bytes(), "created_at": now}
        for path in sorted(Path(folder).iterdir())
        if path.is_file() and not path.name.endswith(".part")
    ]
    if rows:
        op.bulk_insert(table, rows)


def downgrade() -> None:
    op.drop_table("media_files")
