"""Fixtures: every service and API test runs on SQLite and on a real MariaDB (marker ``mysql``)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from shopd.catalog.models import Category, Product, Series, Sku
from shopd.catalog.service import search_text_for
from shopd.config import Settings
from shopd.db import Database, make_engine
from shopd.inventory.service import open_stock
from shopd.models import metadata
from shopd.server.app import create_app


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Spread over pytest-xdist workers a module at a time, the lab as one unit and first.

    A module's fixtures (a fuzzed server, a backup set, a seeded load-test shop) are made once,
    on one worker. The lab tests share one set of hosts, so they run on one worker, and they go
    first: they are the longest unit and the other workers fill in around them.
    """
    for item in items:
        group = "lab" if item.get_closest_marker("lab") else item.nodeid.split("::", 1)[0]
        item.add_marker(pytest.mark.xdist_group(group))
    items.sort(key=lambda item: item.get_closest_marker("lab") is None)


MYSQL_URL = os.environ.get("SHOPD_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing_prerequisite(reason: str) -> None:
    """Locally a missing prerequisite skips; under CI it fails, so green means everything ran."""
    if IN_CI:
        pytest.fail(f"CI=true and a prerequisite is missing: {reason}", pytrace=False)
    pytest.skip(reason)


def mysql_url(database: str | None) -> str:
    return make_url(MYSQL_URL).set(database=database).render_as_string(hide_password=False)


_mysql_checked: dict[str, str | None] = {}


async def _mysql_available() -> str | None:
    if "result" not in _mysql_checked:
        engine = make_engine(mysql_url(None))
        try:
            async with asyncio.timeout(5), engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            _mysql_checked["result"] = None
        except Exception as exc:
            _mysql_checked["result"] = f"MariaDB at {MYSQL_URL} is not reachable: {exc}"
        finally:
            await engine.dispose()
    return _mysql_checked["result"]


async def create_mysql_database() -> str:
    problem = await _mysql_available()
    if problem:
        missing_prerequisite(problem)
    name = f"shopd_test_{uuid.uuid4().hex[:12]}"
    engine = make_engine(mysql_url(None))
    async with engine.begin() as conn:
        await conn.execute(
            text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        )
    await engine.dispose()
    return name


async def drop_mysql_database(name: str) -> None:
    engine = make_engine(mysql_url(None))
    async with engine.begin() as conn:
        await conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
    await engine.dispose()


@dataclass
class Backend:
    name: str
    url: str


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    """An empty database (no schema) on each back end."""
    if request.param == "sqlite":
        yield Backend("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'shop.sqlite3'}")
        return
    name = await create_mysql_database()
    try:
        yield Backend("mysql", mysql_url(name))
    finally:
        await drop_mysql_database(name)


@pytest.fixture
async def db(backend: Backend) -> AsyncIterator[Database]:
    """A database with the current schema."""
    database = Database(backend.url, pool_size=20)
    async with database.write_engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def settings(tmp_path: Path, backend: Backend) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=backend.url,
        secret_key="test-secret",
        background_jobs=False,
        mail_backend="files",
        # Leave the test process's garbage collector as CPython set it (tests/test_gc_tuning.py).
        gc_tuned=False,
    )


