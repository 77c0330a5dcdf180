"""Rendering storefront pages: the Jinja environment, the context every page shares, ETags.

Pages are rendered here rather than through Litestar's template response so a catalog page can
carry an ETag of its own bytes and answer ``304 Not Modified``: the stock shown is part of the
bytes, so a changed stock level is a changed page.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from litestar import MediaType, Request, Response
from litestar.datastructures import Cookie
from litestar.utils.scope.state import ScopeState

from shopd import formatting, http, translations
from shopd.analytics.counter import View, VisitCounter
from shopd.cart import badge
from shopd.cart import service as carts
from shopd.catalog.cache import CatalogCache, reads
from shopd.config import Settings
from shopd.customers.models import Customer
from shopd.db import Database
from shopd.errors import DomainError
from shopd.formatting import DEFAULT_LANGUAGE, format_money
from shopd.staff import shop_settings
from shopd.validation import header_safe_path, search_terms
from shopd.web import i18n, seo
from shopd.web.rendered import CART_SLOT, CSRF_SLOT, RenderedPages

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
CSRF_COOKIE = "shopd_csrf"
# Popular searches under the search box, in the page's language (a word of another language
# is a mixed page; each finds products, as the search index holds every language's names).
POPULAR_SEARCHES = {
    "zh": ("茶", "T恤", "紫砂壶", "亚麻", "杯"),
    "en": ("tea", "T-shirt", "teapot", "linen", "mug"),
    "es": ("té", "camiseta", "tetera", "lino", "taza"),
}

env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


@pass_context
def money(context: Context, amount: int, currency: str = "CNY", lang: str | None = None) -> str:
    """``{{ amount|money(currency) }}`` in the page's language (a macro, which does not see
    the page's variables, passes ``lang``)."""
    return format_money(amount, currency, lang or context.get("lang", DEFAULT_LANGUAGE))


@pass_context
def shop_date(context: Context, moment: dt.datetime, timezone: str) -> str:
    """``{{ moment|shop_date(shop.timezone) }}``: the day on the shop's clock, per language."""
    return formatting.shop_date(moment, timezone, context.get("lang", DEFAULT_LANGUAGE))


@pass_context
def number(context: Context, value: float) -> str:
    """``{{ n|number }}`` with the page's language's grouping and decimal mark."""
    return formatting.format_number(value, context.get("lang", DEFAULT_LANGUAGE))


@pass_context
def shop_time(context: Context, moment: dt.datetime, timezone: str) -> str:
    """``{{ moment|shop_time(shop.timezone) }}``: on the shop's clock, the zone named, written
    per the page's language (a shopper abroad must not read it as their own time)."""
    return formatting.shop_time(moment, timezone, context.get("lang", DEFAULT_LANGUAGE))


env.filters["money"] = money
env.filters["shop_time"] = shop_time
env.filters["number"] = number
env.filters["shop_date"] = shop_date
env.globals["error_text"] = i18n.error_text
env.globals["zip"] = zip


@dataclass(slots=True)
class Visitor:
    customer: Customer | None
    cart_items: int
    lang: str
    # The count as counted just now, for the browser to carry (shopd.cart.badge).
    badge: Cookie | None = None


async def visitor(request: Request[Any, Any, Any], db: Database, settings: Settings) -> Visitor:
    customer = await http.current_customer(request, db)
    owner = http.cart_owner(request, customer)
    count, counted = 0, None
    if owner is not None:
        carried = badge.carried(request, owner)
        if carried is None:
            async with db.read() as session:
                count = await carts.item_count(session, owner)
            counted = badge.cookie(settings, owner, count)
        else:
            count = carried
    lang = i18n.choose(
        request.cookies.get(i18n.LANG_COOKIE), request.query_params.get("lang"), settings.language
    )
    return Visitor(customer, count, lang, counted)


def language_of(request: Request[Any, Any, Any], settings: Settings) -> str:
    """The visitor's language: ``?lang=``, else the cookie, else the shop's."""
    return i18n.choose(
        request.cookies.get(i18n.LANG_COOKIE), request.query_params.get("lang"), settings.language
    )


def csrf_token(request: Request[Any, Any, Any]) -> str:
    return ScopeState.from_scope(request.scope).csrf_token or ""


def _in_words(context: dict[str, Any], lang: str, settings: Settings) -> dict[str, Any]:
    """Domain errors handed to a page (beside a field, or as its message) in the visitor's
    words: the services raise them in English with amounts in minor units."""

    def said(value: Any) -> Any:
        if isinstance(value, DomainError):
            return i18n.explain(value, lang, settings.currency, settings.timezone)
        return value

    out = dict(context)
    if isinstance(out.get("errors"), dict):
        out["errors"] = {k: said(v) for k, v in out["errors"].items()}
    if "message" in out:
        out["message"] = said(out["message"])
    return out


def _addresses(request: Request[Any, Any, Any], settings: Settings, lang: str) -> dict[str, Any]:
    """The page's canonical address in its language and its other languages' (hreflang), or
    ``indexable`` false for a visitor's own pages and searches (noindex, no alternates)."""
    path = request.url.path
    indexable = not path.startswith((*seo.DISALLOWED, "/search", "/lang/"))
    raw = request.url.query_params.get("page", "1")
    page_no = int(raw) if raw.isdigit() and 0 < int(raw) <= 10_000 else 1
    return {
        "indexable": indexable,
        "canonical": seo.page_url(settings, path, lang, page_no),
        "alternates": seo.alternates(settings, path, page_no) if indexable else [],
        "hreflang": seo.HREFLANG[lang],
    }


