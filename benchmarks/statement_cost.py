"""CPU per execution of one hot query, written the ways the shop can write it.

    python -m benchmarks.statement_cost mysql://root@127.0.0.1:3306/shopd_perf [SKU-CODE]

Runs against a seeded shop (``shopctl db seed-demo``) and prints a table: the ORM statement
built per call, built once, a table-level statement, ``text()``, and the driver alone (MariaDB
only). CPU time, not wall time, so a busy machine slows every row alike.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import Select, bindparam, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from shopd.catalog.models import Product, Sku
from shopd.db import Database
from shopd.inventory.models import StockLevel

ROUNDS = 1000


def _orm(code: Any) -> Select[Any]:
    return (
        select(Sku, Product, StockLevel.on_hand, StockLevel.reserved)
        .join(Product, Product.id == Sku.product_id)
        .outerjoin(StockLevel, StockLevel.sku_id == Sku.id)
        .where(Sku.code == code)
    )


async def _cpu_per_call(call: Callable[[], Awaitable[object]]) -> float:
    for _ in range(50):  # warm the statement caches first
        await call()
    start = time.process_time()
    for _ in range(ROUNDS):
        await call()
    return (time.process_time() - start) / ROUNDS * 1e6


async def _has_sku(session: AsyncSession, code: str) -> bool:
    try:
        return await session.scalar(select(Sku.id).where(Sku.code == code)) is not None
    except DBAPIError:  # no tables yet: a database never upgraded, or the wrong one
        return False


async def measure(url: str, code: str) -> list[tuple[str, float]]:
    db = Database(url, pool_size=2)
    once = _orm(bindparam("code"))
    skus = Sku.__table__
    levels = StockLevel.__table__
    table_level = (
        select(skus, levels.c.on_hand)
        .outerjoin(levels, levels.c.sku_id == skus.c.id)
        .where(skus.c.code == bindparam("code"))
    )
    plain = text("SELECT skus.id FROM skus WHERE skus.code = :code")
    ways: list[tuple[str, Callable[[AsyncSession], Awaitable[object]]]] = [
        ("ORM statement built per call", lambda s: s.execute(_orm(code))),
        ("ORM statement built once", lambda s: s.execute(once, {"code": code})),
        ("table-level statement built once", lambda s: s.execute(table_level, {"code": code})),
        ("text() through the session", lambda s: s.execute(plain, {"code": code})),
    ]
    results = []
    try:
        async with db.read() as session:
            if not await _has_sku(session, code):
                raise SystemExit(
                    f"no SKU {code} in this database: shopctl db upgrade and shopctl db "
                    "seed-demo first, or name a SKU it has"
                )
            for name, way in ways:

                async def call(way: Callable[[AsyncSession], Awaitable[Any]] = way) -> object:
                    return (await way(session)).all()

                results.append((name, await _cpu_per_call(call)))
        if not db.is_sqlite:
            async with db.engine.connect() as conn:
                driver = (await conn.get_raw_connection()).driver_connection

                async def raw() -> object:
                    async with driver.cursor() as cursor:  # type: ignore[union-attr]
                        await cursor.execute("SELECT id FROM skus WHERE code = %s", (code,))
                        return await cursor.fetchall()

                results.append(("the driver alone", await _cpu_per_call(raw)))
    finally:
        await db.dispose()
    return results


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    code = sys.argv[2] if len(sys.argv) > 2 else "SKU-000005"
    table = Table(title=f"one SKU by code ({code}), {ROUNDS} executions each")
    table.add_column("how")
    table.add_column("µs CPU per execution", justify="right")
    for name, micros in asyncio.run(measure(sys.argv[1], code)):
        table.add_row(name, f"{micros:,.0f}")
    Console().print(table)


if __name__ == "__main__":
    main()
