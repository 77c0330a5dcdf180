"""The Litestar application factory."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
from litestar import Litestar, MediaType, Request, Response, get
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import RedocRenderPlugin
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.static_files import create_static_files_router
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR, HTTP_503_SERVICE_UNAVAILABLE
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from shopd import __version__
from shopd.analytics.counter import VisitCounter
from shopd.analytics.staff_api import StaffReportController
from shopd.cart import badge
from shopd.cart.api import CartController, CartQuoteController
from shopd.catalog.api import CatalogController
from shopd.catalog.cache import CatalogCache
from shopd.catalog.cache.catalog_cache import STATE_KEY as CATALOG_CACHE
from shopd.catalog.cache.middleware import catalog_cache_middleware
from shopd.catalog.cache.version import CatalogWatch
from shopd.catalog.staff_api import StaffCatalogController
from shopd.config import Settings, get_settings
from shopd.content.staff_api import StaffContentController
from shopd.customers.api import CustomerController
from shopd.customers.membership_api import MyMembershipController, StaffMembershipController
from shopd.customers.staff_api import StaffCustomerController
from shopd.db import Database, is_retryable, is_unreachable
from shopd.errors import Busy, DatabaseUnavailable, DomainError, error_body
from shopd.http import DB, shop_dependencies
from shopd.inventory.staff_api import StockController
from shopd.orders.api import OrderController, payment_return
from shopd.orders.staff_api import StaffGroupBuySettlementController, StaffOrderController
from shopd.promotions.api import PromotionController
from shopd.promotions.staff_api import (
    StaffCouponController,
    StaffFlashSaleController,
    StaffGroupBuyController,
)
from shopd.server import gc_tuning, jobs
from shopd.server.admission import admission
from shopd.server.compression import gzip_answers
from shopd.server.conditional import not_modified_files
from shopd.server.head_requests import ShopApp
from shopd.server.media_copies import media_copies
from shopd.server.openapi_errors import document_errors
from shopd.server.request_checks import request_checks
from shopd.server.request_id import HEADER as REQUEST_ID_HEADER
from shopd.server.request_id import request_id
from shopd.server.request_metrics import RequestMetrics
from shopd.server.security_headers import add_security_headers
from shopd.server.strict_bodies import mark_strict_objects, read_body_strictly
from shopd.staff.api import StaffAdminController, StaffController
from shopd.translations import N_
from shopd.web import render
from shopd.web.pages import STOREFRONT
from shopd.web.rendered import RenderedPages

log = logging.getLogger("shopd")

MAX_BODY_BYTES = 256 * 1024

_HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "request_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


def _json(
    body: dict[str, Any], status: int, headers: dict[str, str] | None = None
) -> Response[Any]:
    return Response(body, status_code=status, media_type=MediaType.JSON, headers=headers)


# What an error page says for a status without a domain error of its own (shopd/web/i18n.py
# translates each).
PAGE_MESSAGES = {
    400: N_("This address asks for something the page cannot show. Check the link."),
    413: N_("That is more than the shop accepts at once."),
    429: N_("Too many requests. Please wait a moment and try again."),
    503: N_("The shop is busy. Please try again in a moment."),
}


def _is_page(request: Request[Any, Any, Any]) -> bool:
    """Storefront pages answer errors as HTML; the API, docs and operations paths as JSON."""
    path = request.url.path
    return not path.startswith(("/api/", "/schema", "/metrics", "/healthz", "/readyz", "/media/"))


def on_domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    if _is_page(request):
        return render.error_page(
            request,
            exc.status_code,
            "This page could not be found." if exc.status_code == 404 else exc,
        )
    return _json(exc.to_body(), exc.status_code)


def on_validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    if _is_page(request):
        # A page address with a parameter out of shape (?page=abc, an over-long q): a page in
        # the visitor's language, not the API's JSON.
        return render.error_page(request, 400, PAGE_MESSAGES[400])
    problems = exc.extra if isinstance(exc.extra, list) else []
    detail = str(exc.detail or "")
    fields = [
        {"field": p.get("key"), "source": p.get("source"), "message": p.get("message")}
        for p in problems
        if isinstance(p, dict)
    ]
    return _json(
        error_body("validation_error", detail or "the request is not valid", {"errors": fields}),
        400,
    )


def _caused_by(
    exc: BaseException, kind: type[BaseException] | tuple[type[BaseException], ...]
) -> bool:
    """Whether ``exc`` or anything in its chain of causes is a ``kind``."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, kind):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def on_http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    log.debug("HTTP %s on %s: %s", exc.status_code, request.url.path, exc.detail)
    status = exc.status_code
    if status >= 500:
        log.error("HTTP %s: %s", status, exc.detail)
        return _json(error_body("internal_error", "something went wrong on our side"), status)
    if _is_page(request):
        if status == 403 and "CSRF" in str(exc.detail):
            return render.error_page(
                request, 403, "The form expired. Go back, reload the page and try again."
            )
        if status in (404, 405):
            return render.error_page(request, 404, "This page could not be found.")
        return render.error_page(request, status, PAGE_MESSAGES.get(status, PAGE_MESSAGES[400]))
    code = _HTTP_CODES.get(status, "bad_request")
    detail = str(exc.detail or "")
    if status == 400 and _caused_by(exc, (msgspec.DecodeError, SerializationException)):
        return _json(
            error_body("malformed_json", f"the request body is not valid JSON: {detail}"), 400
        )
    message = {
        404: "no such resource",
        405: "method not allowed here",
        413: "the request body is too large",
    }.get(status, str(exc.detail) or "bad request")
    return _json(error_body(code, message), status, headers=exc.headers)


