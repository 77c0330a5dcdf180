"""Engine, sessions and the column types every area shares.

SQLite and MariaDB need different care for concurrent writers: on SQLite a write transaction must
take the write lock when it begins (``BEGIN IMMEDIATE``), or two deferred transactions that both
read first deadlock on upgrade and one fails with "database is locked" at once instead of waiting.
So on SQLite writes go through their own engine whose transactions begin immediately, while
reads keep using cheap deferred transactions that never block a writer under WAL.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import DateTime, MetaData, event, text
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from shopd.readcache import ReadCache

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stores naive UTC (both back ends lack a real tz type) and always returns aware UTC."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        # MariaDB's DATETIME drops fractions unless asked; keep microseconds on both back ends.
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime(timezone=False))

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; shopd stores aware UTC times only")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        return value.replace(tzinfo=dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _configure_sqlite(engine: AsyncEngine, *, immediate: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver so BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    begin_sql = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin_sql)


def is_sqlite_url(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def normalise_url(url: str) -> str:
    """Accept the plain ``mysql://`` / ``sqlite://`` forms operators type and pick the async driver."""
    u = make_url(url)
    backend, driver = u.get_backend_name(), u.get_driver_name()
    if backend in ("mysql", "mariadb") and driver in ("mysqldb", "pymysql", "mysql", "mariadb"):
        u = u.set(drivername="mysql+asyncmy")
    elif backend == "sqlite" and driver in ("pysqlite", "sqlite"):
        u = u.set(drivername="sqlite+aiosqlite")
    if u.get_backend_name() in ("mysql", "mariadb") and "charset" not in u.query:
        u = u.update_query_dict({"charset": "utf8mb4"})
    return u.render_as_string(hide_password=False)


def make_engine(
    url: str, *, pool_size: int = 10, echo: bool = False, immediate: bool = False
) -> AsyncEngine:
    url = normalise_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if is_sqlite_url(url):
        kwargs["connect_args"] = {"timeout": 30}
        if immediate:
            # Writers serialise on SQLite anyway; queueing them on the pool is fairer than
            # letting many connections spin on the busy handler.
            kwargs.update(pool_size=2, max_overflow=0, pool_timeout=60)
        else:
            kwargs.update(pool_size=pool_size, max_overflow=pool_size)
    else:
        kwargs.update(
            pool_size=pool_size, max_overflow=pool_size * 2, pool_recycle=1800, pool_pre_ping=True
        )
    engine = create_async_engine(url, **kwargs)
    if is_sqlite_url(url):
        _configure_sqlite(engine, immediate=immediate)
    return engine


T = TypeVar("T")
# MariaDB error codes worth a retry: deadlock found, lock wait timeout.
RETRYABLE_MYSQL_ERRORS = {1213, 1205}


def is_retryable(exc: OperationalError) -> bool:
    code = getattr(exc.orig, "args", [None])[0]
    return code in RETRYABLE_MYSQL_ERRORS


class Database:
    """The shop's database: a reader and a writer session factory over one or two engines."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        echo: bool = False,
        cache_seconds: float = 0,
        ranking_cache_seconds: float = 0,
    ) -> None:
        self.url = normalise_url(url)
        # Catalog reads every anonymous visitor shares; off unless asked for (the app asks).
        self.cache = ReadCache(cache_seconds)
        self.rankings = ReadCache(ranking_cache_seconds)
        self.is_sqlite = is_sqlite_url(self.url)
        self.engine = make_engine(self.url, pool_size=pool_size, echo=echo)
        self.write_engine = (
            make_engine(self.url, pool_size=pool_size, echo=echo, immediate=True)
            if self.is_sqlite
            else self.engine
        )
        self._reader = async_sessionmaker(self.engine, expire_on_commit=False)
        self._writer = async_sessionmaker(self.write_engine, expire_on_commit=False)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._reader() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A session for one unit of work; the caller commits, anything else rolls back."""
        async with self._writer() as session:
            yield session

    async def transaction(
        self, work: Callable[[AsyncSession], Awaitable[T]], *, attempts: int = 5
    ) -> T:
        """Run one unit of work and commit it. InnoDB may pick it as a deadlock victim (two guests
        creating carts take gap locks in opposite order): then the whole unit runs again."""
        for attempt in range(attempts):
            async with self._writer() as session:
                try:
                    result = await work(session)
                    await session.commit()
                    return result
                except OperationalError as exc:
                    await session.rollback()
                    if not is_retryable(exc) or attempt == attempts - 1:
                        raise
            await asyncio.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.write_engine is not self.engine:
            await self.write_engine.dispose()
