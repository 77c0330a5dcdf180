"""HEAD answered as GET without the body, as HTTP asks of every GET resource.

Uptime monitors, link checkers and mail scanners ask with HEAD. Litestar routes HEAD only to
handlers declared for it, so without this ``HEAD /`` was a 404 and ``HEAD /healthz`` a 405.
Here a HEAD request goes through the app as a GET, and its response keeps the GET's status and
headers (Content-Length and Content-Type included) and loses the body. A handler that must not
act on a HEAD (a visit counted, a newsletter link that changes a subscription) asks
``is_head``: mail scanners follow links with HEAD on their readers' behalf.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.types import Message, Receive, Scope, Send

from shopd.http import HEAD_KEY


def _without_body(send: Send) -> Send:
    async def send_head(message: Message) -> None:
        if message["type"] == "http.response.body" and message.get("body"):
            message = {**message, "body": b""}
        await send(message)

    return send_head


class ShopApp(Litestar):
    async def __call__(self, scope: Any, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "HEAD":
            # A copy: the server keeps its own scope saying HEAD, and sends no body either.
            head: Scope = {**scope, "method": "GET", HEAD_KEY: True}  # type: ignore[typeddict-unknown-key]
            await super().__call__(head, receive, _without_body(send))
            return
        await super().__call__(scope, receive, send)
