"""Conditional requests: ``If-None-Match`` and ``If-Modified-Since`` answered with a 304.

Pages compare their own ETag (``shopd.web.render``). Files (``/static``, ``/media``) get their
ETag and Last-Modified from Litestar, which sends them but never answers a revalidation with a
304: a browser whose cached image or stylesheet had aged out downloaded the whole file again.
Product images are proxied to the app servers by nginx, so this is every shopper's images in
production, not only ``shopctl demo``'s files.
"""

from __future__ import annotations

from collections.abc import Iterable
from email.utils import parsedate_to_datetime

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from shopd.http import none_match

# What a 304 carries of the 200 it stands for (RFC 9110 15.4.5).
_KEPT = frozenset({b"etag", b"last-modified", b"cache-control", b"expires", b"vary", b"date"})


def _not_modified_since(header: str, last_modified: str) -> bool:
    try:
        return parsedate_to_datetime(last_modified) <= parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return False  # a date that cannot be read is ignored (RFC 9110 13.1.3)


def _header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if bytes(key).lower() == name:
            return bytes(value).decode("latin-1")
    return None


def fresh(
    if_none_match: str | None, if_modified_since: str | None, headers: Iterable[tuple[bytes, bytes]]
) -> bool:
    """Whether the client's copy is the response with these headers (If-None-Match, when sent,
    decides alone)."""
    etag = _header(headers, b"etag")
    if if_none_match is not None:
        return etag is not None and none_match(if_none_match, etag)
    last_modified = _header(headers, b"last-modified")
    if if_modified_since is None or last_modified is None:
        return False
    return _not_modified_since(if_modified_since, last_modified)


def not_modified_files(app: ASGIApp) -> ASGIApp:
    """Middleware for the file routers: a revalidation that still holds gets a 304 and the
    file's validators and caching headers, without the file."""

    async def handle(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await app(scope, receive, send)
            return
        inm = _header(scope["headers"], b"if-none-match")
        ims = _header(scope["headers"], b"if-modified-since")
        if inm is None and ims is None:
            await app(scope, receive, send)
            return
        answered = False

        async def send_checked(message: Message) -> None:
            nonlocal answered
            if answered:
                return  # the file the client already has
            if message["type"] == "http.response.start" and message["status"] == 200:
                headers = list(message.get("headers", ()))
                if fresh(inm, ims, headers):
                    answered = True
                    passed_on = [(k, v) for k, v in headers if bytes(k).lower() in _KEPT]
                    await send({"type": "http.response.start", "status": 304, "headers": passed_on})
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                    return
            await send(message)

        await app(scope, receive, send_checked)

    return handle
