"""Answers of 1 KiB and more are gzipped for clients that accept it, at ``gzip_level``; at level 0
the shop leaves compressing to the nginx in front of it (the deployed setting)."""

from __future__ import annotations

import gzip
from pathlib import Path

import httpx
import pytest

import shopd.web
from shopd.config import Settings
from shopd.db import Database
from shopd.server.app import create_app
from shopd.server.compression import _window_bits, accepts_gzip
from tests.conftest import SmallCatalog

STATIC = Path(shopd.web.__file__).parent / "static"


async def raw_get(
    settings: Settings,
    db: Database,
    path: str,
    accept: str = "gzip",
) -> tuple[httpx.Headers, bytes]:
    """The answer's headers and its bytes as sent (httpx would otherwise decode them)."""
    transport = httpx.ASGITransport(app=create_app(settings, database=db))
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://shop.test") as c,
        c.stream("GET", path, headers={"accept-encoding": accept}) as r,
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


async def test_what_may_be_gzipped_varies_and_a_refusal_of_gzip_is_heeded(
    db: Database, settings: Settings, catalog: SmallCatalog
) -> None:
    for accept in ("identity", "gzip;q=0", "br"):
        headers, body = await raw_get(settings, db, "/", accept=accept)
        assert "content-encoding" not in headers and b"<html" in body.lower(), accept
        assert "accept-encoding" in vary(headers), accept
    headers, body = await raw_get(settings, db, "/", accept="br, *;q=0.5")
    assert headers["content-encoding"] == "gzip" and b"<html" in gzip.decompress(body).lower()
    # The length sent is the length of the gzipped bytes.
    assert int(headers["content-length"]) == len(body)


async def test_files_stream_gzipped_and_images_go_as_they_are(
    db: Database, settings: Settings
) -> None:
    css = (STATIC / "shop.css").read_bytes()
    assert len(css) >= 1024
    headers, body = await raw_get(settings, db, "/static/shop.css")
    assert headers["content-encoding"] == "gzip" and gzip.decompress(body) == css
    assert "accept-encoding" in vary(headers)
    image = bytes(range(256)) * 16  # 4 KiB that would not shrink
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    (settings.media_dir / "photo.png").write_bytes(image)
    headers, body = await raw_get(settings, db, "/media/photo.png")
    assert headers["content-type"] == "image/png" and body == image
    assert "content-encoding" not in headers and "vary" not in headers


async def test_a_not_modified_answer_carries_no_body_to_compress(
    client: httpx.AsyncClient, catalog: SmallCatalog
) -> None:
    etag = (await client.get(f"/p/{catalog.teapot}")).headers["etag"]
    r = await client.get(
        f"/p/{catalog.teapot}", headers={"if-none-match": etag, "accept-encoding": "gzip"}
    )
    assert r.status_code == 304 and r.content == b""
    assert "content-encoding" not in r.headers


async def test_a_gzipped_page_carries_a_weak_etag_that_still_revalidates(
    client: httpx.AsyncClient, catalog: SmallCatalog
) -> None:
    """The ETag names the page's bytes; gzipped they are other bytes (RFC 9110 8.8.3), so the
    gzipped answer's tag is weak, and a browser sending either form back gets its 304."""
    path = f"/p/{catalog.teapot}"
    plain = (await client.get(path, headers={"accept-encoding": "identity"})).headers["etag"]
    gzipped = (await client.get(path, headers={"accept-encoding": "gzip"})).headers["etag"]
    assert plain.startswith('"') and gzipped == "W/" + plain
    for sent, encoding, answered in (
        (gzipped, "gzip", gzipped),
        (plain, "identity", plain),
        (plain, "gzip", gzipped),
        (f'"other", {gzipped}', "gzip", gzipped),
        ("*", "identity", plain),
    ):
        r = await client.get(path, headers={"if-none-match": sent, "accept-encoding": encoding})
        assert r.status_code == 304 and r.content == b"", sent
        assert r.headers["etag"] == answered, (sent, encoding)
    for stale in ('"other"', 'W/"other", "another"', plain[:-2] + '"'):
        r = await client.get(path, headers={"if-none-match": stale})
        assert r.status_code == 200 and r.headers["etag"] == gzipped, stale


def vary(headers: httpx.Headers) -> list[str]:
    return [v.strip().lower() for v in headers.get("vary", "").split(",")]


@pytest.mark.parametrize(
    ("accept", "takes"),
    [
        ("gzip", True),
        ("GZIP, deflate", True),
        ("deflate, gzip;q=0.5", True),
        ("gzip;q=0", False),
        ("*", True),
        ("*;q=0", False),
        ("gzip;q=0, *", False),
        ("gzip;q=bogus", False),
        ("br", False),
        ("", False),
    ],
)
def test_accept_encoding_is_read_as_http_says(accept: str, takes: bool) -> None:
    scope = {"headers": [(b"accept-encoding", accept.encode())]}
    assert accepts_gzip(scope) is takes  # type: ignore[arg-type]


def test_a_whole_answer_is_compressed_with_a_window_that_holds_it() -> None:
    assert [_window_bits(n) for n in (0, 511, 1024, 16_000, 40_000, 10**7)] == [
        9,
        9,
        11,
        14,
        15,
        15,
    ]
