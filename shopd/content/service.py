"""Content rules: who may post what, what staff moderate, Markdown rendered without raw HTML,
and the newsletter's double opt-in through the mail outbox."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from markdown_it import MarkdownIt
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shopd import security, translations
from shopd.catalog.models import Product, Sku
from shopd.config import Settings
from shopd.content.default_pages import DEFAULT_PAGES, translations_of
from shopd.content.models import (
    Announcement,
    GuestbookEntry,
    NewsletterIssue,
    Review,
    ServicePage,
    Subscriber,
)
from shopd.customers.models import Customer
from shopd.db import utcnow
from shopd.errors import Conflict, Forbidden, InvalidInput, NotFound
from shopd.notifications.service import enqueue_mail
from shopd.orders.models import Order, OrderLine
from shopd.staff.audit import Actor, record
from shopd.validation import clean_text, normalise_email

TOPICS = ("products", "service", "delivery")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
# Raw HTML is off: a page body can format text and link, never run script.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False})
REVIEWABLE = ("delivered", "completed")


def render_markdown(text: str) -> Markup:
    return Markup(_markdown.render(text))


# Service pages -----------------------------------------------------------------------------


async def pages(session: AsyncSession) -> list[ServicePage]:
    rows = await session.execute(
        select(ServicePage).order_by(ServicePage.position, ServicePage.slug)
    )
    return list(rows.scalars())


async def page(session: AsyncSession, slug: str) -> ServicePage:
    found = await session.get(ServicePage, slug[:64])
    if found is None:
        raise NotFound("no such page", code="page_not_found")
    return found


def _texts_by_language(
    given: dict[str, dict[str, str]], body_length: int = 50_000
) -> dict[str, dict[str, str]]:
    """A page's or announcement's title and body in the other languages (en, es), checked as
    its own are; a language with neither is left out."""
    out: dict[str, dict[str, str]] = {}
    for lang, texts in given.items():
        if lang not in ("en", "es") or set(texts) - {"title", "body"}:
            raise InvalidInput(
                "translations are en and es, each a title and a body",
                code="invalid_translation",
                details={"field": "translations", "language": lang},
            )
        kept = {
            "title": clean_text(texts.get("title", ""), "title", max_length=200, required=False),
            "body": clean_text(
                texts.get("body", ""), "body", max_length=body_length, required=False
            ),
        }
        if any(kept.values()):
            out[lang] = {key: text for key, text in kept.items() if text}
    return out


async def put_page(
    session: AsyncSession,
    actor: Actor,
    slug: str,
    *,
    title: str,
    body: str,
    position: int,
    translations: dict[str, dict[str, str]] | None = None,
) -> ServicePage:
    """Create or replace a page: its own title and body and, when given, its texts in the other
    languages ({"en": {"title", "body"}, "es": …}; none given keeps what it had)."""
    actor.require("manager")
    if not _SLUG.match(slug):
        raise InvalidInput(
            "a page slug is lower-case letters, digits and dashes", code="invalid_slug"
        )
    title = clean_text(title, "title", max_length=200)
    body = clean_text(body, "body", max_length=50_000)
    existing = await session.get(ServicePage, slug)
    before = {"title": existing.title, "body": existing.body} if existing else None
    if existing is None:
        existing = ServicePage(
            slug=slug, title=title, body=body, position=position, updated_by=actor.label
        )
        session.add(existing)
    else:
        existing.title, existing.body, existing.position = title, body, position
        existing.updated_by = actor.label
    if translations is not None:
        existing.translations = _texts_by_language(translations)
    record(
        session,
        actor,
        "page.put",
        "page",
        slug,
        before=before,
        after={"title": title, "body": body},
    )
    await session.flush()
    return existing


async def seed_pages(session: AsyncSession) -> None:
    for position, (slug, texts) in enumerate(DEFAULT_PAGES.items()):
        if await session.get(ServicePage, slug) is None:
            title, body = texts["zh"]
            session.add(
                ServicePage(
                    slug=slug,
                    title=title,
                    body=body,
                    translations=translations_of(slug),
                    position=position,
                    updated_by="system",
                )
            )


# Announcements -----------------------------------------------------------------------------


async def announcements(
    session: AsyncSession, *, include_hidden: bool = False, limit: int = 5
) -> list[Announcement]:
    query = select(Announcement)
    if not include_hidden:
        query = query.where(Announcement.published.is_(True))
    rows = await session.execute(query.order_by(Announcement.id.desc()).limit(limit))
    return list(rows.scalars())


async def add_announcement(
    session: AsyncSession,
    actor: Actor,
    *,
    title: str,
    body: str,
    published: bool,
    translations: dict[str, dict[str, str]] | None = None,
) -> Announcement:
    """A new announcement, with its title and body in the other languages when given."""
    actor.require("manager")
    item = Announcement(
        title=clean_text(title, "title", max_length=200),
        body=clean_text(body, "body", max_length=20_000),
        translations=_texts_by_language(translations or {}, body_length=20_000),
        published=published,
        created_by=actor.label,
    )
    session.add(item)
    await session.flush()
    record(session, actor, "announcement.add", "announcement", item.id, after={"title": item.title})
    return item


async def set_announcement(
    session: AsyncSession, actor: Actor, item_id: int, *, published: bool
) -> Announcement:
    actor.require("manager")
    item = await session.get(Announcement, item_id)
    if item is None:
        raise NotFound("no such announcement", code="announcement_not_found")
    before = {"published": item.published}
    item.published = published
    record(
        session,
        actor,
        "announcement.publish",
        "announcement",
        item_id,
        before=before,
        after={"published": published},
    )
    await session.flush()
    return item


# Guestbook ---------------------------------------------------------------------------------


async def guestbook(
    session: AsyncSession, *, include_hidden: bool = False, page: int = 1, per_page: int = 20
) -> tuple[list[GuestbookEntry], int]:
    query = select(GuestbookEntry)
    if not include_hidden:
        query = query.where(GuestbookEntry.hidden.is_(False))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.execute(
        query.order_by(GuestbookEntry.id.desc()).limit(per_page).offset((page - 1) * per_page)
    )
    return list(rows.scalars()), total


async def post_message(
    session: AsyncSession, *, topic: str, author: str, body: str, customer: Customer | None, ip: str
) -> GuestbookEntry:
    if topic not in TOPICS:
        raise InvalidInput("choose a topic", code="invalid_topic", details={"field": "topic"})
    author = (
        clean_text(author, "author", max_length=60)
        if author
        else (customer.name if customer and customer.name else "")
    )
    if not author:
        raise InvalidInput(
            "your name is required", code="missing_field", details={"field": "author"}
        )
    body = clean_text(body, "body", max_length=2000)
    entry = GuestbookEntry(
        topic=topic,
        author=author,
        body=body,
        customer_id=customer.id if customer else None,
        ip=ip[:45],
    )
    session.add(entry)
    await session.flush()
    return entry


async def moderate_message(
    session: AsyncSession, actor: Actor, entry_id: int, *, reply: str | None, hidden: bool | None
) -> GuestbookEntry:
    return await _moderate(session, actor, GuestbookEntry, "guestbook", entry_id, reply, hidden)


async def _moderate(
    session: AsyncSession,
    actor: Actor,
    model: type[GuestbookEntry] | type[Review],
    kind: str,
    item_id: int,
    reply: str | None,
    hidden: bool | None,
) -> Any:
    """Reply to (shown publicly) and/or hide a guestbook message or a review."""
    actor.require("clerk")
    item = await session.get(model, item_id)
    if item is None:
        raise NotFound(f"no such {kind} entry", code=f"{kind}_not_found")
    before = {"reply": item.reply, "hidden": item.hidden}
    if reply is not None:
        item.reply = clean_text(reply, "reply", max_length=2000, required=False)
        item.replied_by, item.replied_at = actor.label, utcnow()
    if hidden is not None:
        item.hidden = hidden
    after = {"reply": item.reply, "hidden": item.hidden}
    record(session, actor, f"{kind}.moderate", kind, item_id, before=before, after=after)
    await session.flush()
    return item


# Reviews -----------------------------------------------------------------------------------


@dataclass(slots=True)
class RatingSummary:
    count: int
    average: float | None


async def reviews(session: AsyncSession, product_id: int) -> tuple[list[Review], RatingSummary]:
    rows = await session.execute(
        select(Review)
        .where(Review.product_id == product_id, Review.hidden.is_(False))
        .order_by(Review.id.desc())
    )
    items = list(rows.scalars())
    avg = sum(r.rating for r in items) / len(items) if items else None
    return items, RatingSummary(len(items), avg)


async def has_bought(session: AsyncSession, customer_id: int, product_id: int) -> bool:
    found = await session.scalar(
        select(Order.id)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .join(Sku, Sku.id == OrderLine.sku_id)
        .where(
            Order.customer_id == customer_id,
            Order.status.in_(REVIEWABLE),
            Sku.product_id == product_id,
        )
        .limit(1)
    )
    return found is not None


async def add_review(
    session: AsyncSession, customer: Customer, product: Product, *, rating: int, body: str
) -> Review:
    if not 1 <= rating <= 5:
        raise InvalidInput(
            "a rating is 1 to 5 stars", code="invalid_rating", details={"field": "rating"}
        )
    body = clean_text(body, "body", max_length=2000)
    if not await has_bought(session, customer.id, product.id):
        raise Forbidden(
            "only customers who received this product can review it", code="not_a_buyer"
        )
    review = Review(
        product_id=product.id,
        customer_id=customer.id,
        author=customer.name or customer.email.split("@")[0],
        rating=rating,
        body=body,
    )
    session.add(review)
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict("you reviewed this product already", code="already_reviewed") from None
    return review


async def moderate_review(
    session: AsyncSession, actor: Actor, review_id: int, *, reply: str | None, hidden: bool | None
) -> Review:
    return await _moderate(session, actor, Review, "review", review_id, reply, hidden)  # type: ignore[no-any-return]


# Newsletter --------------------------------------------------------------------------------


def _links(settings: Settings, token: str) -> tuple[str, str]:
    base = settings.public_url.rstrip("/")
    return f"{base}/newsletter/confirm/{token}", f"{base}/newsletter/unsubscribe/{token}"


async def subscribe(session: AsyncSession, settings: Settings, email: str, language: str) -> None:
    """Ask for confirmation by mail (double opt-in). The answer is the same whether or not the
    address was known, so the form cannot be used to probe for subscribers."""
    email = normalise_email(email)
    sub = await session.scalar(select(Subscriber).where(Subscriber.email == email))
    if sub is not None and sub.status == "confirmed":
        return
    token = security.new_token()[:48]
    if sub is None:
        sub = Subscriber(email=email, status="pending", token=token, language=language)
        session.add(sub)
    else:
        sub.status, sub.token, sub.language = "pending", token, language
    await session.flush()
    confirm, unsubscribe = _links(settings, token)
    # In the language of the page subscribed from (else the shop's).
    _ = translations.translator(translations.language_or(language, settings.language))
    enqueue_mail(
        session,
        "newsletter_confirm",
        email,
        _("[{shop}] Please confirm your subscription", shop=settings.shop_name),
        _("Confirm: {link}", link=confirm)
        + "\n\n"
        + _("Not you? Ignore this mail, or: {link}", link=unsubscribe)
        + "\n",
    )


async def confirm(session: AsyncSession, token: str) -> Subscriber:
    sub = await session.scalar(select(Subscriber).where(Subscriber.token == token[:64]))
    if sub is None or sub.status == "unsubscribed":
        raise NotFound("this confirmation link is not valid", code="invalid_token")
    if sub.status == "pending":
        sub.status, sub.confirmed_at = "confirmed", utcnow()
    return sub


async def unsubscribe(session: AsyncSession, token: str) -> Subscriber:
    sub = await session.scalar(select(Subscriber).where(Subscriber.token == token[:64]))
    if sub is None:
        raise NotFound("this link is not valid", code="invalid_token")
    sub.status = "unsubscribed"
    return sub


async def send_newsletter(
    session: AsyncSession, settings: Settings, actor: Actor, *, subject: str, body: str
) -> NewsletterIssue:
    """One outbox mail per confirmed subscriber, each with its own unsubscribe link. The outbox
    sender throttles delivery (a batch per round) and retries through outages."""
    actor.require("manager")
    subject = clean_text(subject, "subject", max_length=200)
    body = clean_text(body, "body", max_length=50_000)
    rows = await session.execute(select(Subscriber).where(Subscriber.status == "confirmed"))
    issue = NewsletterIssue(subject=subject, body=body, created_by=actor.label)
    session.add(issue)
    count = 0
    for sub in rows.scalars():
        _, unsubscribe_link = _links(settings, sub.token)
        enqueue_mail(
            session,
            "newsletter",
            sub.email,
            f"[{settings.shop_name}] {subject}",
            f"{body}\n\n--\nUnsubscribe · 退订: {unsubscribe_link}\n",
        )
        count += 1
    issue.recipients = count
    await session.flush()
    record(
        session,
        actor,
        "newsletter.send",
        "newsletter",
        issue.id,
        after={"subject": subject, "recipients": count},
    )
    return issue
