"""``/metrics`` of a server with several workers counts every worker's requests.

Each worker used to keep its own counters, so a scrape told only the requests of the worker that
happened to take it, and two scrapes in a row disagreed.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.server import free_port, running, sqlite_shop_env

REQUESTS = 60
SERIES = re.compile(r"^litestar_requests_total\{(?P<labels>[^}]*)\} (?P<value>[0-9.e+]+)$", re.M)


def categories_served(text: str) -> float:
    return sum(
        float(m.group("value"))
        for m in SERIES.finditer(text)
        if 'path="/api/v1/categories"' in m.group("labels") and 'method="GET"' in m.group("labels")
    )


def test_every_scrape_counts_the_requests_of_all_workers(tmp_path: Path) -> None:
    env = sqlite_shop_env(tmp_path)
    port = free_port()
    with running(
        "serve", "--port", str(port), "--workers", "2", env=env, cwd=tmp_path, port=port
    ) as (base, _proc, _log):

        def fetch(_: int) -> int:
            # A connection of its own each: the kernel hands them to either worker.
            return httpx.get(f"{base}/api/v1/categories", timeout=10).status_code

        with ThreadPoolExecutor(8) as pool:
            assert list(pool.map(fetch, range(REQUESTS))) == [200] * REQUESTS
        scrapes = [
            categories_served(httpx.get(f"{base}/metrics", timeout=10).text) for _ in range(8)
        ]
    assert scrapes == [REQUESTS] * 8
