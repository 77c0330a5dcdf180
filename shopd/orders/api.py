"""Checkout, payment methods, the guest order inquiry and the customer's order history."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import HeaderParameter, JSONBody, PathParameter, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from shopd import http
from shopd.cart.service import CartOwner
from shopd.customers.api import address_data
from shopd.customers.models import Customer
from shopd.errors import Conflict
from shopd.http import DB, Conf
from shopd.orders import service
from shopd.orders.models import Order
from shopd.orders.schemas import (
    CheckoutIn,
    InquiryItemOut,
    InquiryOut,
    OrderLineOut,
    OrderOut,
    OrderPage,
    PaymentMethodOut,
    ShipToOut,
)

OrderNumber = Annotated[str, PathParameter(max_length=32)]


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
        ship_to=ShipToOut(
            recipient=o.ship_name,
            phone=o.ship_phone,
            country=o.ship_country,
            region=o.ship_region,
            city=o.ship_city,
            line1=o.ship_line1,
            line2=o.ship_line2,
            postcode=o.ship_postcode,
        ),
        items=[
            OrderLineOut(
                sku=ln.sku_code,
                name=ln.product_name,
                attributes={str(k): str(v) for k, v in ln.attributes.items()},
                unit_price=ln.unit_price,
                quantity=ln.quantity,
                line_total=ln.line_total,
            )
            for ln in o.lines
        ],
        subtotal=o.subtotal,
        shipping_fee=o.shipping_fee,
        discount=o.discount,
        total=o.total,
        currency=o.currency,
        note=o.note,
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
        number: OrderNumber,
        db: DB,
        email: Annotated[str | None, QueryParameter(max_length=254)] = None,
        phone: Annotated[str | None, QueryParameter(max_length=32)] = None,
    ) -> InquiryOut:
        """Order inquiry by number plus the e-mail or phone given at checkout."""
        async with db.read() as session:
            return inquiry_out(await service.inquire(session, number, email=email, phone=phone))

    @get("/me/orders")
    async def my_orders(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        page: Annotated[int, QueryParameter(ge=1, le=100_000)] = 1,
        per_page: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
    ) -> OrderPage:
        me = await http.require_customer(request, db)
        async with db.read() as session:
            orders, total = await service.customer_orders(
                session, me.id, page=page, per_page=per_page
            )
        return OrderPage([order_out(o) for o in orders], page, per_page, total)

    @get("/me/orders/{number:str}")
    async def my_order(
        self, request: Request[Any, Any, Any], number: OrderNumber, db: DB
    ) -> OrderOut:
        me = await http.require_customer(request, db)
        async with db.read() as session:
            return order_out(await service.customer_order(session, me.id, number))
