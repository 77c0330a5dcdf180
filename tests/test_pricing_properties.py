"""Pricing rules as properties (hypothesis): whatever the regular price, sale price, floor and
exemption, a unit is never charged below the floor unless exempt, never above the regular
price, never negative; a cart's total is the sum of its lines plus shipping."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopd.cart.service import CartView, Line
from shopd.config import Settings
from shopd.errors import Conflict
from shopd.promotions import flash, pricing
from shopd.promotions.models import FlashSale

prices = st.integers(min_value=0, max_value=10**10)


def sale(price: int, exempt: bool) -> FlashSale:
    now = dt.datetime(2026, 11, 11, tzinfo=dt.UTC)
    return FlashSale(
        sale_price=price,
        floor_exempt=exempt,
        starts_at=now,
        ends_at=now + dt.timedelta(hours=1),
        quantity=1,
        sold=0,
        per_customer_limit=1,
    )


@given(
    regular=prices,
    sale_price=prices,
    floor_percent=st.integers(min_value=0, max_value=100),
    exempt=st.booleans(),
)
def test_a_sale_unit_price_respects_the_floor_and_the_regular_price(
    regular: int, sale_price: int, floor_percent: int, exempt: bool
) -> None:
    settings = Settings(price_floor_percent=floor_percent)
    charged = flash.sale_unit_price(sale(sale_price, exempt), regular, settings)
    floor = flash.price_floor(regular, settings)
    assert 0 <= charged <= regular
    assert floor * 100 >= regular * floor_percent  # the floor rounds up, never down
    if not exempt:
        assert charged >= floor
        assert charged == min(max(sale_price, floor), regular)
    else:
        assert charged == min(sale_price, regular)


def line(unit: int, quantity: int) -> Line:
    fake: Any = SimpleNamespace()
    return Line(
        sku=fake, product=fake, quantity=quantity, unit_price=unit, available=0, regular_price=unit
    )


@given(
    lines=st.lists(
        st.tuples(prices, st.integers(min_value=1, max_value=99)), min_size=0, max_size=20
    ),
    fee=st.integers(min_value=0, max_value=10**6),
    free_over=st.integers(min_value=0, max_value=10**9),
)
def test_a_cart_total_is_its_lines_plus_shipping_and_never_negative(
    lines: list[tuple[int, int]], fee: int, free_over: int
) -> None:
    view = CartView("CNY", [line(u, q) for u, q in lines], free_over, fee)
    assert view.subtotal == sum(u * q for u, q in lines)
    assert view.total == view.subtotal + view.shipping_fee >= 0
    assert view.shipping_fee in (0, fee)
    if view.subtotal >= free_over or not lines or view.subtotal == 0:
        assert view.shipping_fee == 0


# --- whole orders: coupons, points and member prices over many lines ---------------------

FLOOR_PERCENTS = st.integers(min_value=0, max_value=100)


@st.composite
def price_lines(draw: st.DrawFn) -> list[pricing.PriceLine]:
    out = []
    for i in range(draw(st.integers(min_value=1, max_value=6))):
        regular = draw(st.integers(min_value=0, max_value=10**8))
        unit = draw(st.integers(min_value=0, max_value=regular))
        exempt = draw(st.booleans())
        out.append(
            pricing.PriceLine(
                sku=f"S{i}",
                product_id=draw(st.integers(min_value=1, max_value=4)),
                category_id=draw(st.integers(min_value=1, max_value=3)),
                regular=regular,
                unit=unit,
                quantity=draw(st.integers(min_value=1, max_value=99)),
                exempt=exempt,
            )
        )
    return out


@st.composite
def offers(draw: st.DrawFn) -> list[pricing.Offer]:
    out = []
    for i in range(draw(st.integers(min_value=0, max_value=3))):
        kind = draw(st.sampled_from(pricing.COUPON_KINDS))
        value = {
            "amount_off": draw(st.integers(min_value=1, max_value=10**9)),
            "percent_off": draw(st.integers(min_value=1, max_value=90)),
            "free_shipping": 0,
        }[kind]
        out.append(
            pricing.Offer(
                code=f"C{i}",
                kind=kind,
                value=value,
                min_spend=draw(st.sampled_from([0, 0, 100, 10**6])),
                product_ids=frozenset(draw(st.sets(st.integers(1, 4), max_size=2))),
                category_ids=frozenset(draw(st.sets(st.integers(1, 3), max_size=1))),
                stackable=True,
                floor_exempt=draw(st.booleans()),
            )
        )
    return out


def flat_shipping(goods: int) -> int:
    return 0 if goods == 0 or goods >= 19900 else 1000


@given(
    lines=price_lines(),
    coupons=offers(),
    points=st.integers(min_value=0, max_value=10**10),
    floor_percent=FLOOR_PERCENTS,
)
def test_an_orders_total_is_its_lines_and_never_below_the_floor(
    lines: list[pricing.PriceLine], coupons: list[pricing.Offer], points: int, floor_percent: int
) -> None:
    try:
        q = pricing.quote(
            lines,
            floor_percent=floor_percent,
            shipping_fee=flat_shipping,
            offers=coupons,
            points=points,
        )
    except Conflict as exc:
        assert exc.code == "coupon_min_spend"
        return
    assert q.total == sum(ql.total for ql in q.lines) + q.shipping_fee
    assert q.total >= 0 and q.subtotal - q.discount + q.shipping_fee == q.total
    assert 0 <= q.points_used <= points
    exempt_coupon = any(c.floor_exempt and c.kind != "free_shipping" for c in coupons)
    for ql in q.lines:
        assert 0 <= ql.discount <= ql.gross and ql.total >= 0
        floor = pricing.floor_price(ql.line.regular, floor_percent) * ql.line.quantity
        if not exempt_coupon and not ql.line.exempt:
            # Discounts never take a line under its floor (a line already under it by an
            # exempt price or a caller's unit price only ever keeps what it had).
            assert ql.total >= min(floor, ql.gross)
    # Each applied amount is what was taken off the lines, to the fen.
    taken = sum(a.amount for a in q.applied if a.kind in ("coupon", "points"))
    assert taken == q.discount


@given(lines=price_lines(), floor_percent=FLOOR_PERCENTS, percent=st.integers(0, 90))
def test_a_member_price_is_within_the_floor_and_the_regular_price(
    lines: list[pricing.PriceLine], floor_percent: int, percent: int
) -> None:
    for ln in lines:
        price = pricing.member_price(ln.regular, percent, floor_percent)
        assert pricing.floor_price(ln.regular, floor_percent) <= price or price == ln.regular
        assert price <= ln.regular


def tee(quantity: int = 1, regular: int = 10000, unit: int | None = None) -> pricing.PriceLine:
    return pricing.PriceLine("TEE", 1, 1, regular, regular if unit is None else unit, quantity)


def test_full_200_minus_30_at_the_minimum_spend_and_one_fen_below() -> None:
    offer = pricing.Offer("FULL200", "amount_off", 3000, min_spend=20000)
    at = pricing.quote([tee(2)], floor_percent=70, shipping_fee=flat_shipping, offers=[offer])
    assert (at.subtotal, at.discount, at.shipping_fee, at.total) == (20000, 3000, 1000, 18000)
    with pytest.raises(Conflict) as exc:
        pricing.quote([tee(1, 19999)], floor_percent=70, shipping_fee=flat_shipping, offers=[offer])
    assert exc.value.code == "coupon_min_spend"


def test_stacking_rules_and_the_floor_between_coupons() -> None:
    alone = pricing.Offer("ALONE", "percent_off", 10)
    a = pricing.Offer("A", "percent_off", 20, stackable=True)
    b = pricing.Offer("B", "amount_off", 2000, stackable=True)
    ship = pricing.Offer("SHIP", "free_shipping", 0, stackable=True)
    with pytest.raises(Conflict) as exc:
        pricing.quote([tee()], floor_percent=70, shipping_fee=flat_shipping, offers=[alone, a])
    assert exc.value.code == "coupon_not_stackable"
    with pytest.raises(Conflict) as exc:
        pricing.quote([tee()], floor_percent=70, shipping_fee=flat_shipping, offers=[a, a])
    assert exc.value.code == "coupon_repeated"
    # 20% then 20.00 off a 100.00 shirt would be 60.00: the floor keeps it at 70.00.
    q = pricing.quote([tee()], floor_percent=70, shipping_fee=flat_shipping, offers=[a, b, ship])
    assert [(x.code, x.amount) for x in q.applied] == [("A", 2000), ("B", 1000), ("SHIP", 1000)]
    assert (q.lines[0].total, q.shipping_fee, q.total) == (7000, 0, 7000)
    # An exempt coupon (a Double 11 campaign) may go under the floor.
    deep = pricing.Offer("D11", "amount_off", 5000, floor_exempt=True)
    assert (
        pricing.quote([tee()], floor_percent=70, shipping_fee=flat_shipping, offers=[deep])
        .lines[0]
        .total
        == 5000
    )


def test_a_coupon_for_one_category_leaves_the_other_lines_alone_and_points_fill_the_rest() -> None:
    pot = pricing.PriceLine("POT", 2, 2, 58800, 58800, 1)
    offer = pricing.Offer("TEA10", "percent_off", 10, category_ids=frozenset({2}))
    q = pricing.quote(
        [tee(), pot], floor_percent=70, shipping_fee=flat_shipping, offers=[offer], points=10**9
    )
    assert q.lines[1].discount >= 5880
    # Points take each line to its floor and no further: 30% of each regular price.
    assert [ql.total for ql in q.lines] == [7000, 41160]
    assert q.points_used == (10000 - 7000) + (58800 - 5880 - 41160)
