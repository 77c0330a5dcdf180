"""Checkout, payment methods, the guest order inquiry and the customer's order history."""

from __future__ import annotations

import html
from typing import Annotated, Any

import msgspec
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.params import HeaderParameter, JSONBody, PathParameter, QueryParameter
from litestar.status_codes import HTTP_201_CREATED
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shopd import http
from shopd.cart.service import CartOwner
from shopd.customers.api import address_data
from shopd.customers.models import Customer
from shopd.errors import Conflict
from shopd.http import DB, Conf, PageOf
from shopd.orders import gateway, lifecycle, payments, service
from shopd.orders.models import Order, OrderLine, Payment
from shopd.orders.schemas import (
    CheckoutIn,
    InquiryItemOut,
    InquiryOut,
    OrderLineOut,
    OrderOut,
    OrderPage,
    PayIn,
    PaymentMethodOut,
    PayOut,
    PromotionOut,
    ShipToOut,
    WebhookOut,
)
from shopd.unit_of_work import committing

OrderNumber = Annotated[str, PathParameter(max_length=32)]


def line_fields(ln: OrderLine) -> dict[str, Any]:
    return {
        "sku": ln.sku_code,
        "name": ln.product_name,
        "attributes": {str(k): str(v) for k, v in ln.attributes.items()},
        "unit_price": ln.unit_price,
        "quantity": ln.quantity,
        "line_total": ln.line_total,
        "regular_price": ln.regular_price,
        "discount": ln.discount,
    }


def promotion_fields(o: Order) -> dict[str, Any]:
    return {
        "promotions": [
            PromotionOut(str(p.get("kind", "")), str(p.get("code", "")), int(p.get("amount", 0)))
            for p in o.promotions or []
        ],
        "points_spent": o.points_spent,
        "points_earned": o.points_earned,
        "group_buy": o.group_buy_id,
    }


def ship_to_out(o: Order) -> ShipToOut:
    return ShipToOut(
        recipient=o.ship_name,
        phone=o.ship_phone,
        country=o.ship_country,
        region=o.ship_region,
        city=o.ship_city,
        line1=o.ship_line1,
        line2=o.ship_line2,
        postcode=o.ship_postcode,
    )


def order_out(o: Order) -> OrderOut:
    return OrderOut(
        number=o.number,
        status=o.status,
        placed_at=o.created_at,
        payment_method=o.payment_method,
        paid=o.paid_at is not None,
        paid_at=o.paid_at,
        shipped=o.shipped_at is not None,
        shipped_at=o.shipped_at,
        carrier=o.carrier,
        tracking_number=o.tracking_number,
        email=o.email,
        phone=o.phone,
        ship_to=ship_to_out(o),
        items=[OrderLineOut(**line_fields(ln)) for ln in o.lines],
        subtotal=o.subtotal,
        shipping_fee=o.shipping_fee,
        discount=o.discount,
        total=o.total,
        currency=o.currency,
        note=o.note,
        **promotion_fields(o),
    )


def inquiry_out(o: Order) -> InquiryOut:
    return InquiryOut(
        number=o.number,
        placed_at=o.created_at,
        status=o.status,
        paid=o.paid_at is not None,
        paid_at=o.paid_at,
        shipped=o.shipped_at is not None,
        ship_date=o.shipped_at.date() if o.shipped_at else None,
        carrier=o.carrier,
        tracking_number=o.tracking_number,
        items=[InquiryItemOut(name=ln.product_name, quantity=ln.quantity) for ln in o.lines],
        total=o.total,
        currency=o.currency,
    )


