"""Answers of 1 KiB and more are gzipped for clients that accept it, at ``gzip_level``; at level 0
the shop leaves compressing to the nginx in front of it (the deployed setting)."""

from __future__ import annotations

import gzip

import httpx

from shopd.app import create_app
from shopd.config import Settings
from shopd.db import Database
from tests.conftest import SmallCatalog


async def raw_get(settings: Settings, db: Database, path: str) -> tuple[httpx.Headers, bytes]:
    """The answer's headers and its bytes as sent (httpx would otherwise decode them)."""
    transport = httpx.ASGITransport(app=create_app(settings, database=db))
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://shop.test") as c,
        c.stream("GET", path, headers={"accept-encoding": "gzip"}) as r,
    ):
        assert r.status_code == 200, path
        return r.headers, b"".join([chunk async for chunk in r.aiter_raw()])


async def test_pages_and_api_answers_are_gzipped_at_the_configured_level(
    db: Database, settings: Settings, catalog: SmallCatalog
) -> None:
    for level, xfl in ((1, 4), (9, 2)):
        tuned = settings.model_copy(update={"gzip_level": level})
        for path in ("/", f"/p/{catalog.teapot}", "/schema/openapi.json"):
            headers, body = await raw_get(tuned, db, path)
            assert headers["content-encoding"] == "gzip", path
            # The gzip header's XFL byte tells the level: 4 for the fastest, 2 for the best.
            assert body[8] == xfl, (path, level)
            assert len(gzip.decompress(body)) >= 1024


async def test_small_answers_and_level_zero_go_as_they_are(
    db: Database, settings: Settings, catalog: SmallCatalog
) -> None:
    headers, body = await raw_get(settings, db, "/healthz")
    assert "content-encoding" not in headers and b'"ok"' in body
    headers, body = await raw_get(settings.model_copy(update={"gzip_level": 0}), db, "/")
    assert "content-encoding" not in headers and b"<html" in body.lower()
