"""/schema opens without the internet: the Redoc viewer comes from the shop's own static
files (with its licence beside it), and the page asks no other host for anything."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx

from shopd.web.render import STATIC


class Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.urls.append(value)


async def test_the_api_docs_load_only_the_shops_own_files(client: httpx.AsyncClient) -> None:
    r = await client.get("/schema")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assets = Assets()
    assets.feed(r.text)
    assert assets.urls == ["/static/vendor/redoc/redoc.standalone.js"]
    # Nothing else names a host: no web fonts, no icon, no script from a CDN.
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", r.text)
    assert "fonts.googleapis" not in r.text and "cdn." not in r.text.split("Redoc.init")[0]
    js = await client.get(assets.urls[0])
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert b"Redoc" in js.content[:2000] and len(js.content) > 500_000
    licence = (STATIC / "vendor" / "redoc" / "LICENSE").read_text()
    assert licence.startswith("The MIT License") and "Rebilly" in licence
