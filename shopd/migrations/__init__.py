"""Alembic migrations, driven from code so ``shopctl db upgrade`` needs no alembic.ini.

``alembic -c shopd/migrations/alembic.ini revision --autogenerate -m "..."`` makes a new one.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from shopd.db import make_engine

HERE = Path(__file__).resolve().parent


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _upgrade(connection: Connection, revision: str) -> None:
    command.upgrade(alembic_config(connection), revision)


async def current_revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_current)
    finally:
        await engine.dispose()


async def upgrade(url: str, revision: str = "head") -> tuple[str | None, str | None]:
    """Upgrade and return (revision before, revision after)."""
    # MariaDB notes that Alembic's named primary key of alembic_version is ignored; harmless.
    logging.getLogger("asyncmy").setLevel(logging.ERROR)
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            before = await conn.run_sync(_current)
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade, revision)
        async with engine.connect() as conn:
            after = await conn.run_sync(_current)
        return before, after
    finally:
        await engine.dispose()


def schema_diff(connection: Connection) -> list[Any]:
    """Differences between the live schema and the models (empty when migrations are complete)."""
    from alembic.autogenerate import compare_metadata

    from shopd.models import metadata

    ctx = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(ctx, metadata))
