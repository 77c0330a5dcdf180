"""A property-based test: random sequences of checkouts, payments, cancellations, receipts,
adjustments, stocktakes and returns, run through the services on both back ends. After every
step stock is never negative, the ledger sums to on-hand, and on-hand equals a simple model."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from shopd import security
from shopd.cart import service as carts
from shopd.catalog.models import Sku
from shopd.config import Settings
from shopd.customers.service import AddressData
from shopd.db import Database
from shopd.errors import DomainError
from shopd.inventory import operations as stock_ops
from shopd.inventory.models import StockLevel, StockMovement
from shopd.models import metadata
from shopd.orders import lifecycle, payments, returns
from shopd.orders import service as orders
from shopd.staff.audit import Actor
from tests.conftest import (
    ADDRESS,
    create_mysql_database,
    drop_mysql_database,
    mysql_url,
    seed_small,
)

SKUS = ["TEE-M", "TEE-L", "TEE-XL", "POT-1"]
START = {"TEE-M": 10, "TEE-L": 5, "TEE-XL": 0, "POT-1": 3}
MANAGER = Actor("prop.manager", "manager")

sku_i = st.integers(0, len(SKUS) - 1)
order_i = st.integers(0, 7)
step = st.one_of(
    st.tuples(st.just("checkout"), sku_i, st.integers(1, 6)),
    st.tuples(st.just("pay"), order_i),
    st.tuples(st.just("cancel"), order_i),
    st.tuples(st.just("return"), order_i, st.booleans()),
    st.tuples(st.just("receive"), sku_i, st.integers(1, 20)),
    st.tuples(
        st.just("adjust"),
        sku_i,
        st.integers(-8, 8).filter(bool),
    ),
    st.tuples(st.just("stocktake"), sku_i, st.integers(0, 15)),
)


async def _books(db: Database) -> dict[str, tuple[int, int, int]]:
    """SKU → (on_hand, reserved, ledger sum)."""
    async with db.read() as s:
        rows = await s.execute(
            select(Sku.code, StockLevel.on_hand, StockLevel.reserved).join(
                StockLevel, StockLevel.sku_id == Sku.id
            )
        )
        sums = dict(
            (
                await s.execute(
                    select(Sku.code, func.coalesce(func.sum(StockMovement.delta), 0))
                    .join(StockMovement, StockMovement.sku_id == Sku.id)
                    .group_by(Sku.code)
                )
            ).all()
        )
    return {code: (on_hand, reserved, int(sums.get(code, 0))) for code, on_hand, reserved in rows}


async def _run(url: str, steps: list[tuple[object, ...]], conf: Settings) -> None:
    db = Database(url)
    try:
        async with db.write_engine.begin() as conn:
            await conn.run_sync(metadata.drop_all)
            await conn.run_sync(metadata.create_all)
        await seed_small(db)
        model = dict(START)
        placed: list[tuple[str, str, int, str]] = []  # (number, sku, qty, state)
        for op in steps:
            kind = op[0]
            try:
                async with db.write() as s:
                    if kind == "checkout":
                        sku, qty = SKUS[op[1]], op[2]  # type: ignore[index]
                        owner = carts.CartOwner(
                            token_hash=security.token_digest(security.new_token())
                        )
                        await carts.add_item(s, conf, owner, sku, qty)
                        await s.commit()
                        order, _ = await orders.checkout(
                            s,
                            conf,
                            owner,
                            orders.CheckoutData(
                                payment_method="bank_transfer",
                                email="p@example.com",
                                address=AddressData(**ADDRESS),
                            ),
                        )
                        model[sku] -= qty
                        placed.append((order.number, sku, qty, "open"))
                    elif kind in ("pay", "cancel", "return") and placed:
                        idx = op[1] % len(placed)  # type: ignore[operator]
                        number, sku, qty, state = placed[idx]
                        order = await lifecycle.get_order(s, number)
                        if kind == "pay":
                            await payments.confirm_bank_transfer(
                                s, conf, MANAGER, number, amount=order.total, reference="P"
                            )
                        elif kind == "cancel":
                            await lifecycle.cancel(s, conf, MANAGER, number, reason="prop")
                            model[sku] += qty
                            state = "cancelled"
                        else:
                            restock = bool(op[2])  # type: ignore[misc]
                            if order.status == "pending_payment":
                                await payments.confirm_bank_transfer(
                                    s, conf, MANAGER, number, amount=order.total, reference="P"
                                )
                            for action in (lifecycle.start_picking,):
                                await action(s, MANAGER, number)
                            await lifecycle.ship(
                                s, conf, MANAGER, number, carrier="SF", tracking_number="1"
                            )
                            await lifecycle.deliver(s, conf, MANAGER, number)
                            await returns.request_return(s, MANAGER, number, None, reason="p")
                            await returns.receive_return(
                                s, MANAGER, number, {}, default="restock" if restock else "writeoff"
                            )
                            if restock:
                                model[sku] += qty
                            state = "returned"
                        placed[idx] = (number, sku, qty, state)
                    elif kind == "receive":
                        sku = SKUS[op[1]]  # type: ignore[index]
                        await stock_ops.receive(s, MANAGER, sku, op[2])  # type: ignore[arg-type]
                        model[sku] += op[2]  # type: ignore[operator]
                    elif kind == "adjust":
                        sku, delta = SKUS[op[1]], op[2]  # type: ignore[index]
                        reason = "found" if delta > 0 else "damage"  # type: ignore[operator]
                        await stock_ops.adjust(s, MANAGER, sku, delta, reason=reason)  # type: ignore[arg-type]
                        model[sku] += delta  # type: ignore[operator]
                    elif kind == "stocktake":
                        sku, counted = SKUS[op[1]], op[2]  # type: ignore[index]
                        take = await stock_ops.open_stocktake(s, MANAGER)
                        await stock_ops.record_counts(s, MANAGER, take.id, {sku: counted})  # type: ignore[dict-item]
                        await stock_ops.post_stocktake(s, MANAGER, take.id)
                        model[sku] = counted  # type: ignore[assignment]
                    await s.commit()
            except DomainError:
                pass  # refused (out of stock, illegal transition, ...): must change nothing
            books = await _books(db)
            for code, (on_hand, reserved, ledger) in books.items():
                if code not in model:
                    continue
                assert on_hand >= 0 and on_hand - reserved >= 0, (op, code, on_hand)
                assert ledger == on_hand, (op, code, ledger, on_hand)
                assert on_hand == model[code], (op, code, on_hand, model[code])
    finally:
        await db.dispose()


PROFILE = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@PROFILE
@given(steps=st.lists(step, min_size=1, max_size=25))
def test_stock_invariants_hold_on_sqlite(steps: list[tuple[object, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'prop.sqlite3'}"
        conf = Settings(data_dir=Path(tmp), database_url=url, background_jobs=False)
        asyncio.run(_run(url, steps, conf))


@pytest.fixture(scope="module")
def mysql_db() -> object:
    name = asyncio.run(create_mysql_database())
    yield mysql_url(name)
    asyncio.run(drop_mysql_database(name))


@pytest.mark.mysql
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(step, min_size=1, max_size=25))
def test_stock_invariants_hold_on_mariadb(mysql_db: str, steps: list[tuple[object, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        conf = Settings(data_dir=Path(tmp), database_url=mysql_db, background_jobs=False)
        asyncio.run(_run(mysql_db, steps, conf))
