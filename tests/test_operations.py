"""Health, readiness, OpenAPI, metrics, and the staff session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncmy.errors
import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, OperationalError, PendingRollbackError
from sqlalchemy.ext.asyncio import AsyncSession

import shopd.db
from shopd import unit_of_work
from shopd.config import Settings
from shopd.db import Database, is_unreachable, make_engine
from shopd.server.app import create_app
from shopd.staff import service as staff
from shopd.staff.models import StaffUser
from tests.conftest import create_mysql_database, drop_mysql_database, mysql_url


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json()["status"] == "ok"
    r = await client.get("/readyz")
    assert r.status_code == 200 and r.json()["database"] == "ok"


async def test_readiness_fails_when_the_database_is_gone(settings: Settings) -> None:
    down = Database("mysql://shopd@127.0.0.1:1/none")  # nothing listens on port 1
    app = create_app(settings, database=down)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.get("/readyz")
        assert r.status_code == 503 and r.json()["database"] == "unreachable"
        assert (await c.get("/healthz")).status_code == 200
        # Not a bug of ours: a clear 503 to try again, not a 500.
        r = await c.get("/api/v1/categories")
        assert r.status_code == 503 and r.json()["error"]["code"] == "database_unavailable"
        assert r.headers["retry-after"] == "5"
        page = await c.get("/")
        assert page.status_code == 503 and "text/html" in page.headers["content-type"]
    await down.dispose()


async def test_openapi_schema_lists_the_contract(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    paths = schema["paths"]
    for path in [
        "/api/v1/categories",
        "/api/v1/products",
        "/api/v1/products/{slug}",
        "/api/v1/customers",
        "/api/v1/session",
        "/api/v1/cart",
        "/api/v1/cart/items",
        "/api/v1/cart/items/{sku}",
        "/api/v1/orders",
        "/api/v1/orders/{number}",
        "/api/v1/staff/session",
        "/healthz",
        "/readyz",
    ]:
        assert path in paths, path
    checkout = paths["/api/v1/orders"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in checkout["parameters"])


async def test_metrics_are_exported(client: httpx.AsyncClient) -> None:
    await client.get("/healthz")
    r = await client.get("/metrics")
    assert r.status_code == 200
    assert 'litestar_requests_total{app_name="shopd",method="GET",path="/healthz"' in r.text


async def test_requests_are_counted_and_timed_per_route_and_status(
    client: httpx.AsyncClient,
) -> None:
    product = "/api/v1/products/{slug}"

    def sample(name: str, status: int, path: str = product, method: str = "GET") -> float:
        labels = {"app_name": "shopd", "method": method, "path": path, "status_code": str(status)}
        return REGISTRY.get_sample_value(name, labels) or 0.0

    before = {
        "missing": sample("litestar_requests_total", 404),
        "timed": sample("litestar_request_duration_seconds_count", 404),
        "health": sample("litestar_requests_total", 200, "/healthz"),
        "head": sample("litestar_requests_total", 200, "/healthz", "HEAD"),
    }
    for slug in ("no-such-product", "nor-this-one"):
        assert (await client.get(f"/api/v1/products/{slug}")).status_code == 404
    assert (await client.get("/healthz")).status_code == 200
    # A HEAD (an uptime monitor's) is answered as a GET and counted as the HEAD it was.
    assert (await client.head("/healthz")).status_code == 200
    assert sample("litestar_requests_total", 404) == before["missing"] + 2
    assert sample("litestar_request_duration_seconds_count", 404) == before["timed"] + 2
    assert sample("litestar_requests_total", 200, "/healthz") == before["health"] + 1
    assert sample("litestar_requests_total", 200, "/healthz", "HEAD") == before["head"] + 1
    assert sample("litestar_requests_in_progress", 200) == 0


async def test_staff_session_and_token(client: httpx.AsyncClient, db: Database) -> None:
    async with db.write() as s:
        await staff.add_staff(s, "li.na", "clerk", "clerk-password-1")
        await s.commit()
    r = await client.post(
        "/api/v1/staff/session", json={"username": "li.na", "password": "clerk-password-1"}
    )
    assert r.status_code == 201
    token = r.json()["token"]
    me = await client.get("/api/v1/staff/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json() == {"username": "li.na", "role": "clerk"}
    bad = await client.post(
        "/api/v1/staff/session", json={"username": "li.na", "password": "wrong-password"}
    )
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "invalid_credentials"
    async with db.write() as s:
        user = await s.scalar(select(StaffUser))
        assert user is not None
        user.active = False
        await s.commit()
    me = await client.get("/api/v1/staff/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401  # a disabled account's tokens stop working at once


async def test_no_free_database_connection_is_a_503_busy_not_a_500(
    settings: Settings, catalog: object
) -> None:
    """Under an overload every pooled connection may stay taken; the wait is bounded
    (``SHOPD_DB_POOL_TIMEOUT_SECONDS``) and the answer is the same 503 as other contention."""
    tight = Database(settings.effective_database_url, pool_size=1, pool_timeout=0.5)
    app = create_app(settings, database=tight)
    held = [await tight.engine.connect() for _ in range(3 if not tight.is_sqlite else 2)]
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as c:
            r = await c.get("/api/v1/products")
            assert r.status_code == 503 and r.json()["error"]["code"] == "busy"
            assert r.headers["retry-after"] == "1"
            page = await c.get("/")
            assert page.status_code == 503 and "text/html" in page.headers["content-type"]
    finally:
        for conn in held:
            await conn.close()
        await tight.dispose()


async def _connection_id(db: Database) -> int:
    async with db.read() as session:
        found = await session.scalar(text("SELECT CONNECTION_ID()"))
    return int(found)


async def _server_drops(url: str, connection_id: int) -> None:
    """What a MariaDB restart or its wait_timeout does to a pooled connection."""
    admin = make_engine(url)
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f"KILL CONNECTION {connection_id}"))
    finally:
        await admin.dispose()


@pytest.mark.mysql
async def test_a_pooled_connection_dropped_while_idle_is_replaced_before_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    name = await create_mysql_database()
    db = Database(mysql_url(name), pool_size=1)
    try:
        # Idle past the threshold: pinged at checkout, found dead, replaced unseen.
        monkeypatch.setattr(shopd.db, "IDLE_PING_SECONDS", 0.0)
        first = await _connection_id(db)
        await _server_drops(mysql_url(name), first)
        second = await _connection_id(db)
        assert second != first
        # Used a moment ago: no ping (that round trip is what the threshold saves under load),
        # so the dead connection shows at first use as an outage the app answers 503 ...
        monkeypatch.setattr(shopd.db, "IDLE_PING_SECONDS", 3600.0)
        await _server_drops(mysql_url(name), second)
        with pytest.raises(DBAPIError) as failed:
            await _connection_id(db)
        assert is_unreachable(failed.value)
        # ... and the pool starts over with a fresh connection for the next request.
        assert await _connection_id(db) not in (first, second)
    finally:
        await db.dispose()
        await drop_mysql_database(name)


@asynccontextmanager
async def _one_row_table() -> AsyncIterator[tuple[str, Database]]:
    """A fresh MariaDB database with table ``t`` holding row (1, 0), over a pool of one."""
    name = await create_mysql_database()
    db = Database(mysql_url(name), pool_size=1)
    try:
        async with db.write() as session:
            await session.execute(text("CREATE TABLE t (id INT PRIMARY KEY, n INT) ENGINE=InnoDB"))
            await session.execute(text("INSERT INTO t VALUES (1, 0)"))
            await session.commit()
        yield name, db
    finally:
        await db.dispose()
        await drop_mysql_database(name)


async def _rollbacks_sent(db: Database) -> int:
    """ROLLBACKs the server has had on the pool's one connection (this look adds one)."""
    async with db.read() as session:
        row = (await session.execute(text("SHOW SESSION STATUS LIKE 'Com_rollback'"))).one()
    return int(row[1])


