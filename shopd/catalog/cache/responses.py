"""JSON responses built from a cached catalog read, cached with it per worker.

A product or listing response is a pure function of what the read cache hands out (and of the
shop's currency), but building it from the ORM objects again for every caller was a third of
a cached response's time. A response is reused only while the read behind it is the very
object the read cache hands out now (``is``): when the read cache loads anew, the response is
built anew, so it is never older than the data it shows. The storefront's pages are cached
the same way (``shopd.web.rendered``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from cachetools import LRUCache

S = TypeVar("S")
T = TypeVar("T")

MAX_RESPONSES = 2048


class CachedResponses:
    def __init__(self, max_responses: int = MAX_RESPONSES) -> None:
        self._responses: LRUCache[Hashable, tuple[Any, Any]] = LRUCache(max_responses)
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, source: S, build: Callable[[S], T]) -> T:
        """``build(source)``, or what it gave last time for ``key`` if ``source`` is the same
        object as then."""
        cached = self._responses.get(key)
        if cached is not None and cached[0] is source:
            self.hits += 1
            return cached[1]  # type: ignore[no-any-return]
        self.misses += 1
        response = build(source)
        self._responses[key] = (source, response)
        return response


def response_of(
    responses: CachedResponses | None, key: Hashable, source: S, build: Callable[[S], T]
) -> T:
    """Through ``responses`` when the app caches them (its read cache is on), else built."""
    return build(source) if responses is None else responses.get(key, source, build)
