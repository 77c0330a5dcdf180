"""shopctl as an operator types it: demo, db upgrade, seed-demo, staff add, serve's checks."""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from shopd import migrations
from shopd.catalog.models import Product, Sku
from shopd.customers.models import MembershipLevel
from shopd.db import Database
from shopd.inventory.models import StockLevel, StockMovement
from shopd.promotions.models import Coupon, GroupBuy
from shopd.staff import service as staff
from tests.conftest import ADDRESS, Backend
from tests.server import free_port, running, shopctl


def test_demo_runs_a_shop_and_prints_the_admin_password(tmp_path: Path) -> None:
    port = free_port()
    with running("demo", "--port", str(port), cwd=tmp_path, port=port) as (base, _, log):
        out = log.read_text()
        password = re.search(r"admin / (\S+)", out)
        assert password, out
        assert f"http://localhost:{port}/schema" in out
        cats = httpx.get(f"{base}/api/v1/categories").json()
        assert len(cats) == 2 and sum(len(s["categories"]) for s in cats) == 12
        products = httpx.get(f"{base}/api/v1/products", params={"q": "茶"}).json()
        assert products["total"] > 0
        r = httpx.post(
            f"{base}/api/v1/staff/session",
            json={"username": "admin", "password": password.group(1)},
        )
        assert r.status_code == 201 and r.json()["staff"]["role"] == "admin"
        home = httpx.get(base).text
        assert "<h1" in home and "Double 11" in home  # the storefront with the demo announcement
        assert httpx.get(f"{base}/help/returns").status_code == 200
        assert httpx.get(f"{base}/schema/openapi.json").status_code == 200

        # The demo runs the local test gateway for real: pay a card order through it.
        gateway = re.search(r"test gateway at (http://[0-9.:]+)", out)
        assert gateway, out
        with httpx.Client(base_url=base, timeout=30) as shopper:
            slug = shopper.get("/api/v1/products").json()["items"][0]["slug"]
            skus = shopper.get(f"/api/v1/products/{slug}").json()["skus"]
            sku = next(s for s in skus if s["available"] > 0)
            shopper.post("/api/v1/cart/items", json={"sku": sku["code"], "quantity": 1})
            order = shopper.post(
                "/api/v1/orders",
                json={"payment_method": "card", "email": "demo@example.com", "address": ADDRESS},
            ).json()
            pay = shopper.post(
                f"/api/v1/orders/{order['number']}/payment", json={"email": "demo@example.com"}
            ).json()
        assert pay["redirect_url"].startswith(gateway.group(1))
        done = httpx.post(
            pay["redirect_url"], data={"outcome": "succeeded"}, follow_redirects=True, timeout=30
        )
        assert f"order {order['number']} is paid" in done.text
        # ... and its e-mails go to files, sent by the background jobs.
        mail = tmp_path / "var" / "mail"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(list(mail.glob("*.eml"))) < 2:
            time.sleep(0.5)
        sent = sorted(p.name for p in mail.glob("*.eml"))
        assert [n.split("-", 1)[1] for n in sent] == ["order_placed.eml", "order_paid.eml"]
    assert (tmp_path / "var" / "shopd.sqlite3").exists()
    # Stopping the demo stops its gateway too.
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{gateway.group(1)}/pay/-", timeout=2)