def _try_again(
    request: Request[Any, Any, Any], error: DomainError, *, retry_after: int
) -> Response[Any]:
    """A 503 the client may retry: the error page for a storefront page, else the JSON body."""
    if _is_page(request):
        return render.error_page(request, error.status_code, PAGE_MESSAGES[503])
    return _json(error.to_body(), error.status_code, headers={"Retry-After": str(retry_after)})


def on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, OperationalError) and is_retryable(exc):
        # Contention that outlived the retries: the client may safely try again shortly.
        log.warning("database contention on %s: %s", request.url.path, exc.orig)
        return _json(Busy().to_body(), Busy.status_code, headers={"Retry-After": "1"})
    if isinstance(exc, PoolTimeout):
        # Every pooled connection stayed busy for pool_timeout: overload, not a bug.
        log.warning("no database connection free in time on %s", request.url.path)
        return _try_again(request, Busy(), retry_after=1)
    if is_unreachable(exc):
        log.warning("database unreachable on %s: %s", request.url.path, exc)
        return _try_again(request, DatabaseUnavailable(), retry_after=5)
    if _caused_by(exc, OverflowError):
        # An id past 64 bits in a path (SQLite cannot bind it; MariaDB finds no row): no such
        # resource, the same answer on both back ends.
        return _json(error_body("not_found", "no such resource"), 404)
    # The trace goes to the log, never to the client; the request id ties the two together.
    rid = request_id(request)
    log.exception("unhandled error in request %s (%s %s)", rid, request.method, request.url.path)
    if _is_page(request):
        page = render.error_page(request, 500, "Something went wrong on our side.")
        page.headers[REQUEST_ID_HEADER] = rid
        return page
    return _json(
        error_body("internal_error", "something went wrong on our side", {"request_id": rid}),
        HTTP_500_INTERNAL_SERVER_ERROR,
        headers={REQUEST_ID_HEADER: rid},
    )


@get("/healthz", include_in_schema=True, tags=["operations"])
async def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok", "version": __version__}


@get("/readyz", tags=["operations"])
async def readyz(db: DB) -> Response[dict[str, str]]:
    """Readiness: the database answers."""
    try:
        await db.ping()
    except Exception as exc:  # any driver error means "not ready", never a 500
        log.warning("readiness check failed: %s", exc)
        return Response(
            {"status": "unavailable", "database": "unreachable"},
            status_code=HTTP_503_SERVICE_UNAVAILABLE,
        )
    return Response({"status": "ok", "database": "ok"})


def static_files() -> Any:
    return create_static_files_router(
        path="/static",
        directories=[render.STATIC],
        include_in_schema=False,
        cache_control=CacheControlHeader(max_age=3600, public=True),
        middleware=[not_modified_files],
    )


def media_files(settings: Settings) -> Any:
    """Uploaded product images. Each is named by its content's hash, so a name never shows
    other bytes: browsers and nginx may keep them for a year without asking again. The
    database holds them; this server's disk a copy, made on first use."""
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    return create_static_files_router(
        path="/media",
        directories=[settings.media_dir],
        include_in_schema=False,
        cache_control=CacheControlHeader(max_age=365 * 86400, public=True, immutable=True),
        middleware=[media_copies, not_modified_files],
    )


