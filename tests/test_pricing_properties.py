"""Pricing rules as properties (hypothesis): whatever the regular price, sale price, floor and
exemption, a unit is never charged below the floor unless exempt, never above the regular
price, never negative; a cart's total is the sum of its lines plus shipping."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from shopd.cart.service import CartView, Line
from shopd.config import Settings
from shopd.promotions import flash
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
