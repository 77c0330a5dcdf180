"""Carts: add, change, remove, merge at log-in; totals always from current prices and stock."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Select, and_, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shopd.cart.models import Cart, CartItem
from shopd.catalog.models import Product, Sku
from shopd.config import Settings
from shopd.customers import membership
from shopd.db import UTCDateTime, utcnow
from shopd.errors import Conflict, InvalidInput, NotFound, OutOfStock
from shopd.inventory import service as inventory
from shopd.inventory.models import StockLevel
from shopd.promotions import flash, group_buys
from shopd.promotions.models import FlashSale, GroupBuy


@dataclass(frozen=True, slots=True)
class CartOwner:
    """Who a cart belongs to: a logged-in customer, or a guest known by a cookie token hash."""

    customer_id: int | None = None
    token_hash: str | None = None

    def __post_init__(self) -> None:
        if (self.customer_id is None) == (self.token_hash is None):
            raise ValueError("a cart owner is either a customer or a guest token")

    @property
    def scope(self) -> str:
        return (
            f"customer:{self.customer_id}"
            if self.customer_id is not None
            else f"cart:{self.token_hash}"
        )


@dataclass(slots=True)
class Line:
    sku: Sku
    product: Product
    quantity: int
    unit_price: int
    available: int
    # The price without promotions; ``unit_price`` is what is charged now.
    regular_price: int
    sale: FlashSale | None = None
    # The flash sale of this SKU on when the line was read (it sets the price unless a group
    # buy does, or the member price is lower).
    offer: FlashSale | None = None
    # What set unit_price: none | flash_sale | group_buy | member
    priced_by: str = "none"
    # A floor-exempt campaign set unit_price.
    exempt: bool = False

    @property
    def line_total(self) -> int:
        return self.unit_price * self.quantity

    @property
    def purchasable(self) -> bool:
        return self.product.listed and self.sku.active


@dataclass(slots=True)
class CartView:
    currency: str
    lines: list[Line] = field(default_factory=list)
    shipping_threshold: int = 0
    flat_shipping_fee: int = 0

    @property
    def subtotal(self) -> int:
        return sum(line.line_total for line in self.lines)

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def shipping_fee(self) -> int:
        return shipping_fee(self.subtotal, self.flat_shipping_fee, self.shipping_threshold)

    @property
    def total(self) -> int:
        return self.subtotal + self.shipping_fee


def shipping_fee(subtotal: int, flat_fee: int, free_over: int) -> int:
    if subtotal == 0 or subtotal >= free_over:
        return 0
    return flat_fee


# The cart queries every cart response and checkout makes, built once: building a statement and
# its cache key costs more than running it (``docs/performance.md``, seventh round).
_OWNER = bindparam("owner")


def _owned_by(by_customer: bool) -> ColumnElement[bool]:
    return (Cart.customer_id if by_customer else Cart.token_hash) == _OWNER


def _cart_query(by_customer: bool, lock: bool) -> Select[tuple[Cart]]:
    stmt = select(Cart).where(_owned_by(by_customer))
    return stmt.with_for_update() if lock else stmt


_FIND_CART = {(c, lock): _cart_query(c, lock) for c in (True, False) for lock in (True, False)}
_NOW = bindparam("now", type_=UTCDateTime)
_SALE_ON_NOW = and_(
    FlashSale.sku_id == Sku.id, FlashSale.starts_at <= _NOW, FlashSale.ends_at > _NOW
)
_LINES = (
    select(CartItem, Sku, Product, StockLevel.on_hand, StockLevel.reserved, FlashSale)
    .join(Sku, Sku.id == CartItem.sku_id)
    .join(Product, Product.id == Sku.product_id)
    .outerjoin(StockLevel, StockLevel.sku_id == Sku.id)
    .outerjoin(FlashSale, _SALE_ON_NOW)
    .where(CartItem.cart_id == bindparam("cart_id"))
    .order_by(CartItem.id)
)
_SKU_BY_CODE = (
    select(Sku, Product, StockLevel.on_hand, StockLevel.reserved, FlashSale)
    .join(Product, Product.id == Sku.product_id)
    .outerjoin(StockLevel, StockLevel.sku_id == Sku.id)
    .outerjoin(FlashSale, _SALE_ON_NOW)
    .where(Sku.code == bindparam("code"))
)


# A cart add and a checkout write these: table-level and built once.
_ITEMS = CartItem.__table__
_ADD_ITEM = insert(_ITEMS).values(
    cart_id=bindparam("cart"), sku_id=bindparam("sku"), quantity=bindparam("quantity")
)
_SET_QUANTITY = (
    update(_ITEMS)
    .where(_ITEMS.c.cart_id == bindparam("cart"), _ITEMS.c.sku_id == bindparam("sku"))
    .values(quantity=bindparam("quantity"))
)
_CLEAR = delete(_ITEMS).where(_ITEMS.c.cart_id == bindparam("cart"))


def _owner_value(owner: CartOwner) -> tuple[bool, int | str | None]:
    """Whether the cart is found by its customer (else by its guest token), and by what."""
    if owner.customer_id is not None:
        return True, owner.customer_id
    return False, owner.token_hash


async def find_cart(session: AsyncSession, owner: CartOwner, *, lock: bool = False) -> Cart | None:
    by_customer, value = _owner_value(owner)
    return await session.scalar(_FIND_CART[by_customer, lock], {"owner": value})


def _count_query(by_customer: bool) -> Select[tuple[int]]:
    return (
        select(func.coalesce(func.sum(CartItem.quantity), 0))
        .join(Cart, Cart.id == CartItem.cart_id)
        .where(_owned_by(by_customer))
    )


_ITEM_COUNT = {c: _count_query(c) for c in (True, False)}
_CART_ID = {c: select(Cart.id).where(_owned_by(c)) for c in (True, False)}


async def _has_cart(session: AsyncSession, owner: CartOwner) -> bool:
    by_customer, value = _owner_value(owner)
    return await session.scalar(_CART_ID[by_customer], {"owner": value}) is not None


async def item_count(session: AsyncSession, owner: CartOwner) -> int:
    """Units in the owner's cart, for the header of every page: one query, no prices or stock."""
    by_customer, value = _owner_value(owner)
    return int(await session.scalar(_ITEM_COUNT[by_customer], {"owner": value}) or 0)


