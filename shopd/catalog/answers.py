"""JSON answers built from a kept catalog read, kept with it per worker.

A product or listing answer is a pure function of what the read cache hands out (and of the
shop's currency), but building it from the ORM objects again for every caller was a third of
a cached answer's time. An answer is reused only while the read behind it is the very object
the cache hands out now (``is``): when the read cache loads anew, the answer is built anew, so
it is never older than the data it shows. The storefront's pages are kept the same way
(``shopd.web.rendered``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from cachetools import LRUCache

S = TypeVar("S")
T = TypeVar("T")

MAX_ANSWERS = 2048


class KeptAnswers:
    def __init__(self, max_answers: int = MAX_ANSWERS) -> None:
        self._answers: LRUCache[Hashable, tuple[Any, Any]] = LRUCache(max_answers)
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, source: S, build: Callable[[S], T]) -> T:
        """``build(source)``, or what it gave last time for ``key`` if ``source`` is the same
        object as then."""
        kept = self._answers.get(key)
        if kept is not None and kept[0] is source:
            self.hits += 1
            return kept[1]  # type: ignore[no-any-return]
        self.misses += 1
        answer = build(source)
        self._answers[key] = (source, answer)
        return answer


def answer_of(answers: KeptAnswers | None, key: Hashable, source: S, build: Callable[[S], T]) -> T:
    """Through ``answers`` when the app keeps them (its read cache is on), else built."""
    return build(source) if answers is None else answers.get(key, source, build)
