"""The back office's order endpoints: list, detail, and every action of the order lifecycle."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from litestar import Controller, get, patch, post
from litestar.params import JSONBody, PathParameter, QueryParameter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shopd import http
from shopd.customers.api import address_data
from shopd.db import Database
from shopd.http import DB, Conf, PageOf, write_then_read
from shopd.orders import actions, group_buy_settlement, lifecycle, payments, returns
from shopd.orders import dashboard as dashboards
from shopd.orders.api import line_fields, promotion_fields, ship_to_out
from shopd.orders.models import Order, OrderEvent, OrderNote
from shopd.orders.schemas import (
    ConfirmPaymentIn,
    ContactIn,
    DashboardOut,
    ExpiredOut,
    NoteIn,
    OrderEventOut,
    OrderNoteOut,
    OwedRefundOut,
    PaymentOut,
    ReasonIn,
    ReceiveReturnIn,
    RefundIn,
    RefundOut,
    RefusedActionOut,
    ReturnIn,
    ReturnLineOut,
    ReturnOut,
    SettledOut,
    ShipIn,
    StaffLineOut,
    StaffOrderOut,
    StaffOrderPage,
    StaffOrderSummary,
)
from shopd.staff.api import ACTOR, GUARDS, StaffActor
from shopd.staff.audit import Actor
from shopd.unit_of_work import committing

OrderNumber = Annotated[str, PathParameter(max_length=32)]


def role_opt(action: str) -> dict[str, str]:
    """The route's ``opt`` for the staff guard: the lowest role the order action needs."""
    return {"role": actions.role_of(action)}


def action_fields(o: Order, role: str) -> dict[str, Any]:
    """The order's ``allowed_actions`` and ``refused_actions`` for a staff member of ``role``."""
    refused = actions.refusals(o, role)
    return {
        "allowed_actions": [name for name, error in refused.items() if error is None],
        "refused_actions": [
            RefusedActionOut(name, error.code, error.message)
            for name, error in refused.items()
            if error is not None
        ],
    }


async def order_detail(session: AsyncSession, number: str, role: str) -> StaffOrderOut:
    """The order in full, with the actions it allows a staff member of ``role``."""
    o = await lifecycle.get_order(session, number)
    notes = (
        await session.execute(
            select(OrderNote).where(OrderNote.order_id == o.id).order_by(OrderNote.id)
        )
    ).scalars()
    events = (
        await session.execute(
            select(OrderEvent).where(OrderEvent.order_id == o.id).order_by(OrderEvent.id)
        )
    ).scalars()
    sku_of = {ln.id: ln.sku_code for ln in o.lines}
    return StaffOrderOut(
        number=o.number,
        status=o.status,
        placed_at=o.created_at,
        payment_method=o.payment_method,
        paid_at=o.paid_at,
        ready_at=o.ready_at,
        printed_at=o.printed_at,
        shipped_at=o.shipped_at,
        delivered_at=o.delivered_at,
        cancelled_at=o.cancelled_at,
        carrier=o.carrier,
        tracking_number=o.tracking_number,
        dispatch_flag=lifecycle.dispatch_flag(o),
        **action_fields(o, role),
        customer_id=o.customer_id,
        email=o.email,
        phone=o.phone,
        ship_to=ship_to_out(o),
        items=[
            StaffLineOut(**line_fields(ln), returned_quantity=ln.returned_quantity)
            for ln in o.lines
        ],
        subtotal=o.subtotal,
        shipping_fee=o.shipping_fee,
        discount=o.discount,
        total=o.total,
        refunded_total=o.refunded_total,
        currency=o.currency,
        note=o.note,
        **promotion_fields(o),
        notes=[OrderNoteOut(n.created_at, n.author, n.body) for n in notes],
        events=[
            OrderEventOut(e.created_at, e.from_status, e.status, e.actor, e.note) for e in events
        ],
        payments=[
            PaymentOut(
                p.reference,
                p.method,
                p.status,
                p.amount,
                p.currency,
                p.external_reference,
                p.created_at,
                p.settled_at,
            )
            for p in await payments.payments_of(session, o.id)
        ],
        returns=[
            ReturnOut(
                r.id,
                r.status,
                r.reason,
                r.created_by,
                r.created_at,
                r.received_at,
                [
                    ReturnLineOut(sku_of[rl.order_line_id], rl.quantity, rl.disposition)
                    for rl in r.lines
                ],
            )
            for r in await returns.returns_of(session, o.id)
        ],
        refunds=[
            RefundOut(
                r.id, r.amount, r.currency, r.method, r.reason, r.status, r.created_by, r.created_at
            )
            for r in await returns.refunds_of(session, o.id)
        ],
    )


