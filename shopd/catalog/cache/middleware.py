"""The catalog cache at the edge of a request: a visitor who has just changed something reads
the database, not a cached page from before, and a staff change clears this worker's cache.

Which paths change what the catalog cache holds, and which change nothing it shows, are
listed here beside the cache they configure.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from shopd.catalog.cache import read_cache
from shopd.catalog.cache.catalog_cache import CatalogCache
from shopd.config import Settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Where a change shows in what the catalog cache holds: the staff API (and the TUI over it), and
# a customer's review on a product page.
CHANGES_CATALOG = ("/api/v1/staff/", "/p/")
# Set on the response to any change a visitor makes (an order, a payment, a group joined): while
# it lives, that visitor's catalog reads skip the shared cache, on every worker. Not for what
# shows on no catalog page: the cart (the commonest change under a campaign), signing up,
# logging in and out, passwords and addresses, the guestbook, and the staff API (staff
# changes clear the worker's cache instead).
OWN_WRITES_COOKIE = "shopd_fresh"
LEAVES_CATALOG = (
    "/cart/",
    "/api/v1/cart",
    "/api/v1/customers",
    "/api/v1/session",
    "/api/v1/password-reset",
    "/api/v1/me/password",
    "/api/v1/me/addresses",
    "/api/v1/staff/",
    "/account/login",
    "/account/logout",
    "/account/register",
    "/guestbook",
    "/newsletter",
)


def catalog_cache_middleware(
    cache: CatalogCache, settings: Settings
) -> Callable[[ASGIApp], ASGIApp]:
    """Keep the catalog cache honest to whoever changes something: a visitor who has just
    changed something reads the database, not a cached page from before (``own_writes``);
    after a staff change this worker forgets its cached reads at once (other workers within
    ``catalog_cache_seconds``)."""
    # The mark outlives the cached entries it has to skip, rounded up to whole seconds. An
    # order marks what it moves (stock, sales); a review on a product page marks everything.
    levels = {
        level.name.lower(): level for level in (read_cache.Fresh.MOVING, read_cache.Fresh.ALL)
    }
    marks = {
        level: Cookie(
            key=OWN_WRITES_COOKIE,
            value=name,
            max_age=math.ceil(cache.short.seconds) + 1,
            httponly=True,
            secure=settings.cookie_secure,
            samesite="lax",
            path="/",
        ).to_encoded_header()
        for name, level in levels.items()
    }

    def middleware(app: ASGIApp) -> ASGIApp:
        async def handle(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or not cache.short.enabled:
                await app(scope, receive, send)
                return
            changes = scope["method"] not in SAFE_METHODS
            marked = changes and not scope["path"].startswith(LEAVES_CATALOG)
            mark = marks[
                read_cache.Fresh.ALL
                if scope["path"].startswith(CHANGES_CATALOG)
                else read_cache.Fresh.MOVING
            ]

            async def send_marked(message: Message) -> None:
                # A refused change changed nothing: nothing to read afresh.
                if message["type"] == "http.response.start" and message["status"] < 400:
                    message["headers"] = [*message.get("headers", ()), mark]
                await send(message)

            seen = ASGIConnection(scope).cookies.get(OWN_WRITES_COOKIE)
            # A mark of an unknown level (an older release's "1") errs on the fresh side.
            fresh = (
                contextlib.nullcontext()
                if seen is None
                else read_cache.own_writes(levels.get(seen, read_cache.Fresh.ALL))
            )
            try:
                with fresh:
                    await app(scope, receive, send_marked if marked else send)
            finally:
                if changes and scope["path"].startswith(CHANGES_CATALOG):
                    cache.clear()

        return handle

    return middleware
