"""``shopctl campaign check``: one go/no-go list before a campaign, each line green or red.

The expected peak comes from the campaign's expected visitors and the conversion target:
orders = visitors × conversion; concurrent shoppers at the peak = visitors × the peak hour's
share of the day × the minutes a visit lasts / 60. Against it stand the last capacity search
(``shopctl loadtest capacity`` leaves ``capacity.json``), the stock of every SKU on a flash sale
or group buy during the campaign against what it is expected to sell, the newest backup (its
age and whether a restore proved it), the health and free disk of every app and db host.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backups import store
from shopd.catalog.models import Sku
from shopd.inventory.models import StockLevel
from shopd.orders.models import Order, OrderLine
from shopd.promotions.models import FlashSale, GroupBuy

# How far back a SKU's share of orders is taken from, to expect its campaign sales.
HISTORY = dt.timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class Expected:
    visitors: int
    orders: int
    peak_users: int


def expect(
    visitors: int, conversion_bp: int, *, peak_share: float, visit_minutes: float
) -> Expected:
    return Expected(
        visitors=visitors,
        orders=math.ceil(visitors * conversion_bp / 10_000),
        peak_users=math.ceil(visitors * peak_share * visit_minutes / 60),
    )


def capacity(
    result_dir: Path, expected: Expected, *, max_age: dt.timedelta, now: dt.datetime
) -> Check:
    name = "capacity"
    path = result_dir / "capacity.json"
    try:
        result = json.loads(path.read_text())
        users = int(result["users"])
        measured = dt.datetime.fromisoformat(result["measured_at"])
    except FileNotFoundError:
        return Check(name, False, f"no capacity result at {path}: run shopctl loadtest capacity")
    except (ValueError, KeyError, TypeError) as exc:
        return Check(name, False, f"{path} is unreadable: {exc}")
    age = now - measured
    said = (
        f"{users:,} users held ({result.get('profile', '?')}, {measured:%Y-%m-%d}) against an "
        f"expected peak of {expected.peak_users:,}"
    )
    if age > max_age:
        return Check(name, False, f"{said}, but measured {age.days} days ago: measure again")
    return Check(name, users >= expected.peak_users, said)


async def promoted_stock(
    session: AsyncSession,
    start: dt.datetime,
    end: dt.datetime,
    expected: Expected,
    *,
    overrides: dict[str, int],
    now: dt.datetime,
) -> list[Check]:
    """Each SKU on a flash sale or group buy during the campaign: available stock against the
    units it is expected to sell — ``overrides`` (SKU → units) where the operator knows, else
    its share of the last 30 days' orders times the expected orders (an even share of them if
    nothing sold lately)."""
    promoted: set[int] = set()
    for promo in (FlashSale, GroupBuy):
        promoted |= set(
            await session.scalars(
                select(promo.sku_id).where(promo.starts_at < end, promo.ends_at > start)
            )
        )
    codes = dict((await session.execute(select(Sku.code, Sku.id))).all())
    promoted |= {codes[c] for c in overrides if c in codes}
    missing = [c for c in overrides if c not in codes]
    checks = [Check(f"stock {c}", False, "no such SKU") for c in sorted(missing)]
    if not promoted:
        return [
            *checks,
            Check("promoted stock", True, "no flash sale or group buy in the campaign"),
        ]
    since = now - HISTORY
    recent_orders = int(
        await session.scalar(
            select(func.count()).where(Order.created_at >= since, Order.status != "cancelled")
        )
        or 0
    )
    sold = dict(
        (
            await session.execute(
                select(OrderLine.sku_id, func.sum(OrderLine.quantity))
                .join(Order, Order.id == OrderLine.order_id)
                .where(
                    Order.created_at >= since,
                    Order.status != "cancelled",
                    OrderLine.sku_id.in_(promoted),
                )
                .group_by(OrderLine.sku_id)
            )
        ).all()
    )
    stock = dict(
        (
            await session.execute(
                select(StockLevel.sku_id, StockLevel.on_hand - StockLevel.reserved).where(
                    StockLevel.sku_id.in_(promoted)
                )
            )
        ).all()
    )
    names = {v: k for k, v in codes.items()}
    for sku_id in sorted(promoted, key=lambda i: names[i]):
        code = names[sku_id]
        if code in overrides:
            need, basis = overrides[code], "as told"
        elif recent_orders and sold.get(sku_id):
            need = math.ceil(expected.orders * int(sold[sku_id]) / recent_orders)
            basis = f"{int(sold[sku_id])} sold in {recent_orders} orders over 30 days"
        else:
            need = math.ceil(expected.orders / len(promoted))
            basis = "an even share of the expected orders"
        have = int(stock.get(sku_id) or 0)
        checks.append(
            Check(f"stock {code}", have >= need, f"{have:,} available, {need:,} expected ({basis})")
        )
    return checks


def newest_backup(directories: Iterable[Path]) -> store.Backup | None:
    """The newest backup in the directories or one level below them (pulled backups sit in
    a folder per db host)."""
    found: list[store.Backup] = []
    for d in directories:
        found += store.load(d)
        if d.is_dir():
            for sub in sorted(p for p in d.iterdir() if p.is_dir()):
                found += store.load(sub)
    return max(found, key=lambda b: b.created_at, default=None)


def backup(directories: list[Path], *, max_age: dt.timedelta, now: dt.datetime) -> Check:
    name = "backup"
    latest = newest_backup(directories)
    if latest is None:
        return Check(name, False, "no backup in " + ", ".join(map(str, directories)))
    age = now - latest.created_at
    hours = age.total_seconds() / 3600
    said = f"newest {latest.id}, {hours:.1f} h old, {latest.status}"
    if age > max_age:
        return Check(name, False, f"{said}: older than {max_age.total_seconds() / 3600:.0f} h")
    if not latest.verified:
        return Check(name, False, f"{said}: prove it with shopctl backup verify")
    return Check(name, True, said)


def disk(name: str, free: int, *, min_free: int) -> Check:
    return Check(
        name,
        free >= min_free,
        f"{free / 2**30:.1f} GiB free (at least {min_free / 2**30:.1f} GiB wanted)",
    )


def free_disk(path: Path, *, min_free: int) -> Check:
    return disk(f"disk {path}", shutil.disk_usage(path).free, min_free=min_free)


def parse_df(output: str) -> int:
    """Free bytes from the last line of ``df -Pk PATH``."""
    fields = output.strip().splitlines()[-1].split()
    return int(fields[3]) * 1024


def hosts(inventory: list[object], *, min_free: int) -> list[Check]:
    """Over SSH, as an operator would look: on app servers shopd answers /readyz, on db
    servers MariaDB is running; on both, the free disk of / (and of MariaDB's data)."""
    from invoke.exceptions import UnexpectedExit
    from paramiko.ssh_exception import SSHException

    from infra.deploys.app import APP_PORT
    from infra.inventory_file import InventoryHost
    from infra.remote import connect_host

    checks: list[Check] = []
    for h in inventory:
        assert isinstance(h, InventoryHost)
        app = "app_servers" in h.groups
        db = bool({"db_servers", "db_replicas"} & set(h.groups))
        if not (app or db):
            continue
        conn = connect_host(h)
        try:
            if app:
                r = conn.run(
                    f"curl -fsS --max-time 5 http://127.0.0.1:{APP_PORT}/readyz",
                    warn=True,
                    hide=True,
                )
                checks.append(
                    Check(
                        f"{h.name} shopd", r.ok, "ready" if r.ok else (r.stderr or r.stdout).strip()
                    )
                )
            if db:
                r = conn.run("systemctl is-active mariadb", warn=True, hide=True)
                state = r.stdout.strip() or r.stderr.strip()
                checks.append(Check(f"{h.name} mariadb", state == "active", state))
            for path in ("/", "/var/lib/mysql") if db else ("/",):
                free = parse_df(conn.run(f"df -Pk {path}", hide=True).stdout)
                checks.append(disk(f"{h.name} disk {path}", free, min_free=min_free))
        except (OSError, SSHException, UnexpectedExit) as exc:
            checks.append(Check(h.name, False, f"unreachable over SSH: {exc}"))
        finally:
            conn.close()
    return checks


def ready(url: str) -> Check:
    """One shop (no inventory): its /readyz answers."""
    import httpx

    try:
        r = httpx.get(url.rstrip("/") + "/readyz", timeout=5, verify=False)
    except httpx.HTTPError as exc:
        return Check("shop", False, f"{url}: {exc}")
    return Check("shop", r.status_code == 200, f"{url}/readyz answered {r.status_code}")
