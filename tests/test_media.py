"""Uploaded images are the database's: any app server answers for them, and a backup holds
them. On both back ends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from sqlalchemy import func, select

from shopd.catalog.models import MediaFile
from shopd.config import Settings
from shopd.db import Database
from shopd.server.app import create_app
from tests.conftest import Backend, SmallCatalog
from tests.staffkit import make_staff
from tests.test_backups import backup, cleanup_targets, listed, scratch, shop, target_url
from tests.test_catalog_admin import PNG

__all__ = ["cleanup_targets", "scratch", "shop"]  # fixtures used here


@asynccontextmanager
async def app_server(db: Database, data_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    """Another app server of the same shop: the same database, a disk of its own."""
    settings = Settings(
        data_dir=data_dir,
        database_url=db.url,
        secret_key="test-secret",
        background_jobs=False,
        mail_backend="files",
        gc_tuned=False,
    )
    transport = httpx.ASGITransport(app=create_app(settings, database=db))
    async with httpx.AsyncClient(transport=transport, base_url="http://shop.test") as client:
        yield client


async def upload(client: httpx.AsyncClient, db: Database, slug: str) -> str:
    staff = await make_staff(client, db)
    r = await client.post(f"/api/v1/staff/products/{slug}/images", content=PNG, headers=staff.clerk)
    assert r.status_code == 201, r.text
    return str(r.json()["images"][-1])


async def test_an_image_taken_by_one_app_server_is_served_by_another(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog, tmp_path: Path
) -> None:
    image = await upload(client, db, catalog.tshirt)
    async with app_server(db, tmp_path / "app2") as app2:
        served = await app2.get(image)
        assert served.status_code == 200 and served.content == PNG
        assert served.headers["content-type"] == "image/png"
        assert "immutable" in served.headers["cache-control"]
        # Its own copy now: lost, it is made again from the database.
        copy = tmp_path / "app2" / "media" / image.removeprefix("/media/")
        assert copy.read_bytes() == PNG
        copy.unlink()
        again = await app2.get(image)
        assert again.status_code == 200 and again.content == PNG
        revalidated = await app2.get(image, headers={"If-None-Match": again.headers["etag"]})
        assert revalidated.status_code == 304


async def test_an_unknown_or_crafted_image_name_is_404_and_writes_nothing(
    client: httpx.AsyncClient, db: Database, tmp_path: Path
) -> None:
    async with app_server(db, tmp_path / "app2") as app2:
        for path in (
            "/media/products/" + "0" * 32 + ".png",
            "/media/products/..%2F..%2Fshop.sqlite3",
            "/media/../config.toml",
            "/media/products/x.exe",
        ):
            assert (await app2.get(path)).status_code in (400, 404), path
    written = [p for p in (tmp_path / "app2").rglob("*") if p.is_file()]
    assert written == []
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(MediaFile)) == 0


def test_a_backup_restores_the_images(
    shop: str,
    backend: Backend,
    tmp_path: Path,
    scratch: list[str],
    cleanup_targets: list[str],
) -> None:
    async def uploaded() -> str:
        db = Database(shop)
        try:
            async with app_server(db, tmp_path / "app1") as app1:
                slug = (await app1.get("/api/v1/products")).json()["items"][0]["slug"]
                return await upload(app1, db, slug)
        finally:
            await db.dispose()

    image = asyncio.run(uploaded())
    folder = tmp_path / "backups"
    made = backup("create", *scratch, directory=folder, db=shop)
    assert made.returncode == 0, made.stderr + made.stdout
    [entry] = listed(folder)
    assert entry["tables"]["media_files"] == 1
    target = target_url(backend, tmp_path, "_media")
    cleanup_targets.append(target)
    restored = backup("restore", entry["id"], "--to", target, directory=folder)
    assert restored.returncode == 0, restored.stderr + restored.stdout

    async def served_from_restore() -> httpx.Response:
        db = Database(target)
        try:
            # A fresh host: nothing on its disk.
            async with app_server(db, tmp_path / "fresh") as fresh:
                return await fresh.get(image)
        finally:
            await db.dispose()

    served = asyncio.run(served_from_restore())
    assert served.status_code == 200 and served.content == PNG
