"""Request helpers shared by the API controllers: who is calling, cookies, the error shape."""

from __future__ import annotations

import datetime as dt
import inspect
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from shopd import security
from shopd.cart import service as carts
from shopd.cart.service import CartOwner
from shopd.config import Settings
from shopd.customers import service as customers
from shopd.customers.models import Customer
from shopd.db import Database
from shopd.errors import NotAuthenticated
from shopd.unit_of_work import committing

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


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and 0 < len(token.strip()) <= MAX_TOKEN_LENGTH:
        return token.strip()
    return None


def request_token(
    connection: ASGIConnection[Any, Any, Any, Any], *, cookie: str | None = None
) -> str | None:
    """The caller's session token: ``Authorization: Bearer``, else the ``cookie`` named (the
    storefront's), if any; one too long to be ours is none."""
    token = bearer_token(connection) or (connection.cookies.get(cookie) if cookie else None)
    if token and len(token) <= MAX_TOKEN_LENGTH:
        return token
    return None


def customer_token(request: Request[Any, Any, Any]) -> str | None:
    return request_token(request, cookie=SESSION_COOKIE)


def cart_token(request: Request[Any, Any, Any]) -> str | None:
    token = request.cookies.get(CART_COOKIE)
    if token and 20 <= len(token) <= MAX_TOKEN_LENGTH:
        return token
    return None


async def authenticated(
    connection: ASGIConnection[Any, Any, Any, Any],
    db: Database,
    lookup: Callable[[AsyncSession, str], Awaitable[T | None]],
    *,
    state_key: str,
    cookie: str | None = None,
) -> T | None:
    """Who a request's session token belongs to (a customer or a staff member, as ``lookup``
    finds them), or None. Looked up once per request however many places ask (a page's
    handler and its shared header both need the customer), kept in the request's state."""
    if state_key in connection.state:
        return connection.state[state_key]  # type: ignore[no-any-return]
    token = request_token(connection, cookie=cookie)
    holder = None
    if token is not None:
        async with db.read() as session:
            holder = await lookup(session, token)
    connection.state[state_key] = holder
    return holder


async def current_customer(request: Request[Any, Any, Any], db: Database) -> Customer | None:
    """The logged-in customer: the storefront's cookie or a bearer token."""
    return await authenticated(
        request, db, customers.customer_for_token, state_key="shopd_customer", cookie=SESSION_COOKIE
    )


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
    async with committing(db) as session:
        customer = await session.get(Customer, customer_id)
        assert customer is not None
        token, expires = await customers.start_session(session, customer, settings.session_days)
        if guest_token:
            await carts.merge_guest_cart(
                session, settings, security.token_digest(guest_token), customer.id
            )
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
    async with committing(db) as session:
        await change(session)
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


# The page number of any list: past this no one is browsing, and the offset stays cheap.
MAX_PAGE = 100_000
PageNumber = Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)]


@dataclass(frozen=True, slots=True)
class Paging:
    """Which page of a list the caller asked for (``page`` from 1, ``per_page`` rows)."""

    page: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


def paging(*, per_page: int, most: int, after: str = "settings") -> Provide:
    """The ``paging`` dependency of a list endpoint: the ``page`` and ``per_page`` query
    parameters, ``per_page`` defaulting to ``per_page`` and at most ``most``.

    ``after`` names the dependency it is declared to come after (``settings``, or ``actor``
    on a staff controller), so that dependencies still resolve one at a time
    (``shop_dependencies``)."""
    if after not in ("settings", "actor"):
        raise ValueError(f"paging comes after settings or actor, not {after!r}")
    default = per_page

    def provide_paging(page: int = 1, per_page: int = default, **_: object) -> Paging:
        return Paging(page, per_page)

    # Written out rather than annotated: this module's annotations are strings, and the limit
    # is this call's own, which a string could not name.
    parameters = [
        inspect.Parameter(
            after, inspect.Parameter.KEYWORD_ONLY, annotation=NamedDependency[object]
        ),
        inspect.Parameter("page", inspect.Parameter.KEYWORD_ONLY, default=1, annotation=PageNumber),
        inspect.Parameter(
            "per_page",
            inspect.Parameter.KEYWORD_ONLY,
            default=default,
            annotation=Annotated[int, QueryParameter(ge=1, le=most)],
        ),
    ]
    provide_paging.__signature__ = inspect.Signature(parameters, return_annotation=Paging)  # type: ignore[attr-defined]
    provide_paging.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": Paging}
    return Provide(provide_paging, sync_to_thread=False)


PageOf = NamedDependency[Paging]