class OrderController(Controller):
    path = "/api/v1"
    tags = ["orders"]

    @get("/payment-methods")
    async def payment_methods(self) -> list[PaymentMethodOut]:
        return [PaymentMethodOut(code, name) for code, name in service.PAYMENT_METHODS.items()]

    @post("/orders", status_code=HTTP_201_CREATED)
    async def checkout(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[CheckoutIn],
        db: DB,
        settings: Conf,
        idempotency_key: Annotated[
            str | None, HeaderParameter(name="Idempotency-Key", required=False, max_length=255)
        ] = None,
    ) -> Response[OrderOut]:
        """Check out the caller's cart. Send an ``Idempotency-Key`` header: a retry with the
        same key returns the same order (status 200, ``Idempotent-Replayed: true``)."""
        customer = await http.current_customer(request, db)
        owner: CartOwner | None = http.cart_owner(request, customer)
        if owner is None:
            raise Conflict("the cart is empty", code="cart_empty")
        checkout = service.CheckoutData(
            payment_method=data.payment_method,
            email=data.email,
            phone=data.phone,
            address=address_data(data.address) if data.address else None,
            address_id=data.address_id,
            note=data.note,
            coupons=list(data.coupons),
            points=data.points,
            group_buy=data.group_buy,
            expected_total=data.expected_total,
            language=data.language or "",
        )
        async with db.write() as session:
            me = await session.get(Customer, customer.id) if customer else None
            order, replayed = await service.checkout(
                session,
                settings,
                owner,
                checkout,
                idempotency_key=idempotency_key,
                request_fingerprint=service.fingerprint(msgspec.json.encode(data)),
                customer=me,
            )
        headers = {"Location": f"/api/v1/me/orders/{order.number}"} if customer else {}
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        return Response(
            order_out(order), status_code=200 if replayed else HTTP_201_CREATED, headers=headers
        )

    @get("/orders/{number:str}")
    async def inquiry(
        self,
        request: Request[Any, Any, Any],
        number: OrderNumber,
        db: DB,
        settings: Conf,
        email: Annotated[str | None, QueryParameter(max_length=254)] = None,
        phone: Annotated[str | None, QueryParameter(max_length=32)] = None,
    ) -> InquiryOut:
        """Order inquiry by number plus the e-mail or phone given at checkout. Wrong contacts
        count as failed log-ins, per order number and per address (``too_many_attempts``)."""
        order = await service.inquire_limited(
            db, settings, number, ip=http.client_ip(request), email=email, phone=phone
        )
        return inquiry_out(order)

    @get("/me/orders", dependencies={"paging": http.paging(per_page=20, most=100)})
    async def my_orders(self, request: Request[Any, Any, Any], db: DB, paging: PageOf) -> OrderPage:
        me = await http.require_customer(request, db)
        async with db.read() as session:
            orders, total = await service.customer_orders(
                session, me.id, page=paging.page, per_page=paging.per_page
            )
        return OrderPage([order_out(o) for o in orders], paging.page, paging.per_page, total)

    @get("/me/orders/{number:str}")
    async def my_order(
        self, request: Request[Any, Any, Any], number: OrderNumber, db: DB
    ) -> OrderOut:
        me = await http.require_customer(request, db)
        async with db.read() as session:
            return order_out(await service.customer_order(session, me.id, number))

    @post("/me/orders/{number:str}/cancel", status_code=200)
    async def cancel_my_order(
        self, request: Request[Any, Any, Any], number: OrderNumber, db: DB, settings: Conf
    ) -> OrderOut:
        """Cancel one of my orders while it is unpaid; the stock goes back."""
        me = await http.require_customer(request, db)
        async with committing(db) as session:
            await lifecycle.customer_cancel(session, settings, me.id, number)
        async with db.read() as session:
            return order_out(await service.customer_order(session, me.id, number))

    @post("/orders/{number:str}/payment", status_code=HTTP_201_CREATED)
    async def pay(
        self,
        request: Request[Any, Any, Any],
        number: OrderNumber,
        data: JSONBody[PayIn],
        db: DB,
        settings: Conf,
    ) -> PayOut:
        """Start paying a card order: answers the gateway page to send the customer to. A
        guest proves the order is theirs with the e-mail or phone given at checkout."""
        customer = await http.current_customer(request, db)

        async def find(session: AsyncSession) -> Order:
            if customer is not None and not (data.email or data.phone):
                return await service.customer_order(session, customer.id, number)
            return await service.inquire(session, number, email=data.email, phone=data.phone)

        payment = await payments.card_checkout(db, settings, find)
        assert payment.redirect_url is not None
        return PayOut(payment.reference, payment.redirect_url, payment.amount, payment.currency)

    @post("/payments/webhook", status_code=200, opt={"raw_body": True})
    async def webhook(self, request: Request[Any, Any, Any], db: DB, settings: Conf) -> WebhookOut:
        """The gateway's signed notice of a payment (header ``Shopd-Signature``). Verified,
        idempotent by event id, and refused when the amount is not the order's."""
        body = await request.body()
        try:
            async with committing(db) as session:
                outcome = await payments.handle_webhook(
                    session, settings, body, request.headers.get(gateway.SIGNATURE_HEADER)
                )
        except IntegrityError:
            # The same event arrived twice at once; the other delivery recorded it.
            outcome = "duplicate"
        if outcome == "amount_mismatch":
            raise payments.AmountMismatch(
                "the amount paid is not the amount of this payment; the order stays unpaid"
            )
        return WebhookOut(outcome)


@get("/payment/return", media_type=MediaType.HTML, include_in_schema=False)
async def payment_return(
    db: DB,
    settings: Conf,
    reference: Annotated[str, QueryParameter(max_length=64)] = "",
) -> str:
    """Where the gateway sends the customer back; the webhook, not this page, decides."""
    async with db.read() as session:
        payment = await session.scalar(select(Payment).where(Payment.reference == reference))
        order = await session.get(Order, payment.order_id) if payment else None
    shop = html.escape(settings.shop_name)
    if payment is None or order is None:
        text = "We could not find this payment. 未找到该付款。"
    elif payment.status == "succeeded":
        text = f"Thank you: order {html.escape(order.number)} is paid. 订单已付款。"
    elif payment.status == "pending":
        text = "We are waiting for the bank's confirmation. 正在等待银行确认，请稍后刷新。"
    else:
        text = "The payment did not go through. 付款未成功。"
    return (
        f"<!doctype html><html lang=zh><meta charset=utf-8><title>{shop}</title>"
        f"<h1>{shop}</h1><p>{text}</p></html>"
    )
