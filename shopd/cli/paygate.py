"""A local test payment gateway that speaks the protocol of ``shopd.orders.gateway``.

It stands in for a card provider in the demo and the tests, over real HTTP: the shop creates a
session, the customer opens the gateway's page and pays or declines, and the gateway sends the
shop a signed webhook and the customer back to the shop. Run it with ``shopctl paygate``.

For tests and rehearsals it also lets an operator complete a session from a script, resend an
event exactly as it was sent (a replay), or report a tampered amount.
"""

from __future__ import annotations

import asyncio
import html
import secrets
from dataclasses import dataclass, field
from typing import Annotated, Any

import httpx
import msgspec
from litestar import Litestar, MediaType, Request, Response, get, post
from litestar.datastructures import State
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.params import Body, PathParameter

from shopd.formatting import format_money
from shopd.orders.gateway import SIGNATURE_HEADER, sign


@dataclass
class PaySession:
    id: str
    reference: str
    amount: int
    currency: str
    return_url: str
    webhook_url: str
    description: str
    status: str = "open"  # open → succeeded | failed
    events: list[str] = field(default_factory=list)
    refunded: int = 0


@dataclass
class SentEvent:
    id: str
    url: str
    body: bytes
    signature: str
    deliveries: list[int] = field(default_factory=list)


class SessionIn(msgspec.Struct):
    reference: str
    amount: int
    currency: str
    return_url: str
    webhook_url: str
    description: str = ""


class RefundIn(msgspec.Struct):
    session: str
    amount: int
    reference: str


class CompleteIn(msgspec.Struct):
    outcome: str = "succeeded"
    # Rehearse tampering: report a different amount than the session's.
    amount: int | None = None


class Gateway:
    def __init__(self, api_key: str, webhook_secret: str, public_url: str) -> None:
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.public_url = public_url.rstrip("/")
        self.sessions: dict[str, PaySession] = {}
        self.events: dict[str, SentEvent] = {}
        # By the shop's reference: asked twice, a refund is made once.
        self.refunds: dict[str, dict[str, Any]] = {}

    def check_key(self, request: Request[Any, Any, Any]) -> None:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not secrets.compare_digest(given, self.api_key):
            raise NotAuthorizedException("wrong API key")

    def session(self, session_id: str) -> PaySession:
        found = self.sessions.get(session_id)
        if found is None:
            raise NotFoundException("no such payment session")
        return found

    async def deliver(self, event: SentEvent) -> tuple[int, Any]:
        """POST the event; retry on network errors and 5xx like a real provider does."""
        status, reply = 0, None
        for attempt in range(4):
            try:
                async with httpx.AsyncClient(timeout=10) as client:
                    r = await client.post(
                        event.url,
                        content=event.body,
                        headers={
                            "Content-Type": "application/json",
                            SIGNATURE_HEADER: event.signature,
                        },
                    )
                status = r.status_code
                reply = r.json() if r.content else None
            except (httpx.HTTPError, ValueError) as exc:
                status, reply = 0, {"error": str(exc)}
            event.deliveries.append(status)
            if status and status < 500:
                break
            await asyncio.sleep(0.2 * (attempt + 1))
        return status, reply

    async def complete(
        self, pay: PaySession, outcome: str, amount: int | None = None
    ) -> tuple[SentEvent, int, Any]:
        if pay.status != "open":
            raise NotFoundException("this payment session is closed")
        pay.status = "succeeded" if outcome == "succeeded" else "failed"
        event_id = "evt_" + secrets.token_hex(12)
        body = msgspec.json.encode(
            {
                "id": event_id,
                "type": f"payment.{pay.status}",
                "reference": pay.reference,
                "session": pay.id,
                "amount": pay.amount if amount is None else amount,
                "currency": pay.currency,
            }
        )
        event = SentEvent(event_id, pay.webhook_url, body, sign(self.webhook_secret, body))
        self.events[event_id] = event
        pay.events.append(event_id)
        status, reply = await self.deliver(event)
        return event, status, reply


def _gateway(state: State) -> Gateway:
    return state["gateway"]  # type: ignore[no-any-return]


