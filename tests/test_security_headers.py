"""Every answer tells the browser not to sniff, frame or leak; HTML pages also carry a
Content-Security-Policy that runs only the shop's own scripts."""

from __future__ import annotations

import httpx

from tests.conftest import SmallCatalog


async def test_pages_carry_a_csp_and_every_answer_the_rest(
    client: httpx.AsyncClient, catalog: SmallCatalog
) -> None:
    for path in ("/", f"/p/{catalog.teapot}", "/search?q=x", "/no-such-page"):
        r = await client.get(path)
        assert r.headers["content-type"].startswith("text/html"), path
        policy = r.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
        assert "frame-ancestors 'none'" in policy
    for path in ("/api/v1/categories", "/api/v1/products/nope", "/static/shop.js", "/healthz"):
        r = await client.get(path)
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert "content-security-policy" not in r.headers  # not HTML: nothing to run


async def test_no_inline_script_is_left_for_the_policy_to_break(
    client: httpx.AsyncClient, catalog: SmallCatalog
) -> None:
    import re

    for path in ("/", f"/p/{catalog.teapot}", "/c/t-shirts", "/cart", "/account/login"):
        html = (await client.get(path)).text
        # A JSON-LD data block (schema.org) is not run: the policy has nothing to break there.
        assert not re.search(r'<script(?![^>]*\b(src=|type="application/ld\+json"))', html), path
        assert not re.search(r"\son[a-z]+=", html), path
