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
import fcntl
import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, MetaData, event, text
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from shopd import sqlite_inline
from shopd.errors import Busy

log = logging.getLogger(__name__)

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
    url: str,
    *,
    pool_size: int = 10,
    pool_timeout: float = 30,
    echo: bool = False,
    immediate: bool = False,
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
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_timeout=pool_timeout)
        path = sqlite_file(url)
        if path is not None:
            kwargs["async_creator"] = sqlite_inline.creator(str(path), timeout=30)
    else:
        kwargs.update(
            pool_size=pool_size,
            max_overflow=pool_size * 2,
            pool_timeout=pool_timeout,
            pool_recycle=1800,
        )
    engine = create_async_engine(url, **kwargs)
    if is_sqlite_url(url):
        _configure_sqlite(engine, immediate=immediate)
    else:
        _ping_when_idle(engine)
        _skip_needless_rollbacks(engine)
    return engine


# In a pooled connection's ``info``: the DBAPI connection whose transaction was last ended
# (committed or rolled back) with no statement sent on it since.
_ENDED = "shopd_transaction_ended"


def _skip_needless_rollbacks(engine: AsyncEngine) -> None:
    """Send no ROLLBACK on a connection whose transaction has just ended.

    A session closes its transaction with a ROLLBACK (or COMMIT) and then releases its
    connection, and the pool rolls back once more on return, since it cannot tell the
    connection is clean: two round trips after every read, one after every write, a third of
    all statements under load. Here the connection remembers that its transaction ended and
    that no statement was sent since (which marks it before the statement leaves), so only
    that second ROLLBACK is skipped. A statement cut short, a failed commit, a reconnect:
    the mark is gone and the rollback happens as before."""
    sync = engine.sync_engine
    dialect = sync.dialect
    rollback, commit = dialect.do_rollback, dialect.do_commit

    def info(conn: Any) -> dict[str, Any] | None:
        try:
            return conn.info  # type: ignore[no-any-return]
        except NotImplementedError:  # the dialect's first look at a new connection
            return None

    def do_rollback(conn: Any) -> None:
        kept = info(conn)
        if kept is not None and kept.get(_ENDED) is conn.dbapi_connection:
            return
        rollback(conn)
        if kept is not None:
            kept[_ENDED] = conn.dbapi_connection

    def do_commit(conn: Any) -> None:
        commit(conn)
        kept = info(conn)
        if kept is not None:
            kept[_ENDED] = conn.dbapi_connection

    # Instance attributes: only this engine's dialect changes, every caller (Connection and
    # pool alike) goes through it.
    dialect.do_rollback = do_rollback  # type: ignore[method-assign]
    dialect.do_commit = do_commit  # type: ignore[method-assign]

    @event.listens_for(sync, "before_cursor_execute")
    def _sent(conn: Any, *_: Any) -> None:
        conn.info.pop(_ENDED, None)


# A pooled MariaDB connection unused this long is pinged before it is handed out.
IDLE_PING_SECONDS = 5.0


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Ping a pooled connection before use only when it has sat idle (the database may have
    restarted or dropped it meanwhile). SQLAlchemy's ``pool_pre_ping`` pings on every checkout:
    under load that is one more round trip per unit of work for connections used a moment
    ago. A connection that dies while in use is still caught: the error invalidates the whole
    pool and the request is answered 503 with Retry-After."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _idle_from(_dbapi: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping_if_idle(dbapi: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return
        try:
            dbapi.ping(False)
        except Exception as exc:
            # The pool drops this connection and checks out another (a fresh one if need be).
            raise DisconnectionError(str(exc)) from exc


# MariaDB error codes worth a retry: deadlock found, lock wait timeout.
RETRYABLE_MYSQL_ERRORS = {1213, 1205}


# The server cannot be reached, went away or is going: can't connect, server gone, lost
# connection, shutdown in progress (a restart's first second), connection killed by the
# shutdown, network read/write errors on the server's side, idle connection timed out.
UNREACHABLE_MYSQL_ERRORS = {
    1053,
    1152,
    1158,
    1159,
    1160,
    1161,
    1927,
    2002,
    2003,
    2005,
    2006,
    2013,
    2014,
    2055,
    4031,
}


