"""Many buyers checking out at the same moment, each with a guest cart of their own: the
harness of the concurrency tests (flash sales, coupons, group buys)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable

from shopd import security
from shopd.cart import service as carts
from shopd.config import Settings
from shopd.customers.service import AddressData
from shopd.db import Database
from shopd.errors import DomainError
from shopd.orders import service as orders
from tests.conftest import ADDRESS


async def guest_carts(db: Database, settings: Settings, sku: str, n: int) -> list[carts.CartOwner]:
    """``n`` guest carts holding one unit of ``sku`` each."""
    owners = []
    async with db.write() as s:
        for _ in range(n):
            owner = carts.CartOwner(token_hash=security.token_digest(security.new_token()))
            await carts.add_item(s, settings, owner, sku, 1)
            owners.append(owner)
        await s.commit()
    return owners


def by_transfer(email: str, **extra: object) -> orders.CheckoutData:
    return orders.CheckoutData(
        payment_method="bank_transfer",
        email=email,
        address=AddressData(**ADDRESS),
        **extra,  # type: ignore[arg-type]
    )


async def check_out_at_once(
    db: Database,
    settings: Settings,
    owners: list[carts.CartOwner],
    data_for: Callable[[int], orders.CheckoutData],
) -> Counter[str]:
    """Every cart checked out concurrently; the outcome of each: ``ok`` or the error code."""

    async def one(owner: carts.CartOwner, i: int) -> str:
        async with db.write() as s:
            try:
                await orders.checkout(s, settings, owner, data_for(i))
            except DomainError as exc:
                return exc.code
            return "ok"

    return Counter(await asyncio.gather(*(one(o, i) for i, o in enumerate(owners))))
