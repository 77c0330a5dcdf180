"""Failure drills against a real server: what a customer was told is true afterwards, and the
database holds no half-done work."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from backups.checks import integrity_problems
from backups.database import Database as Target
from tests.backupkit import PrivateMariaDB
from tests.conftest import Backend, checkout_body
from tests.server import free_port, running, shopctl

SHOPPERS = 8


def workers_of(server_pid: int) -> list[int]:
    """The uvicorn worker processes of our server (its spawned children, not the helper)."""
    children = Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()
    found = []
    for pid in map(int, children):
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        if b"spawn_main" in cmdline and b"resource_tracker" not in cmdline:
            found.append(pid)
    return found


async def in_stock(base: str) -> list[str]:
    async with httpx.AsyncClient(base_url=base) as c:
        listing = (await c.get("/api/v1/products", params={"per_page": 24})).json()["items"]
        codes = []
        for item in listing:
            product = (await c.get(f"/api/v1/products/{item['slug']}")).json()
            codes += [s["code"] for s in product["skus"] if s["available"] >= 20]
    return codes


class Crowd:
    """Shoppers checking out one unit at a time until told to stop; what each was told is
    kept: the order numbers acknowledged, and the status of every answer."""

    def __init__(self, base: str, skus: list[str]) -> None:
        self.base, self.skus = base, skus
        self.acknowledged: list[str] = []
        self.answers: Counter[int] = Counter()
        self.dropped = 0
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def _shopper(self, n: int) -> None:
        while not self._stop.is_set():
            async with httpx.AsyncClient(base_url=self.base, timeout=30) as c:
                try:
                    sku = self.skus[n % len(self.skus)]
                    r = await c.post("/api/v1/cart/items", json={"sku": sku, "quantity": 1})
                    self.answers[r.status_code] += 1
                    if r.status_code != 200:
                        await asyncio.sleep(0.1)
                        continue
                    r = await c.post(
                        "/api/v1/orders",
                        json=checkout_body(email=f"drill{n}@example.com"),
                        headers={"Idempotency-Key": uuid.uuid4().hex},
                    )
                    self.answers[r.status_code] += 1
                    if r.status_code == 201:
                        self.acknowledged.append(r.json()["number"])
                except httpx.HTTPError:
                    self.dropped += 1  # the connection died: no promise was made

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._shopper(n)) for n in range(SHOPPERS)]

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)


def nothing_half_done(url: str, acknowledged: list[str]) -> None:
    db = Target.from_url(url)
    stored = {str(r[0]) for r in db.query("SELECT number FROM orders")}
    assert set(acknowledged) <= stored  # every order a customer was told of exists
    assert integrity_problems(db) == []  # no order without lines, ledger sums to stock
    leaked = db.query("SELECT COUNT(*) FROM stock_levels WHERE on_hand < 0 OR reserved <> 0")
    assert int(leaked[0][0] or 0) == 0
    # Every order's stock left the shelf exactly once.
    taken = db.query(
        "SELECT COALESCE(SUM(l.quantity), 0) FROM order_lines l JOIN orders o ON o.id = l.order_id"
    )[0][0]
    sold = db.query("SELECT COALESCE(-SUM(delta), 0) FROM stock_movements WHERE reason = 'sale'")
    assert int(taken or 0) == int(sold[0][0] or 0)


async def until(check: Callable[[], Awaitable[bool]], seconds: float, what: str) -> float:
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if await check():
            return time.monotonic() - start
        await asyncio.sleep(0.2)
    raise AssertionError(f"{what} within {seconds} s")


def shop_env(url: str, tmp_path: Path) -> dict[str, str]:
    env = {"SHOPD_DATABASE_URL": url, "SHOPD_DATA_DIR": str(tmp_path)}
    env["SHOPD_BACKGROUND_JOBS"] = "false"
    assert shopctl("db", "upgrade", env=env).returncode == 0
    assert shopctl("db", "seed-demo", "--products", "24", env=env).returncode == 0
    return env


async def test_a_worker_killed_mid_checkout_leaves_no_half_order(
    backend: Backend, tmp_path: Path
) -> None:
    env = shop_env(backend.url, tmp_path)
    port = free_port()
    args = ("serve", "--port", str(port), "--workers", "2", "--log-level", "warning")
    with running(*args, env=env, cwd=tmp_path, port=port) as (base, server, _):
        crowd = Crowd(base, await in_stock(base))
        assert crowd.skus
        crowd.start()
        await asyncio.sleep(2)
        before = len(crowd.acknowledged)
        victims = workers_of(server.pid)
        assert len(victims) == 2
        os.kill(victims[0], signal.SIGKILL)

        async def replaced() -> bool:
            now = workers_of(server.pid)
            return len(now) == 2 and victims[0] not in now

        # The supervisor notices within a second or two; a loaded CI machine gets more time.
        await until(replaced, 60, "the killed worker was not replaced")
        after_kill = len(crowd.acknowledged)

        async def taking_orders() -> bool:
            return len(crowd.acknowledged) > after_kill

        await until(taking_orders, 30, "no order was taken after the worker was replaced")
        await crowd.stop()
        assert len(crowd.acknowledged) > before > 0
        assert httpx.get(f"{base}/readyz").status_code == 200  # noqa: ASYNC210
    nothing_half_done(backend.url, crowd.acknowledged)


@pytest.mark.mysql
async def test_the_database_restarting_under_checkouts_loses_no_order(tmp_path: Path) -> None:
    mariadb = PrivateMariaDB(tmp_path / "mariadb")
    mariadb.start()
    try:
        env = shop_env(mariadb.create_database("shop"), tmp_path)
        port = free_port()
        args = ("serve", "--port", str(port), "--workers", "2", "--log-level", "warning")
        with running(*args, env=env, cwd=tmp_path, port=port) as (base, server, _):
            crowd = Crowd(base, await in_stock(base))
            crowd.start()
            await asyncio.sleep(2)
            workers = workers_of(server.pid)

            async def ready() -> int:
                async with httpx.AsyncClient(base_url=base, timeout=5) as c:
                    return (await c.get("/readyz")).status_code

            mariadb.stop()
            await until(lambda: _is(ready, 503), 15, "/readyz did not report the outage")
            during = len(crowd.acknowledged)
            await asyncio.sleep(2)
            mariadb.start()
            await until(lambda: _is(ready, 200), 30, "/readyz did not recover")
            await asyncio.sleep(3)
            await crowd.stop()
            # The shop took orders again with the same worker processes: no restart of its own.
            assert workers_of(server.pid) == workers
            assert len(crowd.acknowledged) > during
            # While the database was away: clear 503s, never a 500.
            assert crowd.answers[503] > 0 and crowd.answers[500] == 0, crowd.answers
        nothing_half_done(mariadb.url("shop"), crowd.acknowledged)
    finally:
        mariadb.stop()


async def _is(probe: Callable[[], Awaitable[int]], status: int) -> bool:
    try:
        return await probe() == status
    except httpx.HTTPError:
        return False