async def _get_or_create(
    session: AsyncSession, owner: CartOwner, *, new_owner: bool = False
) -> tuple[Cart, bool]:
    """The owner's cart, locked, and whether it was made just now (so it is empty)."""
    if new_owner:
        # A token minted for this request: nobody else can hold a cart for it.
        cart = Cart(customer_id=owner.customer_id, token_hash=owner.token_hash)
        session.add(cart)
        await session.flush()
        return cart, True
    # A locking read of a cart that does not exist takes an InnoDB gap lock, and two owners'
    # inserts into the same gap deadlock. A guest's older token has a cart (tokens are made
    # by a first add), so lock it at once; a customer's first cart is looked for without a
    # lock and inserted when absent (the unique owner column settles a race of one owner's
    # own requests).
    if owner.token_hash is not None:
        cart = await find_cart(session, owner, lock=True)
        if cart is not None:
            return cart, False
    elif await _has_cart(session, owner):
        return await _locked(session, owner), False
    cart = Cart(customer_id=owner.customer_id, token_hash=owner.token_hash)
    try:
        async with session.begin_nested():
            session.add(cart)
        return cart, True
    except IntegrityError:
        pass  # the same owner's other request created it a moment ago
    return await _locked(session, owner), False


async def _locked(session: AsyncSession, owner: CartOwner) -> Cart:
    cart = await find_cart(session, owner, lock=True)
    if cart is None:  # removed (merged into a customer's cart) between the two reads
        raise Conflict("the cart changed meanwhile; try again", code="cart_changed")
    return cart


async def lines_of(
    session: AsyncSession, cart: Cart | None, now: dt.datetime | None = None
) -> list[Line]:
    """The cart's lines at regular prices, each with its stock and the flash sale on ``now``
    (by default this moment): every cart response and every checkout prices its lines, in one
    round trip."""
    if cart is None:
        return []
    params = {"cart_id": cart.id, "now": now or utcnow()}
    rows = (await session.execute(_LINES, params)).all()
    return [
        _line(sku, product, item.quantity, _available(sku, on_hand, reserved), sale)
        for item, sku, product, on_hand, reserved, sale in rows
    ]