@pytest.mark.mysql
async def test_a_finished_transaction_is_not_rolled_back_again_on_return_to_the_pool() -> None:
    async with _one_row_table() as (_, db):
        before = await _rollbacks_sent(db)
        for _ in range(5):
            async with db.read() as session:
                await session.execute(text("SELECT n FROM t"))
        # One ROLLBACK per read ends its snapshot; the pool's second one is not sent.
        assert await _rollbacks_sent(db) - before == 5 + 1

        async def bump(session: AsyncSession) -> None:
            await session.execute(text("UPDATE t SET n = n + 1"))

        before = await _rollbacks_sent(db)
        await unit_of_work.run(db, bump)
        assert await _rollbacks_sent(db) - before == 1  # the COMMIT ended it


@pytest.mark.mysql
async def test_a_unit_of_work_that_fails_still_rolls_back_and_leaves_no_lock_behind() -> None:
    async with _one_row_table() as (name, db):
        with pytest.raises(RuntimeError):
            async with db.write() as session:
                await session.execute(text("UPDATE t SET n = 99 WHERE id = 1"))
                raise RuntimeError("the request failed half-way")
        # Another connection can take the row at once and finds it unchanged.
        other = make_engine(mysql_url(name))
        try:
            async with other.connect() as conn:
                await conn.execute(text("SET SESSION innodb_lock_wait_timeout = 1"))
                await conn.execute(text("UPDATE t SET n = n + 1 WHERE id = 1"))
                assert await conn.scalar(text("SELECT n FROM t WHERE id = 1")) == 1
                await conn.rollback()
        finally:
            await other.dispose()


def _driver_error(code: int, message: str) -> DBAPIError:
    return OperationalError("SELECT 1", None, asyncmy.errors.OperationalError(code, message))


def test_a_restarting_server_is_an_outage_whichever_error_shows_it() -> None:
    # What MariaDB answers in the first second of a shutdown, and what kills its connections.
    assert is_unreachable(_driver_error(1053, "Server shutdown in progress"))
    assert is_unreachable(_driver_error(1927, "Connection was killed"))
    # SQLAlchemy's own error raised over the driver's (a savepoint left after the loss).
    try:
        try:
            raise _driver_error(2013, "Lost connection to MySQL server during query")
        except DBAPIError as lost:
            raise PendingRollbackError("the savepoint cannot be rolled back") from lost
    except PendingRollbackError as on_top:
        assert is_unreachable(on_top)
    # A bug or bad SQL is not an outage: it stays a 500 with its trace in the log.
    assert not is_unreachable(_driver_error(1064, "You have an error in your SQL syntax"))
    assert not is_unreachable(PendingRollbackError("a transaction was left open"))
    assert not is_unreachable(ValueError("bad"))
