"""The payment-gateway adapter: how shopd talks to a card gateway, and how webhooks are signed.

The protocol (the local test gateway, ``shopctl paygate``, speaks it; a real provider gets an
adapter with the same two methods):

- ``POST {gateway}/v1/sessions`` with ``Authorization: Bearer <key>`` and JSON
  ``{reference, amount, currency, return_url, webhook_url, description}`` answers
  ``{id, url}``; the customer is sent to ``url`` to pay.
- The gateway then POSTs a webhook: JSON ``{id, type, reference, session, amount, currency}``
  with the header ``Shopd-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">``.
- ``POST {gateway}/v1/refunds`` with the key and JSON ``{session, amount, reference}`` sends
  ``amount`` of a paid session back to the card and answers ``{id, status}``; ``reference`` is
  the shop's idempotency key (the same reference twice refunds once). A refund the gateway
  will not make (more than was paid, an unpaid session) is a 4xx with ``{error}``.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

import httpx

from shopd.errors import DomainError, InvalidInput

SIGNATURE_HEADER = "Shopd-Signature"
# A signature older than this is refused: a captured webhook cannot be replayed days later.
TOLERANCE_SECONDS = 300


class GatewayUnavailable(DomainError):
    status_code = 503
    code = "payment_gateway_unavailable"


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify(secret: str, body: bytes, header: str | None, *, now: float | None = None) -> None:
    """Raise ``invalid_signature`` unless the header is a fresh, valid signature of ``body``."""
    bad = InvalidInput("the webhook signature is not valid", code="invalid_signature")
    if not secret or not header or len(header) > 512:
        raise bad
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        t = int(parts.get("t", ""))
    except ValueError:
        raise bad from None
    given = parts.get("v1", "")
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(given, expected):
        raise bad
    if abs((now if now is not None else time.time()) - t) > TOLERANCE_SECONDS:
        raise InvalidInput("the webhook signature has expired", code="invalid_signature")


class GatewayRefused(DomainError):
    status_code = 409
    code = "payment_gateway_refused"


@dataclass(frozen=True, slots=True)
class GatewaySession:
    id: str
    url: str


class GatewayClient:
    def __init__(self, base_url: str, api_key: str, *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout

    async def create_session(
        self,
        *,
        reference: str,
        amount: int,
        currency: str,
        return_url: str,
        webhook_url: str,
        description: str,
    ) -> GatewaySession:
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                reply = await client.post(
                    f"{self.base_url}/v1/sessions",
                    headers={"Authorization": f"Bearer {self.api_key}"},
                    json={
                        "reference": reference,
                        "amount": amount,
                        "currency": currency,
                        "return_url": return_url,
                        "webhook_url": webhook_url,
                        "description": description,
                    },
                )
            reply.raise_for_status()
            data = reply.json()
            return GatewaySession(id=str(data["id"]), url=str(data["url"]))
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            raise GatewayUnavailable(
                "the payment gateway is not answering; try again in a moment",
                details={"reason": type(exc).__name__},
            ) from exc

    async def refund(self, *, session: str, amount: int, reference: str) -> str:
        """Send ``amount`` of the paid ``session`` back to the card; the gateway's refund id.
        Calling again with the same ``reference`` refunds once."""
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                reply = await client.post(
                    f"{self.base_url}/v1/refunds",
                    headers={"Authorization": f"Bearer {self.api_key}"},
                    json={"session": session, "amount": amount, "reference": reference},
                )
            if 400 <= reply.status_code < 500:
                raise GatewayRefused(
                    "the payment gateway refused the refund: "
                    + str(reply.json().get("error", reply.status_code))[:200],
                    details={"status": reply.status_code},
                )
            reply.raise_for_status()
            return str(reply.json()["id"])
        except (httpx.HTTPError, ValueError, KeyError, AttributeError) as exc:
            raise GatewayUnavailable(
                "the payment gateway is not answering; try again in a moment",
                details={"reason": type(exc).__name__},
            ) from exc
