"""The catalog cache: what every anonymous visitor reads alike, cached per worker process, and
how it is invalidated.

- ``read_cache``: the TTL cache each kind of read goes through, and ``own_writes``, which makes
  a visitor who has just changed something read the database instead.
- ``catalog_cache``: ``CatalogCache``, the worker's caches in one object (the app factory
  builds it beside the ``Database`` and keeps it in the app's state).
- ``reads``: the catalog reads the storefront pages and the JSON API share through it.
- ``responses``: JSON responses cached with the read they were built from.
- ``campaigns``: one snapshot of the shop's flash sales and group buys.
- ``version``: the catalog version every change bumps, and ``CatalogWatch``, which polls it
  (and the stock ledger, ``stock_moves``) and clears the worker's cache when it moves.
- ``middleware``: marks a visitor's own writes and clears the cache after a staff change;
  which paths change the catalog lives there.
"""

from shopd.catalog.cache.catalog_cache import CatalogCache

__all__ = ["CatalogCache"]