@post("/v1/sessions", status_code=201)
async def create_session(request: Request[Any, Any, Any], data: SessionIn) -> dict[str, str]:
    gw = _gateway(request.app.state)
    gw.check_key(request)
    pay = PaySession(
        id="ps_" + secrets.token_hex(12),
        reference=data.reference,
        amount=data.amount,
        currency=data.currency,
        return_url=data.return_url,
        webhook_url=data.webhook_url,
        description=data.description,
    )
    gw.sessions[pay.id] = pay
    return {"id": pay.id, "url": f"{gw.public_url}/pay/{pay.id}"}


@get("/pay/{session_id:str}", media_type=MediaType.HTML)
async def pay_page(request: Request[Any, Any, Any], session_id: str) -> str:
    pay = _gateway(request.app.state).session(session_id)
    amount = format_money(pay.amount, pay.currency, code=True)
    buttons = (
        "<form method=post><button name=outcome value=succeeded>Pay 支付</button> "
        "<button name=outcome value=failed>Decline 拒绝</button></form>"
        if pay.status == "open"
        else f"<p>{html.escape(pay.status)}</p>"
    )
    return (
        "<!doctype html><html lang=zh><meta charset=utf-8><title>Test gateway</title>"
        f"<h1>Test payment gateway</h1><p>{html.escape(pay.description)}</p>"
        f"<p><strong>{html.escape(amount)}</strong></p>{buttons}</html>"
    )


@post("/pay/{session_id:str}", status_code=303)
async def pay_submit(
    request: Request[Any, Any, Any],
    session_id: str,
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[None]:
    gw = _gateway(request.app.state)
    pay = gw.session(session_id)
    await gw.complete(pay, data.get("outcome", "failed"))
    return Response(None, status_code=303, headers={"Location": pay.return_url})


@post("/v1/sessions/{session_id:str}/complete", status_code=200)
async def complete_session(
    request: Request[Any, Any, Any],
    session_id: Annotated[str, PathParameter()],
    data: CompleteIn,
) -> dict[str, Any]:
    """Script hook: finish a session as if the customer had paid (or declined)."""
    gw = _gateway(request.app.state)
    gw.check_key(request)
    event, status, reply = await gw.complete(gw.session(session_id), data.outcome, data.amount)
    return {"event_id": event.id, "shop_status": status, "shop_reply": reply}


@post("/v1/events/{event_id:str}/resend", status_code=200)
async def resend_event(request: Request[Any, Any, Any], event_id: str) -> dict[str, Any]:
    """Script hook: send an event again, byte for byte (a replay)."""
    gw = _gateway(request.app.state)
    gw.check_key(request)
    event = gw.events.get(event_id)
    if event is None:
        raise NotFoundException("no such event")
    status, reply = await gw.deliver(event)
    return {"event_id": event.id, "shop_status": status, "shop_reply": reply}


@post("/v1/refunds", status_code=201)
async def refund(request: Request[Any, Any, Any], data: RefundIn) -> Response[dict[str, Any]]:
    """Send some of a paid session back to the card, once per reference."""
    gw = _gateway(request.app.state)
    gw.check_key(request)
    done = gw.refunds.get(data.reference)
    if done is not None:
        return Response(done, status_code=200)
    pay = gw.session(data.session)
    if pay.status != "succeeded":
        return Response({"error": f"the session is {pay.status}, not paid"}, status_code=409)
    if not 0 < data.amount <= pay.amount - pay.refunded:
        left = pay.amount - pay.refunded
        return Response({"error": f"{left} is left to refund"}, status_code=422)
    pay.refunded += data.amount
    made = {"id": "re_" + secrets.token_hex(12), "status": "succeeded", "amount": data.amount}
    gw.refunds[data.reference] = made
    return Response(made, status_code=201)


def create_gateway_app(api_key: str, webhook_secret: str, public_url: str) -> Litestar:
    return Litestar(
        route_handlers=[
            create_session,
            pay_page,
            pay_submit,
            complete_session,
            resend_event,
            refund,
        ],
        state=State({"gateway": Gateway(api_key, webhook_secret, public_url)}),
        openapi_config=None,
        debug=False,
    )
