"""Checkout and what follows it: the checkout form, placing the order, the placed page, paying
by card, and the guest's order inquiry."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import QueryParameter

from shopd import http, security
from shopd.cart import quotes
from shopd.cart import service as carts
from shopd.config import Settings
from shopd.customers import service as customers
from shopd.customers.models import Customer
from shopd.db import Database
from shopd.errors import DomainError, NotFound
from shopd.http import DB, Conf
from shopd.orders import payments
from shopd.orders import service as orders
from shopd.orders.api import OrderNumber
from shopd.orders.lifecycle import get_order
from shopd.orders.models import Order
from shopd.web.pages.forms import (
    ADDRESS_FIELDS,
    field_errors,
    form_int,
    read_form,
)
from shopd.web.pages.order_view import order_extras
from shopd.web.render import page, redirect, visitor


def _check_order_token(settings: Settings, number: str, token: str) -> None:
    """A link to one order (the confirmation, a mail) works only with the order's token."""
    if not security.is_order_token(settings.effective_secret_key(), number, token):
        raise NotFound("no such order", code="order_not_found")


async def _linked_order(
    db: Database, settings: Settings, number: str, token: str
) -> tuple[Order, dict[str, Any]]:
    """The order a link names, with what its pages show beside it (``order_extras``)."""
    _check_order_token(settings, number, token)
    async with db.read() as session:
        order = await get_order(session, number)
        return order, await order_extras(session, settings, order)


