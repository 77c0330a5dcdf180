"""CPU per response the catalog cache holds, through the whole app in process: no network, no
server.

    SHOPD_DATABASE_URL=sqlite:////path/shop.sqlite3 python -m benchmarks.response_cost

Runs against a seeded shop (``shopctl db seed-demo``) and prints a table: the storefront's
pages and the JSON API's responses as a guest with a cookie jar sees them once they are
cached, and ``/healthz`` for what the framework alone costs. What is left of a response's cost
once its data is cached is the framework's and the shop's own work per request, which every
request of the campaign pays; the load profiles measure the rest. CPU time, not wall time.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from shopd.catalog.models import Category, Product
from shopd.config import Settings, get_settings
from shopd.server.app import create_app

ROUNDS = 2000


NO_CATALOG = "the shop has no catalog: shopctl db upgrade and shopctl db seed-demo first"


async def _slugs(app: Any) -> tuple[str, str] | None:
    """A listed product's and a category's slug; None when the shop has no catalog."""
    try:
        async with app.state["db"].read() as session:
            product = await session.scalar(
                select(Product.slug).where(Product.listed.is_(True)).order_by(Product.id).limit(1)
            )
            category = await session.scalar(select(Category.slug).order_by(Category.id).limit(1))
    except DBAPIError:  # no tables yet: a database never upgraded, or the wrong one
        return None
    if product is None or category is None:
        return None
    return product, category


class _Guest:
    """A browser with a cookie jar that accepts gzip, calling the ASGI app directly."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.cookies: dict[bytes, bytes] = {}

    async def get(self, path: str, query: str = "") -> int:
        headers = [
            (b"host", b"shop.test"),
            (b"accept-encoding", b"gzip"),
            (b"user-agent", b"benchmarks.response_cost"),
        ]
        if self.cookies:
            jar = b"; ".join(k + b"=" + v for k, v in self.cookies.items())
            headers.append((b"cookie", jar))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        status = 0

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", ()):
                    if name.lower() == b"set-cookie":
                        key, _, rest = bytes(value).partition(b"=")
                        self.cookies[key] = rest.partition(b";")[0]

        await self.app(scope, receive, send)
        return status


async def measure(settings: Settings | None = None) -> list[tuple[str, int, float]]:
    """(what, status, µs of CPU per response) for each response, cached before it is timed."""
    app = create_app(settings or get_settings())
    rows: list[tuple[str, int, float]] = []
    async with app.lifespan():
        slugs = await _slugs(app)
        if slugs is not None:
            rows = await _measure(app, *slugs)
    if slugs is None:
        # Raised outside the lifespan, whose task group would wrap it in an exception group.
        raise SystemExit(NO_CATALOG)
    return rows


async def _measure(app: Any, product: str, category: str) -> list[tuple[str, int, float]]:
    """Each response once cached: its status and µs of CPU."""
    rows = []
    guest = _Guest(app)
    responses = [
        ("page /", "/", ""),
        ("page /c/[category]", f"/c/{category}", ""),
        ("page /p/[product]", f"/p/{product}", ""),
        ("page /search", "/search", "q=a"),
        ("api products/[slug]", f"/api/v1/products/{product}", ""),
        ("api products?category", "/api/v1/products", f"category={category}"),
        ("api products?q", "/api/v1/products", "q=a"),
        ("/healthz", "/healthz", ""),
    ]
    for name, path, query in responses:
        for _ in range(20):  # the read cache, the cached page and the cookies settle
            status = await guest.get(path, query)
        start = time.process_time()
        for _ in range(ROUNDS):
            await guest.get(path, query)
        rows.append((name, status, (time.process_time() - start) / ROUNDS * 1e6))
    return rows


def main() -> None:
    table = Table(title=f"a cached response, in process, {ROUNDS} each")
    table.add_column("response")
    table.add_column("status", justify="right")
    table.add_column("µs CPU per response", justify="right")
    for name, status, micros in asyncio.run(measure()):
        table.add_row(escape(name), str(status), f"{micros:,.0f}")
    Console().print(table)


if __name__ == "__main__":
    main()
