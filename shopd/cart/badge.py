"""The cart count in every page's header, carried by a cookie rather than a query per page.

Under a campaign nearly every shopper has a cart, and counting its units was the one query
left on a page served from the read cache. A guest's cart changes only by requests from the
browser holding its token, so that browser can carry the count:

- a response that knows the count after a change (the cart API's) sets the cookie;
- any other change request from that browser (a form, a checkout, a refused add) drops it, so
  the next page counts on the database again and sets it afresh;
- the value names the cart it counts (a prefix of the token's hash), so a new cart never shows
  an old cart's count, and it lives ten minutes, which bounds how long a count could be off
  after something no request of this browser did.

A member's cart follows them across devices, so members are always counted on the database.
A forged value changes only the number the forger sees.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import Cookie
from litestar.types import BeforeMessageSendHookHandler, Message, Scope

from shopd import http
from shopd.cart.service import CartOwner
from shopd.config import Settings

COOKIE = "shopd_cart_n"
MAX_AGE = 600
MAX_COUNT = 1_000_000
_TAG = 12
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
_SETS = COOKIE.encode() + b"="


def _tag(owner: CartOwner) -> str | None:
    return owner.token_hash[:_TAG] if owner.token_hash else None


def cookie(settings: Settings, owner: CartOwner, count: int) -> Cookie | None:
    """The count to carry for a guest's cart; None for a member's."""
    tag = _tag(owner)
    if tag is None:
        return None
    return http.shop_cookie(settings, COOKIE, f"{count}.{tag}", MAX_AGE)


def carried(request: Request[Any, Any, Any], owner: CartOwner) -> int | None:
    """The count this browser carries for this cart, or None when it has to be counted."""
    tag = _tag(owner)
    raw = request.cookies.get(COOKIE)
    if tag is None or not raw:
        return None
    count, _, kept_tag = raw.partition(".")
    if kept_tag != tag or not count.isdigit() or len(count) > 7:
        return None
    return min(int(count), MAX_COUNT)


def forget_on_change(settings: Settings) -> BeforeMessageSendHookHandler:
    """A ``before_send`` hook: a change request whose response did not set the count drops it."""
    drop = http.expired_cookie(settings, COOKIE).to_encoded_header()

    async def hook(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start" or scope["method"] in _SAFE:
            return
        # Only a browser that carries a count needs telling to drop it.
        if not any(n == b"cookie" and _SETS in v for n, v in scope["headers"]):
            return
        headers = message.setdefault("headers", [])
        if not any(n == b"set-cookie" and bytes(v).startswith(_SETS) for n, v in headers):
            message["headers"] = [*headers, drop]

    return hook