class CheckoutPages(Controller):
    """From the cart to a placed, paid order."""

    include_in_schema = False

    async def _checkout_page(
        self,
        request: Request[Any, Any, Any],
        db: Database,
        settings: Settings,
        form: dict[str, str],
        errors: dict[str, DomainError | str],
        status: int = 200,
    ) -> Response[Any]:
        """The checkout form with the price as it stands: member prices, the group price when
        joining one, the coupon and points typed in (an unusable coupon is named and left out)."""
        owner, _ = await http.cart_owner_for(request, db, create=False)
        customer = await http.current_customer(request, db)
        async with db.read() as session:
            view = await carts.view(session, settings, owner)
            if not view.lines:
                return redirect("/cart")
            me = await session.get(Customer, customer.id) if customer else None
            codes = [form["coupon"]] if form.get("coupon", "").strip() else []
            group = form_int(form.get("group_buy"), 0) or None
            points = max(form_int(form.get("points"), 0), 0)
            quote = None
            for _ in range(3):
                try:
                    quote = await quotes.quote_for(
                        session,
                        settings,
                        owner,
                        me,
                        codes=codes,
                        points=points,
                        group_id=group,
                        payment_method=form.get("payment_method", "bank_transfer"),
                    )
                    break
                except DomainError as exc:
                    # Named beside its field; the price is shown without what was at fault.
                    if exc.code.startswith(("coupon", "too_many")):
                        errors.setdefault("coupon", exc)
                        codes = []
                    elif "points" in exc.code:
                        errors.setdefault("points", exc)
                        points = 0
                    elif exc.code.startswith("group_buy") and group is not None:
                        errors.setdefault("form", exc)
                        group = None
                    else:
                        errors.setdefault("form", exc)
                        break
        if group is None:
            form.pop("group_buy", None)
        if quote is not None:
            form["expected_total"] = str(quote.quote.total)
        return await page(
            request,
            db,
            settings,
            "checkout.html",
            status=status,
            cart=view,
            quote=quote,
            points_balance=me.points if me else None,
            form=form,
            errors=errors,
            methods=orders.PAYMENT_METHODS,
        )

    @get("/checkout")
    async def checkout_form(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        settings: Conf,
        group: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
    ) -> Response[Any]:
        customer = await http.current_customer(request, db)
        # A fresh key per checkout form: a double click or a resent form places one order.
        form: dict[str, str] = {
            "payment_method": "bank_transfer",
            "idempotency_key": security.new_token()[:40],
        }
        if group:
            form["group_buy"] = str(group)
        if customer:
            form["email"] = customer.email
            async with db.read() as session:
                saved = await customers.addresses(session, customer.id)
            default = next((a for a in saved if a.is_default), saved[0] if saved else None)
            if default:
                form |= {f: getattr(default, f) for f in ADDRESS_FIELDS}
        return await self._checkout_page(request, db, settings, form, {})

    @post("/checkout")
    async def checkout(
        self, request: Request[Any, Any, Any], db: DB, settings: Conf
    ) -> Response[Any]:
        form = await read_form(request)
        customer = await http.current_customer(request, db)
        owner = http.cart_owner(request, customer)
        if owner is None:
            return redirect("/cart")
        if form.get("apply"):
            # "Apply" recalculates with the coupon and points typed in; nothing is placed.
            form.pop("apply")
            return await self._checkout_page(request, db, settings, form, {})
        data = orders.CheckoutData(
            payment_method=form.get("payment_method", ""),
            email=form.get("email") or None,
            phone=form.get("phone") or None,
            address=customers.AddressData(
                **{f: form.get(f, "") for f in ADDRESS_FIELDS}, country="CN"
            ),
            note=form.get("note", ""),
            coupons=[form["coupon"]] if form.get("coupon", "").strip() else [],
            points=max(form_int(form.get("points"), 0), 0),
            group_buy=form_int(form.get("group_buy"), 0) or None,
            expected_total=form_int(form.get("expected_total"), -1)
            if form.get("expected_total")
            else None,
            language=(await visitor(request, db, settings)).lang,
        )
        try:
            # Checkout commits (and retries) itself: it answers Idempotency-Key replays.
            async with db.write() as session:
                me = await session.get(Customer, customer.id) if customer else None
                order, _ = await orders.checkout(
                    session,
                    settings,
                    owner,
                    data,
                    # The form's hidden key makes a double click place one order.
                    idempotency_key=form.get("idempotency_key") or None,
                    request_fingerprint=form.get("idempotency_key", ""),
                    customer=me,
                )
        except DomainError as exc:
            return await self._checkout_page(
                request, db, settings, form, field_errors(exc), status=400
            )
        token = security.order_token(settings.effective_secret_key(), order.number)
        return redirect(f"/order/{order.number}/placed?t={token}")

    @get("/order/{number:str}/placed")
    async def placed(
        self,
        request: Request[Any, Any, Any],
        number: OrderNumber,
        db: DB,
        settings: Conf,
        t: Annotated[str, QueryParameter(max_length=64)] = "",
    ) -> Response[Any]:
        order, extras = await _linked_order(db, settings, number, t)
        return await page(
            request, db, settings, "placed.html", order=order, request_token=t, **extras
        )

    @get("/orders/{number:str}")
    async def order_page(
        self,
        request: Request[Any, Any, Any],
        number: OrderNumber,
        db: DB,
        settings: Conf,
        t: Annotated[str, QueryParameter(max_length=64)] = "",
    ) -> Response[Any]:
        """An order's own page (status, lines, address, tracking), opened from its mails: the
        link carries the order's token, so whoever has the mail sees it without logging in."""
        order, extras = await _linked_order(db, settings, number, t)
        return await page(
            request, db, settings, "order.html", order=order, from_link=True, **extras
        )

    @post("/order/{number:str}/pay")
    async def pay(
        self,
        request: Request[Any, Any, Any],
        number: OrderNumber,
        db: DB,
        settings: Conf,
    ) -> Response[Any]:
        """The confirmation page's "pay now": off to the gateway's page."""
        form = await read_form(request)
        _check_order_token(settings, number, form.get("t", ""))
        payment = await payments.card_checkout(db, settings, lambda s: get_order(s, number))
        return redirect(payment.redirect_url or "/")

    @get("/inquiry")
    async def inquiry(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        settings: Conf,
        number: Annotated[str, QueryParameter(max_length=32)] = "",
        contact: Annotated[str, QueryParameter(max_length=254)] = "",
    ) -> Response[Any]:
        order, not_found = None, False
        if number and contact:
            by = {"email": contact} if "@" in contact else {"phone": contact}
            try:
                order = await orders.inquire_limited(
                    db, settings, number, ip=http.client_ip(request), **by
                )
            except DomainError:
                not_found = True
        return await page(
            request,
            db,
            settings,
            "inquiry.html",
            order=order,
            not_found=not_found,
            number=number,
            contact=contact,
        )
