"""What every ``shopctl`` command needs: its settings, a database session, and async work run
with clear messages instead of tracebacks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from shopd.cli import preflight
from shopd.cli.terminal import fail
from shopd.config import Settings, get_settings
from shopd.db import Database
from shopd.errors import DomainError

T = TypeVar("T")


def run(coro_fn: Callable[[], Awaitable[T]]) -> T:
    """Run async work, turning preflight and domain errors into clear messages."""
    try:
        return asyncio.run(coro_fn())  # type: ignore[arg-type]
    except preflight.PreflightError as exc:
        raise fail(exc.message, exc.hint) from None
    except DomainError as exc:
        raise fail(exc.message) from None


def settings_or_fail() -> Settings:
    try:
        settings = get_settings()
    except Exception as exc:  # pydantic ValidationError: show which variable is wrong
        raise fail(f"invalid configuration: {exc}", "check the SHOPD_* variables") from None
    preflight.check_database_url(settings.effective_database_url)
    return settings


def load_settings() -> Settings:
    try:
        return settings_or_fail()
    except preflight.PreflightError as exc:
        raise fail(exc.message, exc.hint) from None


@asynccontextmanager
async def migrated_database(settings: Settings) -> AsyncIterator[Database]:
    """The configured database, after checking it answers and is migrated."""
    url = settings.effective_database_url
    await preflight.check_database_reachable(url)
    await preflight.check_migrated(url)
    database = Database(url)
    try:
        yield database
    finally:
        await database.dispose()


@asynccontextmanager
async def migrated_session(settings: Settings) -> AsyncIterator[AsyncSession]:
    """A writer session on the migrated database that commits nothing (for reads that must
    see the latest writes); a change goes through ``committing(migrated_database(...))``."""
    async with migrated_database(settings) as database, database.write() as session:
        yield session