async def test_upgrade_seed_and_staff_add(backend: Backend, tmp_path: Path) -> None:
    env = {"SHOPD_DATABASE_URL": backend.url, "SHOPD_DATA_DIR": str(tmp_path)}
    first = shopctl("db", "upgrade", env=env)
    assert (
        first.returncode == 0 and f"upgraded: empty → {migrations.head_revision()}" in first.stdout
    ), first.stderr
    again = shopctl("db", "upgrade", env=env)
    assert again.returncode == 0 and "up to date" in again.stdout

    seeded = shopctl("db", "seed-demo", "--products", "600", env=env)
    assert seeded.returncode == 0, seeded.stderr
    db = Database(backend.url)
    try:
        async with db.read() as s:
            assert await s.scalar(select(func.count()).select_from(Product)) == 600
            names = (await s.execute(select(Product.name, Product.name_en).limit(600))).all()
            assert len({n for n, _ in names}) == 600  # every product has its own name
            assert all(re.search(r"[\u4e00-\u9fff]", zh) and en for zh, en in names)
            skus = await s.scalar(select(func.count()).select_from(Sku))
            on_hand = await s.scalar(select(func.sum(StockLevel.on_hand)))
            ledger = await s.scalar(select(func.sum(StockMovement.delta)))
            assert skus and skus > 600 and on_hand == ledger
            # Every kind of campaign is there to try: a VIP ladder, coupons, a group buy.
            assert await s.scalar(select(func.count()).select_from(MembershipLevel)) == 3
            codes = set(await s.scalars(select(Coupon.code)))
            assert codes == {"FULL200", "FREESHIP"}
            assert await s.scalar(select(func.count()).select_from(GroupBuy)) == 1
        again = shopctl("db", "seed-demo", env=env)
        assert again.returncode == 0 and "already" in again.stdout

        added = shopctl(
            "staff",
            "add",
            "wang.fang",
            "--role",
            "manager",
            "--password-stdin",
            env=env,
            stdin="a-long-password\n",
        )
        assert added.returncode == 0, added.stderr
        assert "a-long-password" not in added.stdout
        generated = shopctl("staff", "add", "zhao.lei", "--role", "clerk", env=env)
        password = re.search(r"password: (\S+)", generated.stdout)
        assert password, generated.stdout
        async with db.read() as s:
            user = await staff.authenticate(s, "wang.fang", "a-long-password")
            assert user.role == "manager"
            assert (await staff.authenticate(s, "zhao.lei", password.group(1))).role == "clerk"
        dup = shopctl("staff", "add", "wang.fang", "--role", "clerk", env=env)
        assert dup.returncode == 1 and "exists already" in dup.stderr
        bad_role = shopctl("staff", "add", "x.y", "--role", "owner", env=env)
        assert bad_role.returncode == 1 and "role must be one of" in bad_role.stderr
    finally:
        await db.dispose()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "is not a database URL"),
        ("postgresql://localhost/shop", "unsupported database 'postgresql'"),
        ("mysql://shop:secret@127.0.0.1:1/shop", "cannot connect to the database"),
    ],
)
def test_bad_database_urls_get_clear_errors(tmp_path: Path, url: str, message: str) -> None:
    r = shopctl("serve", "--port", str(free_port()), env={"SHOPD_DATABASE_URL": url})
    assert r.returncode == 1
    assert message in r.stderr and "Traceback" not in r.stderr
    assert "secret" not in r.stderr  # passwords are never echoed


def test_serve_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    env = {"SHOPD_DATA_DIR": str(tmp_path)}
    (tmp_path / "shopd.sqlite3").touch()
    r = shopctl("serve", "--port", str(free_port()), env=env)
    assert r.returncode == 1
    assert "no shopd schema yet" in r.stderr and "shopctl db upgrade" in r.stderr


def test_port_in_use_is_reported(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = shopctl("demo", "--port", str(port), cwd=tmp_path)
    assert r.returncode == 1
    assert f"port {port} on 127.0.0.1 is in use" in r.stderr


def test_paygate_needs_its_secrets(tmp_path: Path) -> None:
    env = {"SHOPD_PAYMENT_GATEWAY_KEY": "", "SHOPD_PAYMENT_WEBHOOK_SECRET": ""}
    r = shopctl("paygate", "--port", str(free_port()), env=env, cwd=tmp_path)
    assert r.returncode == 1 and "needs a key and a webhook secret" in r.stderr
    assert "Traceback" not in r.stderr


def test_worker_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    (tmp_path / "shopd.sqlite3").touch()
    r = shopctl("worker", "--once", env={"SHOPD_DATA_DIR": str(tmp_path)}, cwd=tmp_path)
    assert r.returncode == 1
    assert "no shopd schema yet" in r.stderr and "Traceback" not in r.stderr
