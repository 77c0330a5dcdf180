"""Staff endpoints for content: service pages, announcements, guestbook and review moderation,
and sending the newsletter."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, patch, post, put
from litestar.params import JSONBody, PathParameter

from shopd.content import service
from shopd.content.models import GuestbookEntry, Review
from shopd.content.schemas import (
    AnnouncementIn,
    AnnouncementOut,
    MessageOut,
    ModerateIn,
    NewsletterIn,
    NewsletterOut,
    PageIn,
    PageOut,
    PublishIn,
)
from shopd.http import DB, Conf, PageNumber
from shopd.staff.api import ACTOR, GUARDS, StaffActor
from shopd.unit_of_work import committing

ItemId = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]


def message_out(e: GuestbookEntry) -> MessageOut:
    return MessageOut(
        e.id, "guestbook", e.topic, e.author, e.body, e.hidden, e.reply, e.replied_by, e.created_at
    )


def review_out(r: Review) -> MessageOut:
    return MessageOut(
        r.id,
        "review",
        "products",
        r.author,
        r.body,
        r.hidden,
        r.reply,
        r.replied_by,
        r.created_at,
        r.rating,
    )


class StaffContentController(Controller):
    path = "/api/v1/staff"
    tags = ["staff content"]
    dependencies = ACTOR
    guards = GUARDS

    @get("/pages", opt={"role": "clerk"})
    async def pages(self, actor: StaffActor, db: DB) -> list[PageOut]:
        actor.require("clerk")
        async with db.read() as session:
            return [
                PageOut(p.slug, p.title, p.body, p.position, p.updated_by, p.updated_at)
                for p in await service.pages(session)
            ]

    @put("/pages/{slug:str}", opt={"role": "manager"})
    async def put_page(
        self,
        actor: StaffActor,
        slug: Annotated[str, PathParameter(max_length=64)],
        data: JSONBody[PageIn],
        db: DB,
    ) -> PageOut:
        """Create or replace a service-center page. The body is Markdown; raw HTML in it is
        shown as text, never run."""
        async with committing(db) as session:
            p = await service.put_page(
                session,
                actor,
                slug,
                title=data.title,
                body=data.body,
                position=data.position,
                translations=data.translations,
            )
        return PageOut(p.slug, p.title, p.body, p.position, p.updated_by, p.updated_at)

    @post("/announcements", status_code=201, opt={"role": "manager"})
    async def announce(
        self, actor: StaffActor, data: JSONBody[AnnouncementIn], db: DB
    ) -> AnnouncementOut:
        async with committing(db) as session:
            a = await service.add_announcement(
                session,
                actor,
                title=data.title,
                body=data.body,
                published=data.published,
                translations=data.translations,
            )
        return AnnouncementOut(a.id, a.title, a.body, a.published, a.created_at)

    @patch("/announcements/{item_id:int}", opt={"role": "manager"})
    async def publish(
        self, actor: StaffActor, item_id: ItemId, data: JSONBody[PublishIn], db: DB
    ) -> AnnouncementOut:
        async with committing(db) as session:
            a = await service.set_announcement(session, actor, item_id, published=data.published)
        return AnnouncementOut(a.id, a.title, a.body, a.published, a.created_at)

    @get("/guestbook", opt={"role": "clerk"})
    async def guestbook(
        self,
        actor: StaffActor,
        db: DB,
        page: PageNumber = 1,
    ) -> list[MessageOut]:
        """All messages, hidden ones too, newest first."""
        actor.require("clerk")
        async with db.read() as session:
            rows, _ = await service.guestbook(session, include_hidden=True, page=page, per_page=50)
        return [message_out(e) for e in rows]

    @patch("/guestbook/{item_id:int}", opt={"role": "clerk"})
    async def moderate(
        self, actor: StaffActor, item_id: ItemId, data: JSONBody[ModerateIn], db: DB
    ) -> MessageOut:
        """Reply (shown publicly) and/or hide a message (spam)."""
        async with committing(db) as session:
            e = await service.moderate_message(
                session, actor, item_id, reply=data.reply, hidden=data.hidden
            )
        return message_out(e)

    @patch("/reviews/{item_id:int}", opt={"role": "clerk"})
    async def moderate_review(
        self, actor: StaffActor, item_id: ItemId, data: JSONBody[ModerateIn], db: DB
    ) -> MessageOut:
        async with committing(db) as session:
            r = await service.moderate_review(
                session, actor, item_id, reply=data.reply, hidden=data.hidden
            )
        return review_out(r)

    @post("/newsletters", status_code=201, opt={"role": "manager"})
    async def newsletter(
        self, actor: StaffActor, data: JSONBody[NewsletterIn], db: DB, settings: Conf
    ) -> NewsletterOut:
        """Queue one mail per confirmed subscriber; the outbox sends them in throttled batches."""
        async with committing(db) as session:
            issue = await service.send_newsletter(
                session, settings, actor, subject=data.subject, body=data.body
            )
        return NewsletterOut(issue.id, issue.subject, issue.recipients)
