"""Failure drills against a real server: what a customer was told is true afterwards, and the
database holds no half-done work."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from pathlib import Path

import httpx

from backups.checks import integrity_problems
from backups.database import Database as Target
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


async def test_a_worker_killed_mid_checkout_leaves_no_half_order(
    backend: Backend, tmp_path: Path
) -> None:
    env = {
        "SHOPD_DATABASE_URL": backend.url,
        "SHOPD_DATA_DIR": str(tmp_path),
        "SHOPD_BACKGROUND_JOBS": "false",
    }
    assert shopctl("db", "upgrade", env=env).returncode == 0
    assert shopctl("db", "seed-demo", "--products", "24", env=env).returncode == 0
    port = free_port()
    args = ("serve", "--port", str(port), "--workers", "2", "--log-level", "warning")
    acknowledged: list[str] = []
    refused = 0
    with running(*args, env=env, cwd=tmp_path, port=port) as (base, server, _):
        skus = await in_stock(base)
        assert skus
        stop = asyncio.Event()

        async def shopper(n: int) -> None:
            nonlocal refused
            while not stop.is_set():
                async with httpx.AsyncClient(base_url=base, timeout=30) as c:
                    try:
                        sku = skus[n % len(skus)]
                        r = await c.post("/api/v1/cart/items", json={"sku": sku, "quantity": 1})
                        if r.status_code != 200:
                            continue
                        r = await c.post(
                            "/api/v1/orders",
                            json=checkout_body(email=f"drill{n}@example.com"),
                            headers={"Idempotency-Key": uuid.uuid4().hex},
                        )
                        if r.status_code == 201:
                            acknowledged.append(r.json()["number"])
                        else:
                            refused += 1
                    except httpx.HTTPError:
                        refused += 1  # the connection died with its worker: no promise made

        crowd = [asyncio.create_task(shopper(n)) for n in range(SHOPPERS)]
        await asyncio.sleep(2)
        before = len(acknowledged)
        victims = workers_of(server.pid)
        assert len(victims) == 2
        os.kill(victims[0], signal.SIGKILL)
        await asyncio.sleep(4)
        stop.set()
        await asyncio.gather(*crowd)
        # The server replaced the worker and kept taking orders.
        assert len(workers_of(server.pid)) == 2 and victims[0] not in workers_of(server.pid)
        assert len(acknowledged) > before > 0
        async with httpx.AsyncClient(base_url=base) as c:
            assert (await c.get("/readyz")).status_code == 200
    db = Target.from_url(backend.url)
    stored = {str(r[0]) for r in db.query("SELECT number FROM orders")}
    assert set(acknowledged) <= stored  # every order a customer was told of exists
    assert integrity_problems(db) == []  # no order without lines, ledger sums to stock
    leaked = db.query("SELECT COUNT(*) FROM stock_levels WHERE on_hand < 0 OR reserved <> 0")
    assert int(leaked[0][0] or 0) == 0
    # Every order's stock left the shelf exactly once.
    taken = db.query(
        "SELECT COALESCE(SUM(l.quantity), 0) FROM order_lines l JOIN orders o ON o.id = l.order_id"
    )[0][0]
    sold = db.query("SELECT COALESCE(-SUM(delta), 0) FROM stock_movements WHERE reason = 'sale'")[
        0
    ][0]
    assert int(taken or 0) == int(sold or 0)
