"""Service center pages, the guestbook, newsletter links and the language switch."""

from __future__ import annotations

import math
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import PathParameter, QueryParameter

from shopd import http
from shopd.config import Settings
from shopd.content import service as content
from shopd.db import Database
from shopd.errors import DomainError, NotFound
from shopd.http import DB, Conf
from shopd.staff import shop_settings
from shopd.unit_of_work import committing
from shopd.validation import local_path
from shopd.web import i18n
from shopd.web.pages.forms import field_errors, read_form
from shopd.web.render import language_of, page, redirect


async def guestbook_page(
    request: Request[Any, Any, Any],
    db: Database,
    settings: Settings,
    page_no: int,
    *,
    posted: bool = False,
    form: dict[str, str] | None = None,
    errors: dict[str, DomainError | str] | None = None,
    status: int = 200,
) -> Response[Any]:
    async with db.read() as session:
        entries, total = await content.guestbook(session, page=page_no)
    return await page(
        request,
        db,
        settings,
        "guestbook.html",
        status=status,
        entries=entries,
        total=total,
        page_no=page_no,
        pages=max(math.ceil(total / 20), 1),
        form=form or {},
        errors=errors or {},
        topics=content.TOPICS,
        posted=posted,
    )


class ContentPages(Controller):
    """The shop's words: help, guestbook, newsletter, language."""

    include_in_schema = False

    @get("/help")
    async def help_index(
        self, request: Request[Any, Any, Any], db: DB, settings: Conf
    ) -> Response[Any]:
        async with db.read() as session:
            all_pages = await content.pages(session)
            bank = await shop_settings.get(session, "bank_details")
        return await page(
            request,
            db,
            settings,
            "help.html",
            pages=all_pages,
            current=None,
            bank_details=bank,
        )

    @get("/help/{slug:str}")
    async def help_page(
        self,
        request: Request[Any, Any, Any],
        slug: Annotated[str, PathParameter(max_length=64)],
        db: DB,
        settings: Conf,
    ) -> Response[Any]:
        async with db.read() as session:
            all_pages = await content.pages(session)
            current = await content.page(session, slug)
            bank = await shop_settings.get(session, "bank_details")
        return await page(
            request,
            db,
            settings,
            "help.html",
            cacheable=True,
            seen=[("topic", slug)],
            pages=all_pages,
            current=current,
            body=content.render_markdown(
                current.text("body", language_of(request, settings), settings.language)
            ),
            bank_details=bank,
        )

    @get("/guestbook")
    async def guestbook(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        settings: Conf,
        page_no: Annotated[int, QueryParameter(name="page", ge=1, le=10_000)] = 1,
    ) -> Response[Any]:
        posted = request.query_params.get("posted") == "1"
        return await guestbook_page(request, db, settings, page_no, posted=posted)

    @post("/guestbook")
    async def guestbook_post(
        self, request: Request[Any, Any, Any], db: DB, settings: Conf
    ) -> Response[Any]:
        form = await read_form(request)
        customer = await http.current_customer(request, db)
        try:
            async with committing(db) as session:
                await content.post_message(
                    session,
                    topic=form.get("topic", ""),
                    author=form.get("author", ""),
                    body=form.get("body", ""),
                    customer=customer,
                    ip=http.client_ip(request),
                )
        except DomainError as exc:
            return await guestbook_page(
                request, db, settings, 1, form=form, errors=field_errors(exc), status=400
            )
        return redirect("/guestbook?posted=1")

    @post("/newsletter")
    async def newsletter(
        self, request: Request[Any, Any, Any], db: DB, settings: Conf
    ) -> Response[Any]:
        form = await read_form(request)
        lang = i18n.choose(request.cookies.get(i18n.LANG_COOKIE), None, settings.language)
        try:
            async with committing(db) as session:
                await content.subscribe(session, settings, form.get("email", ""), lang)
        except DomainError as exc:
            return await page(request, db, settings, "notice.html", status=400, message=exc)
        return await page(
            request,
            db,
            settings,
            "notice.html",
            message="Check your mailbox to confirm the subscription.",
        )

    @get("/newsletter/{action:str}/{token:str}")
    async def newsletter_link(
        self,
        request: Request[Any, Any, Any],
        action: Annotated[str, PathParameter(max_length=16)],
        token: Annotated[str, PathParameter(max_length=64)],
        db: DB,
        settings: Conf,
    ) -> Response[Any]:
        acts = {
            "confirm": (content.confirm, "Your subscription is confirmed."),
            "unsubscribe": (content.unsubscribe, "You are unsubscribed."),
        }
        if action not in acts:
            raise NotFound("no such page", code="not_found")
        change, message = acts[action]
        if http.is_head(request):
            # A mail scanner looking at the link on its reader's behalf: the same answer (an
            # unknown link is a 404 here too), and nothing changes, as a read session is
            # rolled back, never committed.
            async with db.read() as session:
                await change(session, token)
        else:
            async with committing(db) as session:
                await change(session, token)
        return await page(request, db, settings, "notice.html", message=message)

    @get("/lang/{code:str}")
    async def language(
        self,
        code: Annotated[str, PathParameter(max_length=8)],
        next_url: Annotated[str, QueryParameter(name="next", max_length=300)] = "/",
    ) -> Response[Any]:
        if code not in i18n.LANGUAGES:
            raise NotFound("no such language", code="not_found")
        return redirect(
            local_path(next_url),
            [Cookie(key=i18n.LANG_COOKIE, value=code, max_age=365 * 86400, samesite="lax")],
        )
