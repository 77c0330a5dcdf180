"""The visit counter: counted in memory on the request path, written in batches.

A page view costs a dictionary increment and, once a day per visitor, one HMAC. Every
``flush_seconds`` (and when the process stops) the counts are added to the database with
upserts, so several worker processes and app servers add up rather than overwrite each other,
and a failed write puts its counts back for the next try. A visitor is kept only as a hash of
their address and browser salted with the shop's secret and the day: the same visitor counts
once a day, and nothing stored names them or links one day to the next.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import logging
import re
from collections import Counter
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from shopd import unit_of_work
from shopd.analytics.models import MAX_KEY, DailyVisitor, PageView
from shopd.db import Database

log = logging.getLogger("shopd.analytics")

# Crawlers and monitoring are not shoppers: they would swell visitors and sink conversion.
NOT_SHOPPERS = re.compile(r"bot|crawl|spider|slurp|monitor|curl|wget|httpx|python-requests", re.I)

View = tuple[str, str]


def search_key(query: str) -> str:
    """One key per search however it was typed (databases compare keys without case)."""
    return " ".join(query.lower().split())[:MAX_KEY]


class VisitCounter:
    def __init__(
        self, db: Database, *, secret: str, timezone: str, flush_seconds: float = 5.0
    ) -> None:
        self.db = db
        self.flush_seconds = flush_seconds
        self._secret = secret.encode()
        self._zone = ZoneInfo(timezone)
        self._views: Counter[tuple[dt.date, str, str]] = Counter()
        self._visitors: set[tuple[dt.date, str]] = set()
        # Visitors already written today: most page views need no second visitor row.
        self._written: set[tuple[dt.date, str]] = set()
        self._flushing = asyncio.Lock()

    def today(self) -> dt.date:
        return dt.datetime.now(self._zone).date()

    def visitor_hash(self, day: dt.date, address: str, agent: str) -> str:
        msg = f"{day.isoformat()}|{address}|{agent}".encode()
        return hmac.new(self._secret, msg, hashlib.sha256).hexdigest()[:32]

    def visit(self, address: str, agent: str, views: Iterable[View]) -> None:
        if NOT_SHOPPERS.search(agent):
            return
        day = self.today()
        for kind, key in views:
            self._views[(day, kind, key[:MAX_KEY])] += 1
        who = (day, self.visitor_hash(day, address, agent))
        if who not in self._written:
            self._visitors.add(who)

    @property
    def pending(self) -> int:
        return sum(self._views.values())

    async def flush(self) -> int:
        """Write what was counted since the last flush; returns the page views written."""
        async with self._flushing:
            views, visitors = self._views, self._visitors
            if not views and not visitors:
                return 0
            self._views, self._visitors = Counter(), set()
            try:
                await unit_of_work.run(self.db, lambda s: _add(s, views, visitors))
            except BaseException:
                # Not lost: the next flush tries again with whatever came in meanwhile.
                self._views.update(views)
                self._visitors |= visitors
                raise
            today = self.today()
            self._written = {w for w in self._written | visitors if w[0] >= today}
            return sum(views.values())

    async def run(self) -> None:
        """Flush every ``flush_seconds`` until cancelled, then once more."""
        try:
            while True:
                await asyncio.sleep(self.flush_seconds)
                try:
                    await self.flush()
                except Exception:
                    log.exception("could not write visit counts; kept for the next flush")
        finally:
            await self.flush()


async def _add(
    session: AsyncSession,
    views: Counter[tuple[dt.date, str, str]],
    visitors: set[tuple[dt.date, str]],
) -> None:
    rows = [{"day": d, "kind": k, "key": key, "views": n} for (d, k, key), n in views.items()]
    people = [{"day": d, "visitor": v} for d, v in visitors]
    if session.get_bind().dialect.name == "sqlite":
        add_views = sqlite.insert(PageView)
        add_views = add_views.on_conflict_do_update(
            index_elements=["day", "kind", "key"],
            set_={"views": PageView.views + add_views.excluded.views},
        )
        add_people = sqlite.insert(DailyVisitor).on_conflict_do_nothing()
    else:
        my_views = mysql.insert(PageView)
        add_views = my_views.on_duplicate_key_update(views=PageView.views + my_views.inserted.views)
        # Not INSERT IGNORE: every duplicate is a server warning, which the driver logs as
        # a WARNING line at each flush. A no-op update on the key says the same quietly.
        my_people = mysql.insert(DailyVisitor)
        add_people = my_people.on_duplicate_key_update(visitor=my_people.inserted.visitor)
    # Sorted: two workers flushing at once take row locks in the same order.
    if rows:
        await session.execute(
            add_views, sorted(rows, key=lambda r: (r["day"], r["kind"], r["key"]))
        )
    if people:
        await session.execute(add_people, sorted(people, key=lambda r: (r["day"], r["visitor"])))
