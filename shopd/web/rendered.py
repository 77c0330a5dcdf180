"""Catalog pages as rendered for anonymous visitors, cached per worker while what they show is.

Under a campaign most page views are guests without a cart looking at the same pages, and
their catalog data already comes from the read cache. Rendering the same template again for
each of them was the larger part of such a page's time. An entry is good only while every
object the page was rendered from is the very object the read cache hands out now (``is``,
not ``==``): when the read cache loads anew, the page renders anew. So a cached page is never
older than the data behind it, and it needs no expiry or clearing of its own.

Each browser's CSRF token and cart count differ, so pages are rendered with placeholders that
are replaced by the visitor's own on the way out.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache

# Safe in an HTML attribute as it is; CSRF tokens are hex and so are never mistaken for it.
CSRF_SLOT = "csrf-slot-not-a-token"
CART_SLOT = "cart-slot-not-a-count"
MAX_PAGES = 1024
_PLAIN = (str, int, float, bool, type(None))


@dataclass(slots=True, frozen=True)
class _Page:
    inputs: tuple[tuple[str, Any], ...]
    html: str


def _same(cached: tuple[tuple[str, Any], ...], now: tuple[tuple[str, Any], ...]) -> bool:
    if len(cached) != len(now):
        return False
    for (name_a, a), (name_b, b) in zip(cached, now, strict=True):
        if name_a != name_b:
            return False
        if a is b:
            continue
        if not (isinstance(a, _PLAIN) and type(a) is type(b) and a == b):
            return False
    return True


class RenderedPages:
    def __init__(self, max_pages: int = MAX_PAGES) -> None:
        self._pages: LRUCache[Hashable, _Page] = LRUCache(max_pages)
        self.hits = 0
        self.misses = 0

    @staticmethod
    def inputs(context: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
        return tuple(sorted(context.items()))

    def get(self, key: Hashable, inputs: tuple[tuple[str, Any], ...]) -> str | None:
        page = self._pages.get(key)
        if page is None or not _same(page.inputs, inputs):
            self.misses += 1
            return None
        self.hits += 1
        return page.html

    @staticmethod
    def fill(html: str, csrf_token: str, cart_items: int) -> str:
        return html.replace(CSRF_SLOT, csrf_token).replace(CART_SLOT, str(cart_items))

    def put(self, key: Hashable, inputs: tuple[tuple[str, Any], ...], html: str) -> None:
        self._pages[key] = _Page(inputs, html)