def _line(
    sku: Sku, product: Product, quantity: int, available: int, sale: FlashSale | None
) -> Line:
    price = sku.effective_price(product)
    return Line(sku, product, quantity, price, available, regular_price=price, offer=sale)


async def priced_lines(
    session: AsyncSession,
    settings: Settings,
    cart: Cart | None,
    now: dt.datetime,
    *,
    customer_id: int | None = None,
    group: GroupBuy | None = None,
    lines: list[Line] | None = None,
) -> list[Line]:
    """The cart's lines at the prices of this moment, for this buyer: the group price when
    joining a group buy, else a flash sale on now, else the member price of the customer's
    level. Campaign prices do not add up: the first that applies sets the price. ``lines``:
    the cart's lines at regular prices when the caller has just read them."""
    if lines is None:
        lines = await lines_of(session, cart, now)
    sales = {
        ln.sku.id: ln.offer
        for ln in lines
        if ln.offer is not None and ln.offer.starts_at <= now < ln.offer.ends_at
    }
    _, member_percent = await membership.discount_of(session, customer_id)
    for line in lines:
        if group is not None and line.sku.id == group.sku_id:
            line.unit_price = group_buys.unit_price(group, line.regular_price, settings)
            line.priced_by, line.exempt = "group_buy", group.floor_exempt
            continue
        line.unit_price, line.priced_by = flash.best_price(
            line.regular_price, sales.get(line.sku.id), member_percent, settings
        )
        if line.priced_by == "flash_sale":
            line.sale = sales[line.sku.id]
            line.exempt = line.sale.floor_exempt
    return lines


async def view(session: AsyncSession, settings: Settings, owner: CartOwner | None) -> CartView:
    cart = await find_cart(session, owner) if owner else None
    return await view_of(session, settings, cart, owner)


async def view_of(
    session: AsyncSession,
    settings: Settings,
    cart: Cart | None,
    owner: CartOwner | None,
    lines: list[Line] | None = None,
) -> CartView:
    """A cart already in hand, priced: a change answers with it from its own transaction."""
    return CartView(
        currency=settings.currency,
        lines=await priced_lines(
            session,
            settings,
            cart,
            utcnow(),
            customer_id=owner.customer_id if owner else None,
            lines=lines,
        ),
        shipping_threshold=settings.free_shipping_over,
        flat_shipping_fee=settings.shipping_fee,
    )


async def _sku_by_code(
    session: AsyncSession, code: str
) -> tuple[Sku, Product, int, FlashSale | None]:
    """The SKU, its product, how many are available and its flash sale on now, in one round
    trip."""
    row = (await session.execute(_SKU_BY_CODE, {"code": code, "now": utcnow()})).first()
    if row is None:
        raise NotFound(f"no SKU {code!r}", code="unknown_sku", details={"sku": code})
    sku, product, on_hand, reserved, sale = row
    if not (sku.active and product.listed):
        raise Conflict(f"{code} is not for sale", code="not_for_sale", details={"sku": code})
    return sku, product, _available(sku, on_hand, reserved), sale


def _available(sku: Sku, on_hand: int | None, reserved: int | None) -> int:
    return inventory.Level(sku.id, on_hand or 0, reserved or 0, 0).available


def _check_quantity(settings: Settings, quantity: int) -> None:
    if quantity < 1 or quantity > settings.max_line_quantity:
        raise InvalidInput(
            f"quantity must be between 1 and {settings.max_line_quantity}",
            code="invalid_quantity",
            details={"min": 1, "max": settings.max_line_quantity},
        )


def _check_available(sku: Sku, quantity: int, available: int) -> None:
    if quantity > available:
        raise OutOfStock(
            f"only {available} of {sku.code} available",
            details={"sku": sku.code, "requested": quantity, "available": available},
        )


async def add_item(
    session: AsyncSession,
    settings: Settings,
    owner: CartOwner,
    sku_code: str,
    quantity: int,
    *,
    new_owner: bool = False,
) -> Cart:
    """Add ``quantity`` of a SKU; the line's new total must be in stock. Returns the cart.
    ``new_owner``: the guest token was made for this request, so no cart can exist yet."""
    cart, _ = await add_item_lines(
        session, settings, owner, sku_code, quantity, new_owner=new_owner
    )
    return cart


