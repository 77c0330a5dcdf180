"""Checks of a request made before any handler reads it: its path, its body's type and shape.

- A file path (``/static/``, ``/media/``) with a NUL or another control character is refused
  (400 ``invalid_path``): the file handlers pass it to the operating system, which raised on a
  NUL (a 500 before). Elsewhere such a path is only text: an unknown order or product, a 404.
- A JSON endpoint (under ``/api/``) takes a body only as ``application/json`` (or a ``+json``
  type): anything else is 415 ``unsupported_media_type``. A form or ``text/plain`` body is
  what a cross-site HTML form can send without a preflight, so a cookie-authenticated
  endpoint that took one would act on another site's behalf. A handler that takes its body
  raw (an image, a CSV file, a signed webhook) says so with ``opt={"raw_body": True}``.
- A JSON body nested deeper than ``MAX_JSON_DEPTH`` is refused (400 ``too_deeply_nested``)
  before it is decoded: msgspec recurses once per level, and a 2 KB body of a thousand
  brackets ended in a RecursionError (a 500) on every JSON endpoint, without authentication.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from litestar.exceptions import ClientException, HTTPException
from litestar.status_codes import HTTP_415_UNSUPPORTED_MEDIA_TYPE
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from shopd.errors import InvalidInput

# No document this shop takes nests deeper than a few levels; 32 leaves room for any client.
MAX_JSON_DEPTH = 32
FILE_PATHS = ("/static/", "/media/")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# A JSON string (with its escapes) and the brackets outside strings.
_STRING_OR_BRACKET = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def json_depth(body: bytes) -> int:
    """How deep ``body``'s arrays and objects nest, brackets inside strings not counted."""
    depth = deepest = 0
    for match in _STRING_OR_BRACKET.finditer(body):
        char = match.group()
        if char in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif char in (b"]", b"}"):
            depth -= 1
    return deepest


def is_json_type(content_type: str) -> bool:
    media = content_type.partition(";")[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return ""


async def _read_body(receive: Receive, limit: int) -> tuple[bytes, list[Message]]:
    """The body as far as ``limit`` + 1 bytes, and the messages read, to hand on unchanged."""
    messages: list[Message] = []
    body = b""
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return body, messages
        if len(body) <= limit:
            body += message.get("body", b"")
        if not message.get("more_body", False):
            return body, messages


def request_checks(max_body_bytes: int) -> Callable[[ASGIApp], ASGIApp]:
    def middleware(app: ASGIApp) -> ASGIApp:
        async def handle(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            if scope["path"].startswith(FILE_PATHS) and _CONTROL.search(scope["path"]):
                raise InvalidInput("the path contains control characters", code="invalid_path")
            handler = scope.get("route_handler")
            raw = handler is not None and handler.opt.get("raw_body", False)
            if scope["method"] not in BODY_METHODS or raw or not scope["path"].startswith("/api/"):
                await app(scope, receive, send)
                return
            body, messages = await _read_body(receive, max_body_bytes)
            if len(body) > max_body_bytes:
                # Litestar's own limit answers this, with the shop's error shape.
                raise HTTPException(status_code=413, detail="the request body is too large")
            if body.strip():
                if not is_json_type(_header(scope, b"content-type")):
                    raise ClientException(
                        status_code=HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                        detail="send the body as JSON (Content-Type: application/json)",
                    )
                if json_depth(body) > MAX_JSON_DEPTH:
                    raise InvalidInput(
                        f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels",
                        code="too_deeply_nested",
                        details={"max_depth": MAX_JSON_DEPTH},
                    )
            pending = iter(messages)

            async def replay() -> Message:
                message = next(pending, None)
                return message if message is not None else await receive()

            await app(scope, replay, send)

        return handle

    return middleware
