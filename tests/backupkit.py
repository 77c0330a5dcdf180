"""Helpers for the backup tests: a shop with orders, row-by-row comparison, a binlogging MariaDB."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import select

from backups.database import Database as Target
from shopd.catalog.models import Product, Sku
from shopd.config import Settings
from shopd.db import Database
from shopd.inventory.models import StockLevel
from shopd.server.app import create_app
from tests.conftest import ADDRESS
from tests.server import free_port, shopctl


def seed_shop(url: str, tmp_path: Path) -> None:
    """Migrate and fill with the demo catalog through the CLI, as an operator does."""
    env = {"SHOPD_DATABASE_URL": url, "SHOPD_DATA_DIR": str(tmp_path / "var")}
    for args in (("db", "upgrade"), ("db", "seed-demo")):
        done = shopctl(*args, env=env)
        assert done.returncode == 0, done.stderr + done.stdout


async def in_stock_skus(db: Database, count: int = 6) -> list[str]:
    async with db.read() as s:
        rows = await s.execute(
            select(Sku.code)
            .join(StockLevel, StockLevel.sku_id == Sku.id)
            .join(Product, Product.id == Sku.product_id)
            .where(StockLevel.on_hand - StockLevel.reserved >= 20, Sku.active, Product.listed)
            .order_by(Sku.id)
            .limit(count)
        )
        return list(rows.scalars())


async def place_orders(url: str, tmp_path: Path, count: int, concurrency: int = 4) -> list[str]:
    """Guest checkouts through the shop's HTTP API; returns the order numbers."""
    db = Database(url, pool_size=concurrency + 2)
    settings = Settings(
        data_dir=tmp_path / "var",
        database_url=url,
        secret_key="test-secret",
        background_jobs=False,
        mail_backend="files",
    )
    app = create_app(settings, database=db)
    skus = await in_stock_skus(db)
    assert skus, "the demo catalog has no SKU with stock"
    numbers: list[str] = []
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with (
            gate,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://shop.test"
            ) as c,
        ):
            for sku in (skus[i % len(skus)], skus[(i + 1) % len(skus)]):
                r = await c.post("/api/v1/cart/items", json={"sku": sku, "quantity": 1})
                assert r.status_code == 200, r.text
            r = await c.post(
                "/api/v1/orders",
                json={
                    "payment_method": "bank_transfer",
                    "email": f"buyer{i}@example.com",
                    "address": ADDRESS,
                },
            )
            assert r.status_code == 201, r.text
            numbers.append(r.json()["number"])

    try:
        await asyncio.gather(*(one(i) for i in range(count)))
    finally:
        await db.dispose()
    return numbers


def rows_of(db: Target) -> dict[str, list[tuple]]:
    """Every row of every table, ordered, as text: what 'identical' means for a restore."""
    tables = {}
    for table in db.tables():
        quoted = f"`{table}`" if db.kind == "mysql" else f'"{table}"'
        rows = db.query(f"SELECT * FROM {quoted}")
        tables[table] = sorted(tuple("" if v is None else str(v) for v in r) for r in rows)
    return tables


def order_numbers(db: Target) -> set[str]:
    return {str(r[0]) for r in db.query("SELECT number FROM orders")}


@dataclass
class BinlogServer:
    port: int

    def url(self, database: str = "") -> str:
        return f"mysql://root@127.0.0.1:{self.port}/{database}"


class PrivateMariaDB:
    """A private mariadbd with binary logging, as a shop's primary has: its own data directory
    and port, which stay the same when it is stopped and started again."""

    def __init__(self, workdir: Path) -> None:
        for tool in ("mariadb-install-db", "mariadbd"):
            if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
                raise RuntimeError(f"{tool} is missing (apt-get install mariadb-server)")
        self.workdir, self.data, self.port = workdir, workdir / "data", free_port()
        self._user = ["--user=root"] if os.geteuid() == 0 else []
        subprocess.run(
            [
                "mariadb-install-db",
                "--no-defaults",
                f"--datadir={self.data}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                *self._user,
            ],
            check=True,
            capture_output=True,
        )
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, database: str = "") -> str:
        return f"mysql://root@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        client = ["mariadb", "-h127.0.0.1", f"-P{self.port}", "-uroot"]
        subprocess.run([*client, "-e", f"CREATE DATABASE `{name}`"], check=True)
        return self.url(name)

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "/usr/sbin/mariadbd",
                "--no-defaults",
                f"--datadir={self.data}",
                f"--socket={self.workdir / 'sock'}",
                f"--port={self.port}",
                "--bind-address=127.0.0.1",
                f"--log-bin={self.data / 'binlog'}",
                "--server-id=1",
                "--binlog-format=MIXED",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_unicode_ci",
                f"--log-error={self.workdir / 'error.log'}",
                *self._user,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while True:
            probe = subprocess.run(
                ["mariadb-admin", "-h127.0.0.1", f"-P{self.port}", "-uroot", "ping"],
                capture_output=True,
            )
            if probe.returncode == 0:
                return
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = (self.workdir / "error.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"mariadbd did not start:\n{log}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


@contextmanager
def binlog_mariadb(workdir: Path) -> Iterator[BinlogServer]:
    """A private mariadbd for one test module; gone afterwards."""
    server = PrivateMariaDB(workdir)
    try:
        server.start()
        yield BinlogServer(server.port)
    finally:
        server.stop()
