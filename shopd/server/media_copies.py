"""Before the media files router looks on this server's disk, an image it lacks is copied
there from the database (``shopd.catalog.media``): an upload taken by another app server, or
an image restored from a backup."""

from __future__ import annotations

from urllib.parse import unquote

from litestar.types import ASGIApp, Receive, Scope, Send

from shopd.catalog import media
from shopd.config import Settings


def media_copies(app: ASGIApp) -> ASGIApp:
    async def fill(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            state = scope["app"].state
            settings: Settings = state["settings"]
            name = unquote(scope["path"]).removeprefix("/media/")
            await media.ensure_copy(state["db"], settings.media_dir, name)
        await app(scope, receive, send)

    return fill
