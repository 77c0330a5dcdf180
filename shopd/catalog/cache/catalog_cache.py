"""The catalog cache of one worker process: every cache of catalog reads, in one object the
app factory builds next to its ``Database`` and keeps in the app's state.

Which cache holds what, and how long (each setting's meaning is in ``shopd.config``):

- ``short`` (``catalog_cache_seconds``): what moves with every order, stock and prices of the
  moment, sales, group buys; and the campaigns snapshot (``shopd.catalog.cache.campaigns``).
- ``rankings`` (``ranking_cache_seconds``): sales rankings, which move slowly whoever buys.
- ``products`` (``product_cache_seconds``): what a product shows besides stock; only valid
  while the catalog version holds, so only cached long by a worker that watches it
  (``shopd.catalog.cache.version.CatalogWatch``).
- ``offers`` (``offer_cache_seconds``): a product's stock and prices as shown, cached while
  its stock does not move; only by a worker that watches the stock ledger (``stock_moves``,
  set by the catalog watch).
- ``responses``: JSON responses built from those reads (``shopd.catalog.cache.responses``).
- ``search``: the search index (``shopd.catalog.search.keeper``), always kept: it looks at the
  catalog version every ``catalog_watch_seconds`` when the cache is on, before every search
  when it is off.

All are off unless asked for: a ``Database`` used by a command or a test caches nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shopd.catalog.cache.read_cache import Fresh, ReadCache
from shopd.catalog.cache.responses import CachedResponses
from shopd.catalog.cache.stock_moves import StockMoves

if TYPE_CHECKING:
    from shopd.catalog.search.keeper import SearchIndexKeeper
    from shopd.config import Settings
    from shopd.db import Database

# Where the app factory keeps the worker's catalog cache in the app's state.
STATE_KEY = "catalog_cache"


class CatalogCache:
    def __init__(
        self,
        db: Database,
        *,
        short_seconds: float = 0,
        ranking_seconds: float = 0,
        product_seconds: float = 0,
        offer_seconds: float = 0,
        watch_seconds: float = 0,
    ) -> None:
        self.db = db
        self.short = ReadCache(short_seconds, fresh_at=Fresh.MOVING)
        # One's own order need not recompute the rankings.
        self.rankings = ReadCache(ranking_seconds, fresh_at=None)
        # A buyer's order leaves what a product shows as it is; a review of their own skips it.
        self.products = ReadCache(product_seconds, fresh_at=Fresh.ALL)
        self.offers = ReadCache(offer_seconds, fresh_at=Fresh.MOVING)
        self.stock_moves: StockMoves | None = None
        # Responses are only as good as the short cache behind them.
        self.responses = CachedResponses() if self.short.enabled else None
        # Imported here: the keeper reads the catalog's models, which import this package (for
        # the catalog version they bump).
        from shopd.catalog.search.keeper import SearchIndexKeeper

        self.search: SearchIndexKeeper = SearchIndexKeeper(
            db,
            check_seconds=watch_seconds if self.products.enabled else 0,
            sales_seconds=ranking_seconds,
        )

    @classmethod
    def from_settings(cls, db: Database, settings: Settings) -> CatalogCache:
        return cls(
            db,
            short_seconds=settings.catalog_cache_seconds,
            ranking_seconds=settings.ranking_cache_seconds,
            product_seconds=settings.product_cache_seconds,
            offer_seconds=settings.offer_cache_seconds,
            watch_seconds=settings.catalog_watch_seconds,
        )

    @staticmethod
    def of(app_state: Any) -> CatalogCache:
        """The worker's catalog cache, from the app's state (``request.app.state``)."""
        cache: CatalogCache = app_state[STATE_KEY]
        return cache

    @property
    def enabled(self) -> bool:
        return self.short.enabled

    def clear(self) -> None:
        """After a change to what catalog pages show: this worker's cached reads are stale."""
        self.short.clear()
        self.rankings.clear()
        self.products.clear()
        self.offers.clear()
        self.search.forget()
