"""Headers that make the browser part of the defence: no sniffing content types, no framing
(clickjacking), no full URLs leaked to other sites, and for HTML pages a Content-Security-Policy
that runs only the shop's own scripts — an injected ``<script>`` or inline handler is refused.
HSTS is nginx's, where TLS ends.

A ``before_send`` hook rather than a middleware: it also sees the responses no route handled
(an unknown path's 404)."""

from __future__ import annotations

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
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"strict-origin-when-cross-origin",
    b"x-frame-options": b"DENY",
}
_CSP = (b"content-security-policy", CSP.encode())
# The API documentation pages load their viewer from a CDN with inline scripts: no CSP there.
DOCS = "/schema"


async def add_security_headers(message: Message, scope: Scope) -> None:
    if message["type"] != "http.response.start":
        return
    # One pass over the raw headers: every look-up through Litestar's MutableScopeHeaders
    # decodes and lower-cases them all again, and this runs for every response.
    headers = list(message.get("headers", ()))
    present: set[bytes] = set()
    html = False
    for name, value in headers:
        name = bytes(name).lower()
        present.add(name)
        if name == b"content-type":
            html = bytes(value).startswith(b"text/html")
    added = [(name, value) for name, value in ALWAYS.items() if name not in present]
    if html and not scope["path"].startswith(DOCS) and _CSP[0] not in present:
        added.append(_CSP)
    if added:
        message["headers"] = headers + added