class MetricsController(PrometheusController):
    """Prometheus's text format for scrapers, not part of the JSON API's document."""

    include_in_schema = False


def create_app(
    settings: Settings | None = None,
    database: Database | None = None,
    catalog_cache: CatalogCache | None = None,
) -> ShopApp:
    """The app over ``database``, or over a database of its own made from ``settings``. The
    catalog cache follows the settings only with a database of its own: over a given one it
    is ``catalog_cache``, or off."""
    settings = settings or get_settings()
    db = database or Database(
        settings.effective_database_url,
        pool_size=settings.db_pool_size,
        pool_timeout=settings.db_pool_timeout_seconds,
        echo=settings.db_echo,
    )
    owns_db = database is None
    if catalog_cache is None:
        catalog_cache = CatalogCache.from_settings(db, settings) if owns_db else CatalogCache(db)
    cache = catalog_cache
    visits = VisitCounter(
        db,
        secret=settings.effective_secret_key(),
        timezone=settings.timezone,
        flush_seconds=settings.visit_flush_seconds,
    )

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        if settings.gc_tuned:
            gc_tuning.tune_for_serving()
        tasks = [asyncio.create_task(visits.run())]
        if cache.products.enabled:
            watch = CatalogWatch(cache, settings.catalog_watch_seconds)
            tasks.append(asyncio.create_task(watch.run()))
        if settings.background_jobs:
            tasks.append(asyncio.create_task(jobs.run_forever(db, settings)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                try:
                    await task
                except asyncio.CancelledError:
                    pass
                except Exception:
                    log.exception("a background task failed while stopping")
            if owns_db:
                await db.dispose()

    prometheus = PrometheusConfig(
        app_name="shopd", group_path=True, exclude=["/metrics"], middleware_class=RequestMetrics
    )

    return ShopApp(
        route_handlers=[
            *STOREFRONT,
            static_files(),
            healthz,
            readyz,
            CatalogController,
            CustomerController,
            CartController,
            OrderController,
            payment_return,
            StaffController,
            StaffAdminController,
            StaffOrderController,
            StaffReportController,
            StockController,
            StaffCatalogController,
            StaffCustomerController,
            StaffContentController,
            StaffFlashSaleController,
            StaffCouponController,
            StaffGroupBuyController,
            StaffGroupBuySettlementController,
            StaffMembershipController,
            MyMembershipController,
            PromotionController,
            CartQuoteController,
            MetricsController,
            media_files(settings),
        ],
        dependencies=shop_dependencies(db, settings),
        exception_handlers={
            DomainError: on_domain_error,
            ValidationException: on_validation_error,
            HTTPException: on_http_error,
            Exception: on_unexpected,
        },
        openapi_config=OpenAPIConfig(
            title="shopd",
            version=__version__,
            path="/schema",
            description='The shop\'s JSON API. Errors: {"error": {"code", "message", "details"}}.',
            # Redoc from the shop's own static files (shopd/web/static/vendor/redoc), no web
            # fonts and no icon from a CDN: the docs open offline and behind a firewall.
            render_plugins=[
                RedocRenderPlugin(
                    js_url="/static/vendor/redoc/redoc.standalone.js",
                    google_fonts=False,
                    favicon="",
                )
            ],
        ),
        middleware=[
            prometheus.middleware,
            admission(settings.max_concurrent_requests),
            request_checks(MAX_BODY_BYTES),
            catalog_cache_middleware(cache, settings),
            # Level 0: nginx in front compresses (the deployed setting).
            *([gzip_answers(settings.gzip_level)] if settings.gzip_level else []),
        ],
        before_request=read_body_strictly,
        before_send=[add_security_headers, badge.forget_on_change(settings)],
        csrf_config=CSRFConfig(
            secret=settings.effective_secret_key(),
            cookie_name=render.CSRF_COOKIE,
            cookie_secure=settings.cookie_secure,
            cookie_httponly=True,
            cookie_samesite="lax",
            # The JSON API is token or SameSite-cookie authenticated and takes JSON only.
            exclude=["^/api/"],
        ),
        request_max_body_size=MAX_BODY_BYTES,
        lifespan=[lifespan],
        # At start-up, not per app made: building the document takes a while.
        on_startup=[document_errors, mark_strict_objects],
        state={
            "settings": settings,
            "db": db,
            "visits": visits,
            CATALOG_CACHE: cache,
            # Cached pages are only as good as the read cache behind them (shopd.web.rendered).
            "pages": RenderedPages() if cache.enabled else None,
        },
        debug=False,
    )
