"""``shopctl campaign check``: green when the shop is ready, red — with a non-zero exit — for a
stale or unproven backup, promoted stock below expected sales, a capacity below the peak, a
shop that does not answer, or a full disk."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from backups import store
from loadtest.capacity import save_result
from loadtest.results import Thresholds
from shopd.catalog.models import Sku
from shopd.cli.readiness import expect, promoted_stock
from shopd.db import Database, utcnow
from shopd.inventory.models import StockLevel
from shopd.promotions.models import FlashSale
from tests.conftest import SmallCatalog
from tests.server import free_port, running, shopctl

# 10,000 visitors at the default 2 % conversion: 200 orders; peak 10,000 × 0.2 × 10 / 60.
VISITORS = "10000"
PEAK = 334


async def put_on_sale(db: Database, code: str) -> int:
    """A flash sale on ``code`` through today; returns the SKU's available stock."""
    async with db.write() as s:
        sku = await s.scalar(select(Sku).where(Sku.code == code))
        assert sku is not None
        s.add(
            FlashSale(
                sku_id=sku.id,
                sale_price=100,
                starts_at=utcnow() - dt.timedelta(hours=1),
                ends_at=utcnow() + dt.timedelta(days=2),
                quantity=50,
                per_customer_limit=1,
                created_by="test",
            )
        )
        level = await s.scalar(select(StockLevel).where(StockLevel.sku_id == sku.id))
        await s.commit()
    assert level is not None
    return level.on_hand - level.reserved


async def test_promoted_stock_is_weighed_against_its_expected_sales(
    db: Database, catalog: SmallCatalog
) -> None:
    have = await put_on_sale(db, catalog.sku_m)  # 10 in stock
    now = utcnow()
    start, end = now - dt.timedelta(hours=2), now + dt.timedelta(hours=22)
    expected = expect(1000, 200, peak_share=0.2, visit_minutes=10)
    assert (expected.orders, expected.peak_users) == (20, 34)
    async with db.read() as s:
        even = await promoted_stock(s, start, end, expected, overrides={}, now=now)
        told = await promoted_stock(
            s, start, end, expected, overrides={catalog.sku_m: have, "NOPE": 1}, now=now
        )
    # Nothing sold lately: the one promoted SKU is expected to take all 20 orders.
    assert [(c.name, c.ok) for c in even] == [(f"stock {catalog.sku_m}", False)]
    assert "10 available, 20 expected" in even[0].detail
    assert [(c.name, c.ok) for c in told] == [
        ("stock NOPE", False),
        (f"stock {catalog.sku_m}", True),
    ]


@pytest.fixture
def shop(tmp_path: Path) -> dict[str, str]:
    env = {"SHOPD_DATA_DIR": str(tmp_path), "SHOPD_BACKGROUND_JOBS": "false"}
    assert shopctl("db", "upgrade", env=env).returncode == 0
    assert shopctl("db", "seed-demo", "--products", "12", env=env).returncode == 0
    return env


def age_backups(folder: Path, days: float) -> None:
    """As if every backup in ``folder`` had been taken ``days`` ago."""
    for manifest in folder.glob("*.manifest.json"):
        data = json.loads(manifest.read_text())
        taken = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
        data["created_at"] = taken.isoformat()
        manifest.write_text(json.dumps(store.sealed(data)))  # as a real older backup


async def test_go_and_each_reason_for_no_go(shop: dict[str, str], tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'shopd.sqlite3'}")
    try:
        async with db.read() as s:
            code = await s.scalar(
                select(Sku.code)
                .join(StockLevel, StockLevel.sku_id == Sku.id)
                .where(StockLevel.on_hand > 5)
                .order_by(Sku.id)
            )
        assert code is not None
        have = await put_on_sale(db, code)
    finally:
        await db.dispose()
    capacity = tmp_path / "capacity"
    capacity.mkdir()
    save_result(
        capacity, users=500, profile="campaign", url="x", limits=Thresholds(), complete=True
    )
    backups = tmp_path / "backups"
    env = {**shop, "SHOPD_BACKUP_DIR": str(backups)}
    assert shopctl("backup", "create", "--verify", env=env).returncode == 0
    port = free_port()
    with running("serve", "--port", str(port), env=shop, cwd=tmp_path, port=port) as (base, _, _):

        def check(*extra: str) -> tuple[int, str]:
            r = shopctl(
                "campaign", "check", "--visitors", VISITORS, "--capacity", str(capacity),
                "--url", base, "--min-free-gb", "0", "--expect", f"{code}={have}", *extra,
                env=env,
            )  # fmt: skip
            assert "Traceback" not in r.stderr
            return r.returncode, r.stdout

        status, out = check()
        assert status == 0, out
        assert f"200 orders, peak {PEAK} shoppers at once" in out
        assert "500 users held" in out and out.rstrip().endswith("go")

        status, out = check("--expect", f"{code}={have + 1}")
        assert status == 1 and f"no-go: stock {code}" in out

        status, out = check("--visitors", "20000")  # peak 667 > 500 held
        assert status == 1 and "no-go: capacity" in out

        status, out = check("--min-free-gb", "1000000")
        assert status == 1 and "no-go: disk" in out

        status, out = check("--url", f"http://127.0.0.1:{free_port()}")
        assert status == 1 and "no-go: shop" in out

        age_backups(backups, days=2)
        status, out = check()
        assert status == 1 and "no-go: backup" in out and "older than 26 h" in out

    # A fresh backup nobody has restored is not proof either.
    assert shopctl("backup", "create", env=env).returncode == 0
    status, out = check()
    assert status == 1 and "prove it with shopctl backup verify" in out
    assert "no-go: backup, shop" in out  # the server is gone too


def test_bad_input_is_refused_clearly(shop: dict[str, str]) -> None:
    r = shopctl("campaign", "check", "--visitors", "100", "--expect", "POT", env=shop)
    assert r.returncode == 1 and "SKU=UNITS" in r.stderr
    r = shopctl("campaign", "check", "--visitors", "0", env=shop)
    assert r.returncode == 2 and "Traceback" not in r.stderr
