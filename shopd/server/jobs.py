"""Background jobs: the outbox sender, the expiry of unpaid orders, and settling group buys
whose deadline has passed.

They run inside each server process (``SHOPD_BACKGROUND_JOBS``, on by default, so a one-box
shop needs nothing else) or on their own in ``shopctl worker``; of all those processes, the one
holding the job lock (``shopd.server.job_lock``) runs the rounds. The jobs stay safe to run in
several processes at once (mails are claimed before sending, orders change by conditional
updates): ``run_once`` takes no lock, for tests and ``shopctl worker --once``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from shopd.config import Settings
from shopd.db import Database
from shopd.notifications import sender
from shopd.orders import group_buy_settlement, lifecycle
from shopd.server.job_lock import JobLock
from shopd.unit_of_work import committing

log = logging.getLogger("shopd.server.jobs")


@dataclass(slots=True)
class RoundReport:
    mail: sender.SendReport
    expired: list[str]
    groups: list[tuple[int, str]]


async def run_once(db: Database, settings: Settings) -> RoundReport:
    async with committing(db) as session:
        expired = await lifecycle.expire_unpaid(session, settings)
    if expired:
        log.info("cancelled %d unpaid orders: %s", len(expired), ", ".join(expired))
    async with committing(db) as session:
        groups = await group_buy_settlement.settle(session, settings)
    for group_id, outcome in groups:
        log.info("group buy %d %s", group_id, outcome)
    mail = await sender.send_pending(db, settings)
    return RoundReport(mail, expired, groups)


async def run_forever(db: Database, settings: Settings) -> None:
    lock = JobLock(db)
    try:
        while True:
            try:
                if await lock.held():
                    await run_once(db, settings)
            except asyncio.CancelledError:
                raise
            except Exception:
                # A database hiccup must not end the loop; the next round tries again.
                log.exception("background job round failed")
            await asyncio.sleep(settings.job_interval_seconds)
    finally:
        await asyncio.shield(lock.release())
