"""Content in and out of the staff API: service pages, announcements, guestbook and review
moderation, the newsletter."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

# A title and a body in the languages other than the row's own (en, es).
TextsByLanguage = Annotated[
    dict[
        Annotated[str, msgspec.Meta(max_length=8)],
        Annotated[
            dict[Annotated[str, msgspec.Meta(max_length=8)], str], msgspec.Meta(max_length=2)
        ],
    ],
    msgspec.Meta(max_length=4),
]


class PageIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    body: Annotated[str, msgspec.Meta(min_length=1, max_length=50_000)]
    position: Annotated[int, msgspec.Meta(ge=0, le=1000)] = 0
    # The page in the other languages: {"en": {"title": …, "body": …}, "es": {…}}.
    translations: TextsByLanguage | None = None


class PageOut(msgspec.Struct):
    slug: str
    title: str
    body: str
    position: int
    updated_by: str
    updated_at: dt.datetime


class AnnouncementIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    body: Annotated[str, msgspec.Meta(min_length=1, max_length=20_000)]
    published: bool = True
    # The announcement in the other languages: {"en": {"title": …, "body": …}, "es": {…}}.
    translations: TextsByLanguage | None = None


class PublishIn(msgspec.Struct, forbid_unknown_fields=True):
    published: bool


class AnnouncementOut(msgspec.Struct):
    id: int
    title: str
    body: str
    published: bool
    created_at: dt.datetime


class ModerateIn(msgspec.Struct, forbid_unknown_fields=True):
    reply: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    hidden: bool | None = None


class MessageOut(msgspec.Struct):
    id: int
    kind: str
    topic: str
    author: str
    body: str
    hidden: bool
    reply: str
    replied_by: str | None
    created_at: dt.datetime
    rating: int | None = None


class NewsletterIn(msgspec.Struct, forbid_unknown_fields=True):
    subject: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    body: Annotated[str, msgspec.Meta(min_length=1, max_length=50_000)]


class NewsletterOut(msgspec.Struct):
    id: int
    subject: str
    recipients: int
