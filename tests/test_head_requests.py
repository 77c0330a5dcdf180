"""HEAD is answered as GET without the body (uptime monitors, link checkers, mail scanners), on
both back ends in process and through the real server, and acts on nothing a GET would."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx

from shopd.config import Settings
from shopd.db import Database
from shopd.server.app import create_app
from tests.conftest import SmallCatalog
from tests.server import free_port, read_answer, running, sqlite_shop_env

BROWSER = {"user-agent": "Mozilla/5.0 (X11; Linux x86_64)", "accept-encoding": "identity"}


async def test_head_answers_what_get_answers_without_the_body(
    client: httpx.AsyncClient, catalog: SmallCatalog
) -> None:
    for path in (
        "/",
        f"/p/{catalog.teapot}",
        "/search?q=teapot",
        "/api/v1/products",
        f"/api/v1/products/{catalog.teapot}",
        "/healthz",
        "/p/no-such-product",
        "/api/v1/products/no-such-product",
    ):
        got = await client.get(path, headers=BROWSER)
        head = await client.head(path, headers=BROWSER)
        assert head.status_code == got.status_code, path
        assert head.content == b"", path
        assert head.headers["content-type"] == got.headers["content-type"], path
        # The length of the body a GET gets (the CSRF token in a page is always as long).
        assert int(head.headers["content-length"]) == len(got.content) > 0, path
    gzipped = await client.head("/", headers={**BROWSER, "accept-encoding": "gzip"})
    assert gzipped.headers["content-encoding"] == "gzip" and gzipped.content == b""


async def test_head_of_a_path_without_a_get_is_refused_like_a_get(
    client: httpx.AsyncClient,
) -> None:
    post_only = await client.head("/api/v1/cart/items")
    assert post_only.status_code == 405 and post_only.content == b""
    assert (await client.head("/no/such/page")).status_code == 404


async def test_head_counts_no_visit(
    db: Database, settings: Settings, catalog: SmallCatalog
) -> None:
    app = create_app(settings, database=db)
    visits = app.state["visits"]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://shop.test") as c:
        assert (await c.head(f"/p/{catalog.teapot}", headers=BROWSER)).status_code == 200
        assert visits.pending == 0
        assert (await c.get(f"/p/{catalog.teapot}", headers=BROWSER)).status_code == 200
        assert visits.pending > 0


def test_head_through_the_real_server_keeps_the_connection_in_step(tmp_path: Path) -> None:
    """A body sent after a HEAD answer would be read as the start of the next answer."""
    env = sqlite_shop_env(tmp_path)
    port = free_port()
    with (
        running("serve", "--port", str(port), env=env, cwd=tmp_path, port=port),
        socket.create_connection(("127.0.0.1", port), timeout=10) as conn,
    ):
        leftover = b""
        for method, path in (("HEAD", "/"), ("HEAD", "/healthz"), ("GET", "/healthz")):
            conn.sendall(f"{method} {path} HTTP/1.1\r\nHost: shop\r\n\r\n".encode())
            status, headers, leftover = read_answer(conn, leftover, head=method == "HEAD")
            assert status == 200, (method, path)
            assert int(headers["content-length"]) > 0, (method, path)
            assert leftover == b"", (method, path)