@pytest.fixture
async def client(db: Database, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    # In the test's own event loop: the database connections belong to it.
    app = create_app(settings, database=db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://shop.test") as c:
        yield c


@contextmanager
def executed(db: Database, containing: str = "") -> Iterator[list[str]]:
    """The SQL the database runs while inside, the statements that contain ``containing``
    (any case)."""
    seen: list[str] = []
    wanted = containing.lower()

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if wanted in statement.lower():
            seen.append(statement)

    # SQLite writes go through their own engine.
    engines = {db.engine.sync_engine, db.write_engine.sync_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)


@dataclass
class SmallCatalog:
    """Two products: a T-shirt with sizes (stock 10/5/0) and a Chinese-named teapot (stock 3)."""

    tshirt: str = "cotton-tee"
    teapot: str = "zisha-teapot"
    hidden: str = "old-stock"
    sku_m: str = "TEE-M"
    sku_l: str = "TEE-L"
    sku_xl: str = "TEE-XL"
    sku_pot: str = "POT-1"
    sku_hidden: str = "OLD-1"


async def seed_small(db: Database) -> SmallCatalog:
    cat = SmallCatalog()
    async with db.write() as s:
        apparel = Series(slug="apparel", name="服饰", name_en="Apparel", position=0)
        home = Series(slug="home", name="家居", name_en="Home", position=1)
        s.add_all([apparel, home])
        await s.flush()
        tees = Category(series_id=apparel.id, slug="t-shirts", name="T恤", name_en="T-shirts")
        tea = Category(series_id=home.id, slug="tea-sets", name="茶具", name_en="Tea sets")
        tees.series, tea.series = apparel, home
        s.add_all([tees, tea])
        await s.flush()
        specs = [
            (
                cat.tshirt,
                tees,
                "纯棉圆领T恤",
                "Cotton crew-neck T-shirt",
                7900,
                True,
                [
                    (cat.sku_m, {"size": "M"}, None, 10),
                    (cat.sku_l, {"size": "L"}, None, 5),
                    (cat.sku_xl, {"size": "XL"}, 8900, 0),
                ],
            ),
            (
                cat.teapot,
                tea,
                "宜兴紫砂壶",
                "Yixing clay teapot",
                58800,
                True,
                [(cat.sku_pot, {}, None, 3)],
            ),
            (
                cat.hidden,
                tea,
                "旧款茶杯",
                "Old tea cup",
                1000,
                False,
                [(cat.sku_hidden, {}, None, 50)],
            ),
        ]
        for slug, category, zh, en, price, listed, sku_specs in specs:
            product = Product(
                slug=slug,
                category_id=category.id,
                name=zh,
                name_en=en,
                description="",
                list_price=price,
                images=[f"/img/{slug}.jpg"],
                listed=listed,
            )
            skus = [Sku(code=code, attributes=attrs, price=p) for code, attrs, p, _ in sku_specs]
            product.search_text = search_text_for(product, skus, category, category.series)
            s.add(product)
            await s.flush()
            for sku, (_, _, _, on_hand) in zip(skus, sku_specs, strict=True):
                sku.product_id = product.id
                s.add(sku)
                await s.flush()
                open_stock(s, sku.id, on_hand, actor="test")
        await s.commit()
    return cat


@pytest.fixture
async def catalog(db: Database) -> SmallCatalog:
    return await seed_small(db)


ADDRESS = {
    "recipient": "王小明",
    "phone": "+86 138 0013 8000",
    "region": "浙江省",
    "city": "杭州市",
    "line1": "西湖区文三路 100 号",
    "postcode": "310000",
}


def checkout_body(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "payment_method": "bank_transfer",
        "email": "guest@example.com",
        "address": dict(ADDRESS),
    }
    body.update(overrides)
    return body


@pytest.fixture(scope="session")
def repo_root() -> Iterator[Path]:
    yield Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def lab_deployed() -> Iterator[dict]:
    """The lab, up and with the whole site deployed (network and shop), for every lab test."""
    from infra.lab import lab
    from tests.labkit import deploy, require_lab, shopctl

    if os.environ.get("SHOPD_TEST_LAB_REUSE") and lab.is_up():
        # Developing lab tests: keep the running lab, deploy what changed, leave it up after.
        code, results, stderr = deploy()
        assert code == 0, stderr[-3000:]
        yield results
        return
    require_lab()
    up = shopctl("lab", "up")
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        # The first deploy as an operator types it; the summary table names every host.
        first = shopctl("deploy", "--lab", "--log", str(lab.state_dir() / "first-deploy.log"))
        assert first.returncode == 0, first.stdout + first.stderr
        for host in ("edge", "app1", "app2", "db1"):
            assert f" {host} " in first.stdout
        code, results, stderr = deploy()
        assert code == 0, stderr[-3000:]
        yield results
    finally:
        shopctl("lab", "down")