def _code(exc: DBAPIError) -> object:
    args = getattr(exc.orig, "args", None) or [None]
    return args[0]


def is_retryable(exc: OperationalError) -> bool:
    return _code(exc) in RETRYABLE_MYSQL_ERRORS


def is_unreachable(exc: BaseException) -> bool:
    """The database is down or restarting (not a bug, not bad input): answer 503. The cause
    is looked for down the chain too: SQLAlchemy may raise its own error (a savepoint or an
    autoflush that could not finish) on top of the driver's lost connection."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DBAPIError):
            if current.connection_invalidated or _code(current) in UNREACHABLE_MYSQL_ERRORS:
                return True
        elif isinstance(current, ConnectionError | asyncio.IncompleteReadError):
            return True
        current = current.__cause__ or current.__context__
    return False


def sqlite_file(url: str) -> Path | None:
    database = make_url(url).database
    return Path(database) if database and database != ":memory:" else None


# As long as SQLite's own busy timeout: a writer that waits longer is told the shop is busy.
WRITER_WAIT_SECONDS = 30


class WriterLock:
    """On SQLite, one writer at a time in the order they came: an asyncio lock within a process
    and an ``flock`` on a file beside the database across processes (the server's workers, a
    ``shopctl`` command). Without it every waiting connection sleeps in SQLite's busy handler,
    backing off up to 100 ms a try, the write lock sits idle between writers, and in a rush a
    cart add waits tens of seconds. MariaDB locks rows and needs none of this."""

    def __init__(self, database: Path | None) -> None:
        self._path = database.with_name(database.name + ".write-lock") if database else None
        self._fd: int | None = None
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _loop_lock(self) -> asyncio.Lock:
        # A command may run several event loops one after another over one Database.
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop = asyncio.Lock(), loop
        return self._lock

    def _lock_file(self) -> int | None:
        if self._fd is None and self._path is not None:
            try:
                # Read-only is enough for flock, so any account that can read the shop can wait.
                self._fd = os.open(self._path, os.O_RDONLY | os.O_CREAT, 0o644)
            except OSError as exc:
                log.warning("no cross-process writer lock (%s): SQLite's busy handler only", exc)
                self._path = None
        return self._fd

    @asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        if self._path is None:
            yield
            return
        lock = self._loop_lock()
        try:
            async with asyncio.timeout(WRITER_WAIT_SECONDS):
                await lock.acquire()
        except TimeoutError:
            raise Busy() from None
        try:
            fd = self._lock_file()
            if fd is None:
                yield
                return
            acquired = asyncio.ensure_future(asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX))
            try:
                await asyncio.shield(acquired)
            except asyncio.CancelledError:
                # The thread takes the lock regardless: wait for it, then give it back.
                await asyncio.wait([acquired])
                if not acquired.cancelled() and acquired.exception() is None:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                raise
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            lock.release()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class Database:
    """The shop's database: a reader and a writer session factory over one or two engines."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        pool_timeout: float = 30,
        echo: bool = False,
    ) -> None:
        self.url = normalise_url(url)
        self.is_sqlite = is_sqlite_url(self.url)
        self.engine = make_engine(
            self.url, pool_size=pool_size, pool_timeout=pool_timeout, echo=echo
        )
        self.write_engine = (
            make_engine(self.url, pool_size=pool_size, echo=echo, immediate=True)
            if self.is_sqlite
            else self.engine
        )
        self._reader = async_sessionmaker(self.engine, expire_on_commit=False)
        self._writer = async_sessionmaker(self.write_engine, expire_on_commit=False)
        self._write_lock = WriterLock(sqlite_file(self.url) if self.is_sqlite else None)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._reader() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A writer session, closed (rolled back if not committed) at the end: work commits
        through ``shopd.unit_of_work``."""
        async with self._write_lock.hold(), self._writer() as session:
            yield session

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        self._write_lock.close()
        await self.engine.dispose()
        if self.write_engine is not self.engine:
            await self.write_engine.dispose()
