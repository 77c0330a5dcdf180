"""Headers that make the browser part of the defence: no sniffing content types, no framing
(clickjacking), no full URLs leaked to other sites, and for HTML pages a Content-Security-Policy
that runs only the shop's own scripts — an injected ``<script>`` or inline handler is refused.
HSTS is nginx's, where TLS ends.

A ``before_send`` hook rather than a middleware: it also sees the answers no route handled
(an unknown path's 404)."""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

CSP = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "script-src 'self'",
        "style-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)
ALWAYS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "x-frame-options": "DENY",
}
# The API documentation pages load their viewer from a CDN with inline scripts: no CSP there.
DOCS = "/schema"


async def add_security_headers(message: Message, scope: Scope) -> None:
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    for name, value in ALWAYS.items():
        if name not in headers:
            headers[name] = value
    html = headers.get("content-type", "").startswith("text/html")
    if html and not scope["path"].startswith(DOCS) and "content-security-policy" not in headers:
        headers["content-security-policy"] = CSP