def summary(o: Order, role: str) -> StaffOrderSummary:
    return StaffOrderSummary(
        number=o.number,
        status=o.status,
        placed_at=o.created_at,
        payment_method=o.payment_method,
        paid=o.paid_at is not None,
        ready_at=o.ready_at,
        dispatch_flag=lifecycle.dispatch_flag(o),
        email=o.email,
        phone=o.phone,
        recipient=o.ship_name,
        city=o.ship_city,
        item_count=sum(ln.quantity for ln in o.lines),
        total=o.total,
        refunded_total=o.refunded_total,
        currency=o.currency,
        **action_fields(o, role),
    )


async def act(
    db: Database,
    actor: Actor,
    number: str,
    change: Callable[[AsyncSession], Awaitable[object]],
) -> StaffOrderOut:
    """Run one change, then answer with the order as it now is."""
    return await write_then_read(db, change, lambda s: order_detail(s, number, actor.role))


class StaffOrderController(Controller):
    path = "/api/v1/staff/orders"
    tags = ["staff orders"]
    dependencies = ACTOR
    guards = GUARDS

    @get(
        "/",
        opt={"role": "clerk"},
        dependencies={"paging": http.paging(per_page=50, most=200, after="actor")},
    )
    async def list_orders(
        self,
        actor: StaffActor,
        db: DB,
        *,
        status: Annotated[str | None, QueryParameter(max_length=24)] = None,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
        dispatch: Annotated[str | None, QueryParameter(max_length=16)] = None,
        paging: PageOf,
    ) -> StaffOrderPage:
        """Orders newest first; ``status=``, ``q=`` (number, e-mail, name, phone digits) and
        ``dispatch=waiting|late|overdue`` (oldest first) filter them."""
        actor.require("clerk")
        async with db.read() as session:
            rows, total = await lifecycle.staff_list(
                session,
                status=status,
                q=q,
                dispatch=dispatch,
                page=paging.page,
                per_page=paging.per_page,
            )
        return StaffOrderPage(
            [summary(o, actor.role) for o in rows], paging.page, paging.per_page, total
        )

    @get("/dashboard", opt={"role": "clerk"})
    async def dashboard(self, actor: StaffActor, db: DB, settings: Conf) -> DashboardOut:
        """Today's orders and sales, orders to ship, late (>24 h) and overdue (>48 h), low-stock
        SKUs, and the month's sales against the target (shop time zone)."""
        actor.require("clerk")
        async with db.read() as session:
            d = await dashboards.dashboard(session, settings)
        return DashboardOut(
            d.today_orders,
            d.today_sales,
            d.to_ship,
            d.late,
            d.overdue,
            d.low_stock,
            d.month_sales,
            d.month_target,
            d.month_progress,
            d.currency,
        )

    @get("/refunds", opt={"role": "clerk"})
    async def refunds(
        self,
        actor: StaffActor,
        db: DB,
        status: Annotated[str, QueryParameter(max_length=16)] = "pending",
    ) -> list[OwedRefundOut]:
        """Refunds across orders in one ``status`` (``pending``: owed, not yet paid out;
        ``completed``), oldest first: the list a manager settles from."""
        actor.require("clerk")
        async with db.read() as session:
            rows = await returns.refunds_by_status(session, status)
        return [
            OwedRefundOut(
                r.id,
                number,
                r.amount,
                r.currency,
                r.method,
                r.reason,
                r.status,
                r.created_by,
                r.created_at,
            )
            for r, number in rows
        ]

    @post("/expire-unpaid", status_code=200, opt={"role": "manager"})
    async def expire_unpaid(self, actor: StaffActor, db: DB, settings: Conf) -> ExpiredOut:
        """Run the unpaid-order expiry now (it also runs on its own in the background)."""
        actor.require("manager")
        async with committing(db) as session:
            done = await lifecycle.expire_unpaid(session, settings)
        return ExpiredOut(done)

    @get("/{number:str}", opt={"role": "clerk"})
    async def detail(self, actor: StaffActor, number: OrderNumber, db: DB) -> StaffOrderOut:
        actor.require("clerk")
        async with db.read() as session:
            return await order_detail(session, number, actor.role)

    @post("/{number:str}/payments", status_code=200, opt=role_opt("confirm_payment"))
    async def confirm_payment(
        self,
        actor: StaffActor,
        number: OrderNumber,
        data: JSONBody[ConfirmPaymentIn],
        db: DB,
        settings: Conf,
    ) -> StaffOrderOut:
        """A bank transfer arrived: the amount must be the order total."""
        return await act(
            db,
            actor,
            number,
            lambda s: payments.confirm_bank_transfer(
                s, settings, actor, number, amount=data.amount, reference=data.reference
            ),
        )

    @post("/{number:str}/picking", status_code=200, opt=role_opt("start_picking"))
    async def start_picking(self, actor: StaffActor, number: OrderNumber, db: DB) -> StaffOrderOut:
        return await act(db, actor, number, lambda s: lifecycle.start_picking(s, actor, number))

    @post("/{number:str}/print", status_code=200, opt=role_opt("print"))
    async def printed(self, actor: StaffActor, number: OrderNumber, db: DB) -> StaffOrderOut:
        """The packing slip is printed; the address is frozen from now on."""
        return await act(db, actor, number, lambda s: lifecycle.mark_printed(s, actor, number))

    @post("/{number:str}/ship", status_code=200, opt=role_opt("ship"))
    async def ship(
        self,
        actor: StaffActor,
        number: OrderNumber,
        data: JSONBody[ShipIn],
        db: DB,
        settings: Conf,
    ) -> StaffOrderOut:
        return await act(
            db,
            actor,
            number,
            lambda s: lifecycle.ship(
                s,
                settings,
                actor,
                number,
                carrier=data.carrier,
                tracking_number=data.tracking_number,
                shipped_at=data.shipped_at,
            ),
        )

    @post("/{number:str}/deliver", status_code=200, opt=role_opt("deliver"))
    async def deliver(
        self, actor: StaffActor, number: OrderNumber, db: DB, settings: Conf
    ) -> StaffOrderOut:
        return await act(db, actor, number, lambda s: lifecycle.deliver(s, settings, actor, number))

    @post("/{number:str}/complete", status_code=200, opt=role_opt("complete"))
    async def complete(self, actor: StaffActor, number: OrderNumber, db: DB) -> StaffOrderOut:
        return await act(db, actor, number, lambda s: lifecycle.complete(s, actor, number))

    @post("/{number:str}/cancel", status_code=200, opt=role_opt("cancel"))
    async def cancel(
        self,
        actor: StaffActor,
        number: OrderNumber,
        data: JSONBody[ReasonIn],
        db: DB,
        settings: Conf,
    ) -> StaffOrderOut:
        """Cancel before shipping; stock goes back. A paid order needs a manager and gets a
        pending refund."""
        return await act(
            db,
            actor,
            number,
            lambda s: lifecycle.cancel(s, settings, actor, number, reason=data.reason),
        )

    @post("/{number:str}/notes", status_code=201, opt=role_opt("note"))
    async def add_note(
        self, actor: StaffActor, number: OrderNumber, data: JSONBody[NoteIn], db: DB
    ) -> StaffOrderOut:
        return await act(
            db, actor, number, lambda s: lifecycle.add_note(s, actor, number, data.body)
        )

    @patch("/{number:str}/contact", opt=role_opt("edit_contact"))
    async def change_contact(
        self, actor: StaffActor, number: OrderNumber, data: JSONBody[ContactIn], db: DB
    ) -> StaffOrderOut:
        """Change the e-mail, phone or address until the packing slip is printed."""
        change = lifecycle.ContactChange(
            email=data.email,
            phone=data.phone,
            address=address_data(data.address) if data.address else None,
        )
        return await act(
            db, actor, number, lambda s: lifecycle.change_contact(s, actor, number, change)
        )

    @post("/{number:str}/returns", status_code=201, opt=role_opt("request_return"))
    async def request_return(
        self, actor: StaffActor, number: OrderNumber, data: JSONBody[ReturnIn], db: DB
    ) -> StaffOrderOut:
        """Record a return: some units of some lines, or (no items) everything left."""
        items = [returns.ReturnItem(i.sku, i.quantity) for i in data.items]
        return await act(
            db,
            actor,
            number,
            lambda s: returns.request_return(s, actor, number, items, reason=data.reason),
        )

    @post(
        "/{number:str}/returns/receive",
        status_code=200,
        opt=role_opt("receive_return"),
    )
    async def receive_return(
        self, actor: StaffActor, number: OrderNumber, data: JSONBody[ReceiveReturnIn], db: DB
    ) -> StaffOrderOut:
        """The parcel came back: each line is restocked or written off."""
        return await act(
            db,
            actor,
            number,
            lambda s: returns.receive_return(
                s, actor, number, dict(data.dispositions), default=data.default
            ),
        )

    @post(
        "/{number:str}/returns/reject",
        status_code=200,
        opt=role_opt("reject_return"),
    )
    async def reject_return(
        self, actor: StaffActor, number: OrderNumber, data: JSONBody[ReasonIn], db: DB
    ) -> StaffOrderOut:
        return await act(
            db, actor, number, lambda s: returns.reject_return(s, actor, number, reason=data.reason)
        )

    @post("/{number:str}/refunds", status_code=201, opt=role_opt("refund"))
    async def refund(
        self,
        actor: StaffActor,
        number: OrderNumber,
        data: JSONBody[RefundIn],
        db: DB,
        settings: Conf,
    ) -> StaffOrderOut:
        """Refund a received return (managers): the returned units' value unless an amount
        is given; never more than is still refundable."""
        return await act(
            db,
            actor,
            number,
            lambda s: returns.refund(
                s, settings, actor, number, amount=data.amount, reason=data.reason
            ),
        )

    @post(
        "/{number:str}/refunds/{refund_id:int}/settle",
        status_code=200,
        opt=role_opt("settle_refund"),
    )
    async def settle_refund(
        self,
        actor: StaffActor,
        number: OrderNumber,
        refund_id: Annotated[int, PathParameter(ge=1, le=2**31 - 1)],
        db: DB,
        settings: Conf,
    ) -> StaffOrderOut:
        """Pay out a pending refund (of a cancelled paid order, a late card payment): a card's
        goes back through the payment gateway first; a transfer's or cash is recorded as
        paid out by hand."""
        paid_out = await payments.pay_back_by_card(db, settings, actor, number, refund_id)
        return await act(
            db,
            actor,
            number,
            lambda s: returns.settle_refund(
                s, settings, actor, number, refund_id, gateway_refund=paid_out
            ),
        )


class StaffGroupBuySettlementController(Controller):
    """Settling group buys, under the group-buy paths: it cancels or releases orders, so it
    lives with the orders (promotions decides the groups, shopd.orders.group_buy_settlement)."""

    path = "/api/v1/staff/group-buys"
    tags = ["staff promotions"]
    dependencies = ACTOR
    guards = GUARDS

    @post("/settle", status_code=200, opt={"role": "manager"})
    async def settle(self, actor: StaffActor, db: DB, settings: Conf) -> list[SettledOut]:
        """Settle every group that is due now (the background job does this on its own)."""
        actor.require("manager")
        async with committing(db) as session:
            done = await group_buy_settlement.settle(session, settings)
        return [SettledOut(g, outcome) for g, outcome in done]
