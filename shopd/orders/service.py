"""Checkout, order inquiry and order history.

Checkout is one transaction: lock the cart, take the stock with conditional updates, write the
order, its lines, the ledger rows, and empty the cart. Any failure rolls all of it back, so no
order is ever half-written and no stock is lost.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from shopd import security, translations, unit_of_work
from shopd.cart import quotes
from shopd.cart import service as carts
from shopd.catalog.models import Product
from shopd.config import Settings
from shopd.customers import membership
from shopd.customers import service as customers
from shopd.customers.models import Customer
from shopd.db import Database, utcnow
from shopd.errors import Conflict, InvalidInput, NotFound
from shopd.inventory import service as inventory
from shopd.notifications import service as notify
from shopd.orders.models import Order, OrderEvent, OrderLine
from shopd.promotions import coupons, flash, group_buys
from shopd.staff import shop_settings, throttle
from shopd.validation import clean_text, identity_key, normalise_email, normalise_phone

# The API's names for the payment methods (English; each page and mail names them in its
# reader's language through shopd.translations).
PAYMENT_METHODS: dict[str, str] = translations.PAYMENT_METHOD_NAMES


MAX_IDEMPOTENCY_KEY = 255


@dataclass(slots=True)
class CheckoutData:
    payment_method: str
    email: str | None = None
    phone: str | None = None
    address: customers.AddressData | None = None
    address_id: int | None = None
    note: str = ""
    coupons: list[str] = field(default_factory=list)
    points: int = 0
    group_buy: int | None = None
    # The total the buyer was shown: if prices moved since, checkout refuses instead of
    # charging something else.
    expected_total: int | None = None
    # The language the buyer reads (en, zh, es): the order's mails are written in it. Empty:
    # the shop's language.
    language: str = ""


# Every checkout counts its products' sales: table-level and built once.
_PRODUCTS = Product.__table__
_SOLD = (
    update(_PRODUCTS)
    .where(_PRODUCTS.c.id == bindparam("product"))
    .values(sold_count=_PRODUCTS.c.sold_count + bindparam("quantity"))
)


def fingerprint(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def check_idempotency_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not (1 <= len(key) <= MAX_IDEMPOTENCY_KEY) or not key.isascii() or not key.isprintable():
        raise InvalidInput(
            f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} printable ASCII characters",
            code="invalid_idempotency_key",
        )
    return key


async def _replay(
    session: AsyncSession, scope: str, key: str, request_fingerprint: str
) -> Order | None:
    order = await session.scalar(
        select(Order)
        .where(Order.idempotency_scope == scope, Order.idempotency_key == key)
        .options(selectinload(Order.lines))
    )
    if order is not None and order.request_fingerprint != request_fingerprint:
        raise Conflict(
            "this Idempotency-Key was used for a different checkout request",
            code="idempotency_key_reused",
        )
    return order


async def checkout(
    session: AsyncSession,
    settings: Settings,
    owner: carts.CartOwner,
    data: CheckoutData,
    *,
    idempotency_key: str | None = None,
    request_fingerprint: str = "",
    customer: Customer | None = None,
) -> tuple[Order, bool]:
    """Turn the owner's cart into an order. Returns the order and whether it was a replay of an
    earlier request with the same Idempotency-Key. Commits on success: a unit of work on the
    caller's writer session (``db.write()``) that rolls back and answers replays itself, run
    again by ``unit_of_work.retrying`` when it loses a lock conflict.
    """
    key = check_idempotency_key(idempotency_key)

    async def attempt() -> tuple[Order, bool]:
        try:
            return await _checkout_once(
                session, settings, owner, data, key, request_fingerprint, customer
            )
        except IntegrityError:
            # A concurrent request with the same key committed first: answer with its order.
            await session.rollback()
            if key is None:
                raise
            order = await _replay(session, owner.scope, key, request_fingerprint)
            if order is None:
                raise
            return order, True
        except (InvalidInput, NotFound, Conflict):
            # A retry of a checkout that went through finds the cart empty (or changed):
            # it is answered with the order it made, as before the refusal.
            await session.rollback()
            if key is not None:
                order = await _replay(session, owner.scope, key, request_fingerprint)
                if order is not None:
                    return order, True
            raise
        except BaseException:
            # A lost lock conflict too: rolled back here, run again by ``retrying``.
            await session.rollback()
            raise

    return await unit_of_work.retrying(attempt)


async def _checkout_once(
    session: AsyncSession,
    settings: Settings,
    owner: carts.CartOwner,
    data: CheckoutData,
    key: str | None,
    request_fingerprint: str,
    customer: Customer | None,
) -> tuple[Order, bool]:
    # Locking the cart first serialises double-submits of the same cart on MariaDB; on SQLite
    # the write transaction holds the database lock already. An earlier order with this
    # Idempotency-Key is not looked for here: its retry finds the cart emptied and is refused
    # (then ``checkout`` answers with that order), or its order row collides on the key.
    cart = await carts.find_cart(session, owner, lock=True)

    if data.payment_method not in PAYMENT_METHODS:
        raise InvalidInput(
            f"unknown payment method {data.payment_method!r}",
            code="invalid_payment_method",
            details={"allowed": sorted(PAYMENT_METHODS)},
        )
    email = data.email or (customer.email if customer else None)
    if not email:
        raise InvalidInput(
            "an e-mail address is required", code="missing_field", details={"field": "email"}
        )
    email = normalise_email(email)
    if data.address_id is not None:
        if customer is None:
            raise InvalidInput("log in to use a saved address", code="invalid_address")
        saved = await customers.get_address(session, customer.id, data.address_id)
        address = customers.AddressData(
            recipient=saved.recipient,
            phone=saved.phone,
            region=saved.region,
            city=saved.city,
            line1=saved.line1,
            line2=saved.line2,
            postcode=saved.postcode,
            country=saved.country,
        )
    elif data.address is not None:
        address = data.address.cleaned()
    else:
        raise InvalidInput(
            "a shipping address is required", code="missing_field", details={"field": "address"}
        )
    phone = normalise_phone(data.phone) if data.phone else address.phone
    note = clean_text(data.note, "note", max_length=1000, required=False)

    now = utcnow()
    buyer = flash.buyer_key(customer.id if customer else None, email)
    # Prices as of this second: a flash sale applies exactly within its window.
    priced = await quotes.price_cart(
        session,
        settings,
        cart,
        customer,
        buyer=buyer,
        codes=data.coupons,
        points=data.points,
        group_id=data.group_buy,
        payment_method=data.payment_method,
        now=now,
    )
    lines, group = priced.lines, priced.group
    quote = priced.quote
    if data.expected_total is not None and data.expected_total != quote.total:
        raise Conflict(
            "the price changed since it was shown; look at the cart again",
            code="price_changed",
            details={"expected": data.expected_total, "total": quote.total},
        )
    # A sale already read as sold out is refused before anything is written.
    for line in lines:
        if line.sale is not None and line.priced_by == "flash_sale":
            flash.refuse_early(line.sale, line.quantity)
    if group is not None:
        await group_buys.take_place(session, group, buyer, lines[0].quantity, now)
    order = Order(
        number=security.new_order_number(now),
        customer_id=customer.id if customer else None,
        email=email,
        phone=phone,
        status="pending_payment",
        payment_method=data.payment_method,
        language=translations.language_or(data.language, settings.language),
        currency=settings.currency,
        subtotal=quote.subtotal,
        shipping_fee=quote.shipping_fee,
        discount=quote.discount,
        total=quote.total,
        promotions=priced.receipt(),
        points_spent=quote.points_used,
        group_buy_id=group.id if group else None,
        ship_name=address.recipient,
        ship_phone=address.phone,
        ship_country=address.country,
        ship_region=address.region,
        ship_city=address.city,
        ship_line1=address.line1,
        ship_line2=address.line2,
        ship_postcode=address.postcode,
        note=note,
        idempotency_scope=owner.scope if key else None,
        idempotency_key=key,
        request_fingerprint=request_fingerprint if key else None,
        created_at=now,
    )
    # The order row goes in before any stock or sale is taken: its unique idempotency key makes
    # a concurrent duplicate wait here (MariaDB) and then fail, instead of taking stock twice.
    session.add(order)
    await session.flush()

    actor = f"customer:{customer.id}" if customer else "guest"
    # Under a rush many checkouts want the same few rows (a flash sale's, a popular SKU's
    # stock, its product's sales count), and each holds them from its first write to them
    # until it commits. So everything that is this order's own goes in first, and those
    # shared rows are written last, in one run just before the commit.
    order_lines: list[OrderLine] = []
    for line, quoted in zip(lines, quote.lines, strict=True):
        order_lines.append(
            OrderLine(
                order_id=order.id,
                sku_id=line.sku.id,
                sku_code=line.sku.code,
                product_name=line.product.name,
                attributes=line.sku.attributes,
                unit_price=line.unit_price,
                regular_price=line.regular_price,
                quantity=line.quantity,
                discount=quoted.discount,
                line_total=quoted.total,
            )
        )
    session.add_all(order_lines)
    session.add(
        OrderEvent(order_id=order.id, status=order.status, actor=actor, note="order placed")
    )
    if order.payment_method == "cod":
        # No payment to wait for: the dispatch promise starts now.
        order.ready_at = now
    bank = ""
    if order.payment_method == "bank_transfer":
        bank = shop_settings.bank_details_in(
            await shop_settings.get(session, "bank_details"), order.language, settings.language
        )
    notify.enqueue(session, settings, order, "order_placed", bank_details=bank)
    await carts.clear(session, cart)
    await session.flush()

    # The shared rows, in a fixed order (the group's place before the order row, then sales by
    # SKU, coupons by id, points, stock by SKU, sales counts by product), so that concurrent
    # checkouts never deadlock on each other's.
    for line in sorted(lines, key=lambda ln: ln.sku.id):
        if line.sale is not None and line.priced_by == "flash_sale":
            await flash.claim(session, line.sale, buyer, line.quantity, now)
    if group is not None:
        group_buys.add_member(session, group, buyer, order.id)
    amounts = {a.code: a.amount for a in quote.applied if a.kind != "points"}
    for coupon in sorted(priced.coupons, key=lambda c: c.id):
        await coupons.claim(session, coupon, buyer, order.id, amounts.get(coupon.code, 0), now)
    if quote.points_used and customer is not None:
        await membership.spend_points(session, customer.id, quote.points_used, order.number)
    for line in sorted(lines, key=lambda ln: ln.sku.id):
        await inventory.move_stock(
            session,
            line.sku.id,
            -line.quantity,
            reason="sale",
            actor=actor,
            reference=order.number,
            sku_code=line.sku.code,
        )
    sold: dict[int, int] = {}
    for line in lines:
        sold[line.product.id] = sold.get(line.product.id, 0) + line.quantity
    for product_id, quantity in sorted(sold.items()):
        await session.execute(_SOLD, {"product": product_id, "quantity": quantity})
    await session.commit()
    # The order answers as written: its lines are the ones just inserted (in id order, as the
    # relationship loads them), with no second read after the commit.
    set_committed_value(order, "lines", order_lines)
    return order, False


async def inquire(
    session: AsyncSession, number: str, *, email: str | None = None, phone: str | None = None
) -> Order:
    """A guest's order look-up. A wrong number and a wrong e-mail/phone give the same answer,
    so the endpoint cannot be used to confirm that an order number exists."""
    if not email and not phone:
        raise InvalidInput(
            "give the e-mail or the phone number used at checkout",
            code="missing_field",
            details={"field": "email"},
        )
    not_found = NotFound("no order matches this number and contact", code="order_not_found")
    if len(number) > 24:
        raise not_found
    order = await session.scalar(
        select(Order)
        .where(Order.number == number.strip().upper())
        .options(selectinload(Order.lines))
    )
    if order is None:
        raise not_found
    if email and security.constant_time_equal(order.email, identity_key(email)):
        return order
    if (
        phone
        and _digits(order.phone)
        and security.constant_time_equal(_digits(order.phone), _digits(phone))
    ):
        return order
    raise not_found


async def inquire_limited(
    db: Database,
    settings: Settings,
    number: str,
    *,
    ip: str,
    email: str | None = None,
    phone: str | None = None,
) -> Order:
    """``inquire`` under the log-in limits, per order number and per client address: a number
    with a wrong contact counts as a failed log-in, so a list of phone numbers or e-mail
    addresses cannot be tried against one order (or numbers against one address)."""
    return await throttle.guarded(
        db,
        settings,
        scope="inquiry",
        name=number.strip().upper()[:24],
        ip=ip,
        attempt=lambda session: inquire(session, number, email=email, phone=phone),
        failure=NotFound,
    )


def _digits(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit())


async def customer_orders(
    session: AsyncSession, customer_id: int, *, page: int, per_page: int
) -> tuple[list[Order], int]:
    total = await session.scalar(
        select(func.count()).select_from(Order).where(Order.customer_id == customer_id)
    )
    rows = await session.execute(
        select(Order)
        .where(Order.customer_id == customer_id)
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
        .options(selectinload(Order.lines))
    )
    return list(rows.scalars()), total or 0


async def customer_order(session: AsyncSession, customer_id: int, number: str) -> Order:
    order = await session.scalar(
        select(Order)
        .where(Order.number == number, Order.customer_id == customer_id)
        .options(selectinload(Order.lines))
    )
    if order is None:
        raise NotFound("no such order", code="order_not_found")
    return order