async def add_item_lines(
    session: AsyncSession,
    settings: Settings,
    owner: CartOwner,
    sku_code: str,
    quantity: int,
    *,
    new_owner: bool = False,
) -> tuple[Cart, list[Line]]:
    """``add_item``, and the cart's lines after it at regular prices, for the response: the
    lines read before the change (with their stock) answer "is this SKU in it?" and "is it
    full?", and with the change applied they need not be read again."""
    _check_quantity(settings, quantity)
    sku, product, available, sale = await _sku_by_code(session, sku_code)
    cart, new = await _get_or_create(session, owner, new_owner=new_owner)
    lines = [] if new else await lines_of(session, cart)
    line = next((ln for ln in lines if ln.sku.id == sku.id), None)
    new_quantity = quantity + (line.quantity if line else 0)
    _check_quantity(settings, new_quantity)
    _check_available(sku, new_quantity, available)
    if line is None:
        if len(lines) >= settings.max_cart_lines:
            raise Conflict(
                f"a cart holds at most {settings.max_cart_lines} different items",
                code="cart_full",
            )
        params = {"cart": cart.id, "sku": sku.id, "quantity": new_quantity}
        await session.execute(_ADD_ITEM, params)
        lines.append(_line(sku, product, new_quantity, available, sale))
    else:
        params = {"cart": cart.id, "sku": sku.id, "quantity": new_quantity}
        await session.execute(_SET_QUANTITY, params)
        line.quantity = new_quantity
    return cart, lines


def _items_of(cart: Cart):  # type: ignore[no-untyped-def]
    return select(CartItem).where(CartItem.cart_id == cart.id)


async def _item(session: AsyncSession, owner: CartOwner, sku_code: str) -> tuple[Cart, CartItem]:
    cart = await find_cart(session, owner, lock=True)
    item = None
    if cart is not None:
        item = await session.scalar(
            select(CartItem)
            .join(Sku, Sku.id == CartItem.sku_id)
            .where(CartItem.cart_id == cart.id, Sku.code == sku_code)
        )
    if cart is None or item is None:
        raise NotFound(
            f"{sku_code!r} is not in the cart", code="not_in_cart", details={"sku": sku_code}
        )
    return cart, item


async def set_quantity(
    session: AsyncSession, settings: Settings, owner: CartOwner, sku_code: str, quantity: int
) -> Cart:
    _check_quantity(settings, quantity)
    cart, item = await _item(session, owner, sku_code)
    sku, _, available, _ = await _sku_by_code(session, sku_code)
    _check_available(sku, quantity, available)
    item.quantity = quantity
    await session.flush()
    return cart


async def remove_item(session: AsyncSession, owner: CartOwner, sku_code: str) -> Cart:
    cart, item = await _item(session, owner, sku_code)
    await session.delete(item)
    await session.flush()
    return cart


async def clear(session: AsyncSession, cart: Cart) -> None:
    await session.execute(_CLEAR, {"cart": cart.id})


async def merge_guest_cart(
    session: AsyncSession, settings: Settings, guest_token_hash: str, customer_id: int
) -> None:
    """At log-in the guest's cart joins the customer's: quantities add up, capped by stock and
    the per-line limit, and the guest cart is gone afterwards."""
    guest = await find_cart(session, CartOwner(token_hash=guest_token_hash), lock=True)
    if guest is None:
        return
    guest_lines = await lines_of(session, guest)
    if guest_lines:
        cart, _ = await _get_or_create(session, CartOwner(customer_id=customer_id))
        existing = {item.sku_id: item for item in await session.scalars(_items_of(cart))}
        for line in guest_lines:
            if not line.purchasable:
                continue
            item = existing.get(line.sku.id)
            wanted = line.quantity + (item.quantity if item else 0)
            quantity = min(wanted, settings.max_line_quantity, max(line.available, 1))
            if item is not None:
                item.quantity = quantity
            elif len(existing) < settings.max_cart_lines:
                new = CartItem(cart_id=cart.id, sku_id=line.sku.id, quantity=quantity)
                session.add(new)
                existing[line.sku.id] = new
    await clear(session, guest)
    await session.delete(guest)
    await session.flush()
