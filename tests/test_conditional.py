"""Files answer a revalidation that still holds with a 304 (Litestar sends their ETag and
Last-Modified but never answered one), and product images, named by their content, may be kept
for a year. In process on both back ends and through the real server."""

from __future__ import annotations

from pathlib import Path

import httpx

from shopd.config import Settings
from shopd.http import none_match
from tests.server import free_port, running, sqlite_shop_env

CSS = "/static/shop.css"


async def test_a_file_revalidated_unchanged_is_a_304_without_the_file(
    client: httpx.AsyncClient,
) -> None:
    first = await client.get(CSS, headers={"accept-encoding": "identity"})
    assert first.status_code == 200 and len(first.content) > 1000
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]
    for headers in (
        {"if-none-match": etag},
        {"if-none-match": f'"other", W/{etag}'},
        {"if-none-match": "*"},
        {"if-modified-since": last_modified},
        {"if-modified-since": "Fri, 01 Jan 2100 00:00:00 GMT"},
    ):
        again = await client.get(CSS, headers={**headers, "accept-encoding": "identity"})
        assert again.status_code == 304 and again.content == b"", headers
        assert again.headers["etag"] == etag and again.headers["cache-control"], headers
        assert "content-length" not in again.headers or again.headers["content-length"] == "0"
    for headers in (
        {"if-none-match": '"other"'},
        {"if-modified-since": "Mon, 01 Jan 2001 00:00:00 GMT"},
        {"if-modified-since": "not a date"},
        # If-None-Match decides alone when it is sent.
        {"if-none-match": '"other"', "if-modified-since": last_modified},
    ):
        changed = await client.get(CSS, headers=headers)
        assert changed.status_code == 200 and changed.content == first.content, headers


async def test_product_images_are_kept_a_year_and_revalidate(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    folder = settings.media_dir / "products"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "0123abcd.gif").write_bytes(b"GIF89a" + bytes(100))
    image = await client.get("/media/products/0123abcd.gif")
    assert image.status_code == 200 and image.content.startswith(b"GIF89a")
    cache = {part.strip() for part in image.headers["cache-control"].split(",")}
    assert {"public", "immutable", "max-age=31536000"} <= cache
    again = await client.get(
        "/media/products/0123abcd.gif", headers={"if-none-match": image.headers["etag"]}
    )
    assert again.status_code == 304 and again.content == b""
    assert (await client.get("/media/products/none.gif")).status_code == 404


def test_etags_compare_weakly_over_a_list() -> None:
    assert none_match('"a"', '"a"') and none_match('W/"a"', '"a"') and none_match('"a"', 'W/"a"')
    assert none_match('"x", W/"a"', '"a"') and none_match(" * ", '"a"')
    assert not none_match(None, '"a"') and not none_match("", '"a"')
    assert not none_match('"ab"', '"a"') and not none_match("a", '"a"')


def test_a_revalidation_through_the_real_server(tmp_path: Path) -> None:
    env = sqlite_shop_env(tmp_path)
    port = free_port()
    with (
        running("serve", "--port", str(port), env=env, cwd=tmp_path, port=port) as (base, _, _),
        httpx.Client(base_url=base) as c,
    ):
        first = c.get(CSS)
        again = c.get(CSS, headers={"if-none-match": first.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        # The kept-alive connection is still in step after the 304.
        assert c.get("/healthz").json()["status"] == "ok"
