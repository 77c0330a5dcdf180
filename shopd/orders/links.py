"""Links that open one order's page without logging in: the confirmation after checkout and
every order mail carry one. The link holds an HMAC of the order number under the shop's
secret key, so it cannot be guessed from a number, and it works on every app server."""

from __future__ import annotations

import hmac

from shopd.config import Settings


def order_token(settings: Settings, number: str) -> str:
    key = settings.effective_secret_key().encode()
    return hmac.new(key, f"order:{number}".encode(), "sha256").hexdigest()[:32]


def is_order_token(settings: Settings, number: str, token: str) -> bool:
    return hmac.compare_digest(token, order_token(settings, number))


def order_path(settings: Settings, number: str) -> str:
    """The order's own page: its status, lines, address and tracking."""
    return f"/orders/{number}?t={order_token(settings, number)}"


def order_url(settings: Settings, number: str) -> str:
    return settings.public_url.rstrip("/") + order_path(settings, number)