def _render(
    request: Request[Any, Any, Any],
    template: str,
    who: Visitor,
    csrf: str,
    context: dict[str, Any],
    cart_items: int | str | None = None,
) -> str:
    settings: Settings = context["shop"]
    context = _in_words(context, who.lang, settings)
    return env.get_template(template).render(
        _=i18n.translator(who.lang),
        ngettext=i18n.plural_translator(who.lang),
        named=lambda thing, field="name": thing.text(field, who.lang, settings.language),
        status_name=lambda code: translations.status_name(code, who.lang),
        payment_name=lambda code: translations.payment_method_name(code, who.lang),
        plain=seo.plain,
        product_data=lambda detail, lang, text: seo.product_data(detail, settings, lang, text),
        bank_in=lambda details: shop_settings.bank_details_in(details, who.lang, settings.language),
        lang=who.lang,
        languages=i18n.LANGUAGES,
        **_addresses(request, settings, who.lang),
        customer=who.customer,
        cart_items=who.cart_items if cart_items is None else cart_items,
        currency=settings.currency,
        csrf_token=csrf,
        popular=POPULAR_SEARCHES.get(who.lang, POPULAR_SEARCHES["en"]),
        path=request.url.path,
        query=search_terms(request.query_params.get("q", "")),
        **context,
    )


async def page(
    request: Request[Any, Any, Any],
    db: Database,
    settings: Settings,
    template: str,
    *,
    status: int = 200,
    cacheable: bool = False,
    cookies: list[Cookie] | None = None,
    seen: Iterable[View] = (),
    **context: Any,
) -> Response[Any]:
    """Render a storefront page; a page shown (GET, 200) counts as a view of its path and of
    what it shows (``seen``: a product, a category, a topic, a search)."""
    who = await visitor(request, db, settings)
    state = request.app.state
    visits: VisitCounter | None = state.get("visits")
    if (
        visits is not None
        and status == 200
        and request.method == "GET"
        and not http.is_head(request)
    ):
        visits.visit(
            http.client_ip(request),
            request.headers.get("user-agent", ""),
            [("page", request.url.path), *seen],
        )
    shared = {
        "tree": await reads.category_tree(CatalogCache.of(state)),
        "shop": settings,
        **context,
    }
    anonymous = cacheable and status == 200 and who.customer is None
    pages: RenderedPages | None = state.get("pages")
    if anonymous and pages is not None:
        key = (template, request.url.path, request.url.query, who.lang)
        inputs = pages.inputs(shared)
        cached = pages.get(key, inputs)
        if cached is None:
            cached = _render(request, template, who, CSRF_SLOT, shared, CART_SLOT)
            pages.put(key, inputs, cached)
        html = pages.fill(cached, csrf_token(request), who.cart_items)
    else:
        html = _render(request, template, who, csrf_token(request), shared)
    headers = {"Content-Language": who.lang, "Vary": "Cookie"}
    all_cookies = list(cookies or [])
    if who.badge is not None:
        all_cookies.append(who.badge)
    if request.query_params.get("lang") in i18n.LANGUAGES:
        all_cookies.append(
            Cookie(key=i18n.LANG_COOKIE, value=who.lang, max_age=365 * 86400, samesite="lax")
        )
    if anonymous:
        # Anonymous catalog pages: an unchanged page costs a 304 without a body.
        etag = '"' + hashlib.sha256(html.encode()).hexdigest()[:32] + '"'
        headers["ETag"] = etag
        # Private: every page carries this browser's CSRF token in its forms, which a shared
        # cache must never hand to someone else. The browser's own cache revalidates (304).
        headers["Cache-Control"] = "private, no-cache"
        if http.none_match(request.headers.get("if-none-match"), etag):
            return Response(b"", status_code=304, headers=headers, cookies=all_cookies)
    else:
        headers["Cache-Control"] = "private, no-store"
    return Response(
        html, status_code=status, media_type=MediaType.HTML, headers=headers, cookies=all_cookies
    )


def redirect(location: str, cookies: list[Cookie] | None = None) -> Response[Any]:
    """A 303 to a path of this shop. The path may carry what a visitor typed (an order number
    in a log-in's ``next``): it is percent-encoded, as a header must be ASCII."""
    return Response(
        b"",
        status_code=303,
        headers={"Location": header_safe_path(location)},
        cookies=cookies or [],
    )


def error_page(
    request: Request[Any, Any, Any], status: int, message: str | DomainError
) -> Response[Any]:
    """A plain HTML error for storefront paths in the visitor's language (no database needed,
    so it works when that is the problem)."""
    settings: Settings = request.app.state["settings"]
    lang = i18n.choose(
        request.cookies.get(i18n.LANG_COOKIE),
        request.query_params.get("lang") if _plain_query(request) else None,
        settings.language,
    )
    gettext = i18n.translator(lang)
    said = (
        i18n.explain(message, lang, settings.currency, settings.timezone)
        if isinstance(message, DomainError)
        else gettext(message)
    )
    html = env.get_template("error.html").render(
        _=gettext, lang=lang, shop=settings, status=status, message=said
    )
    return Response(
        html,
        status_code=status,
        media_type=MediaType.HTML,
        headers={"Content-Language": lang, "Cache-Control": "no-store"},
    )


def _plain_query(request: Request[Any, Any, Any]) -> bool:
    """Whether the query string parses: an error page for a malformed one still renders."""
    try:
        request.query_params.get("lang")
    except Exception:  # any parse failure means "no language asked for"
        return False
    return True
