"""Request helpers shared by the API controllers: who is calling, cookies, the error shape."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from litestar import Request
from litestar.datastructures import Cookie
from litestar.di import NamedDependency, Provide
from sqlalchemy.ext.asyncio import AsyncSession

from shopd import security
from shopd.cart import service as carts
from shopd.cart.service import CartOwner
from shopd.config import Settings
from shopd.customers import service as customers
from shopd.customers.models import Customer
from shopd.db import Database
from shopd.errors import NotAuthenticated

T = TypeVar("T")
# In the scope the app sees: the request came as HEAD (shopd.server.head_requests).
HEAD_KEY = "shopd.head"
_ENTITY_TAG = re.compile(r'\s*(?:W/)?("[^"]*")\s*(?:,|$)')
SESSION_COOKIE = "shopd_session"
CART_COOKIE = "shopd_cart"
MAX_TOKEN_LENGTH = 128


def is_head(request: Request[Any, Any, Any]) -> bool:
    """Whether the request came as HEAD: a handler that must not act on one (a visit counted, a
    newsletter link that changes a subscription) asks, as mail scanners follow links with HEAD."""
    return bool(request.scope.get(HEAD_KEY))


def none_match(header: str | None, etag: str) -> bool:
    """Whether If-None-Match names ``etag``: ``*``, or a list of tags compared weakly (RFC
    9110 13.1.2), so a tag the gzip layer sent back weak (``W/"…"``) still matches."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return any(m.group(1) == opaque for m in _ENTITY_TAG.finditer(header))


def client_ip(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else ""


def bearer_token(request: Request[Any, Any, Any]) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and 0 < len(token.strip()) <= MAX_TOKEN_LENGTH:
        return token.strip()
    return None


def customer_token(request: Request[Any, Any, Any]) -> str | None:
    token = bearer_token(request) or request.cookies.get(SESSION_COOKIE)
    if token and len(token) <= MAX_TOKEN_LENGTH:
        return token
    return None


def cart_token(request: Request[Any, Any, Any]) -> str | None:
    token = request.cookies.get(CART_COOKIE)
    if token and 20 <= len(token) <= MAX_TOKEN_LENGTH:
        return token
    return None


_CUSTOMER_STATE = "shopd_customer"


async def current_customer(request: Request[Any, Any, Any], db: Database) -> Customer | None:
    """The logged-in customer, looked up once per request however many places ask (a page's
    handler and its shared header both need it)."""
    if _CUSTOMER_STATE in request.state:
        return request.state[_CUSTOMER_STATE]  # type: ignore[no-any-return]
    token = customer_token(request)
    customer = None
    if token is not None:
        async with db.read() as session:
            customer = await customers.customer_for_token(session, token)
    request.state[_CUSTOMER_STATE] = customer
    return customer


async def require_customer(request: Request[Any, Any, Any], db: Database) -> Customer:
    customer = await current_customer(request, db)
    if customer is None:
        raise NotAuthenticated("log in first", code="not_authenticated")
    return customer


def cart_owner(request: Request[Any, Any, Any], customer: Customer | None) -> CartOwner | None:
    if customer is not None:
        return CartOwner(customer_id=customer.id)
    token = cart_token(request)
    return CartOwner(token_hash=security.token_digest(token)) if token else None


async def cart_owner_for(
    request: Request[Any, Any, Any], db: Database, *, create: bool
) -> tuple[CartOwner | None, str | None]:
    """The caller's cart owner, and a new guest token when one had to be made."""
    customer = await current_customer(request, db)
    owner = cart_owner(request, customer)
    if owner is None and create:
        token = security.new_token()
        return CartOwner(token_hash=security.token_digest(token)), token
    return owner, None


async def open_customer_session(
    request: Request[Any, Any, Any], db: Database, settings: Settings, customer_id: int
) -> tuple[Customer, str, dt.datetime, list[Cookie]]:
    """A fresh session token at log-in (never one from before), the guest cart merged into the
    customer's, and the cookies that say so."""
    guest_token = cart_token(request)
    async with db.write() as session:
        customer = await session.get(Customer, customer_id)
        assert customer is not None
        token, expires = await customers.start_session(session, customer, settings.session_days)
        if guest_token:
            await carts.merge_guest_cart(
                session, settings, security.token_digest(guest_token), customer.id
            )
        await session.commit()
    cookies = [session_cookie(settings, token, settings.session_days * 86400)]
    if guest_token:
        cookies.append(expired_cookie(settings, CART_COOKIE))
    return customer, token, expires, cookies


def shop_cookie(settings: Settings, key: str, value: str, max_age: int) -> Cookie:
    """A cookie of the shop's own: for the server only, whole site, sent on top-level visits."""
    return Cookie(
        key=key,
        value=value,
        max_age=max_age,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
        path="/",
    )


def session_cookie(settings: Settings, token: str, max_age: int) -> Cookie:
    return shop_cookie(settings, SESSION_COOKIE, token, max_age)


def cart_cookie(settings: Settings, token: str) -> Cookie:
    return shop_cookie(settings, CART_COOKIE, token, 60 * 60 * 24 * 30)


def expired_cookie(settings: Settings, key: str) -> Cookie:
    return shop_cookie(settings, key, "", 0)


async def write_then_read(
    db: Database,
    change: Callable[[AsyncSession], Awaitable[object]],
    read: Callable[[AsyncSession], Awaitable[T]],
) -> T:
    """Run one change in its own transaction and commit, then answer with a fresh read (on
    SQLite a read session does not hold the write lock while the reply is built)."""
    async with db.write() as session:
        await change(session)
        await session.commit()
    async with db.read() as session:
        return await read(session)


# Explicit injection markers: Litestar 3 drops inference of dependencies and request bodies.
DB = NamedDependency[Database]
Conf = NamedDependency[Settings]


def shop_dependencies(db: Database, settings: Settings) -> dict[str, Provide]:
    """``db`` and ``settings`` for every handler, resolved one after the other.

    Litestar resolves dependencies that do not depend on each other concurrently, in an anyio
    task group per request (litestar-org/litestar#4563). For two constants that cost more
    than answering a cached page from memory, so ``settings`` is declared to depend on ``db``
    and each resolves on its own."""

    def provide_db() -> Database:
        return db

    def provide_settings(db: DB) -> Settings:
        return settings

    return {
        "db": Provide(provide_db, use_cache=True, sync_to_thread=False),
        "settings": Provide(provide_settings, use_cache=True, sync_to_thread=False),
    }
