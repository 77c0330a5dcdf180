"""E-mails through the outbox to a real SMTP server (aiosmtpd on a local port): sent once,
kept through an outage, and delivered by a later retry."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from shopd import migrations
from shopd.config import Settings
from shopd.db import Database, utcnow
from shopd.notifications import sender
from shopd.notifications.models import OutboxMessage
from shopd.server.app import create_app
from tests.conftest import Backend, SmallCatalog, seed_small
from tests.server import free_port, shopctl
from tests.staffkit import make_staff, place_order, staff_call


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        raw = envelope.content  # type: ignore[attr-defined]
        self.messages.append(message_from_bytes(raw, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    try:
        yield server
    finally:
        server.stop()


def smtp_settings(settings: Settings, port: int) -> Settings:
    return settings.model_copy(
        update={"mail_backend": "smtp", "smtp_port": port, "smtp_timeout_seconds": 5}
    )


async def outbox(db: Database) -> list[OutboxMessage]:
    async with db.read() as s:
        return list((await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())


async def test_outage_then_retry_delivers_every_mail_once(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    catalog: SmallCatalog,
    smtp: SmtpServer,
) -> None:
    staff = await make_staff(client, db)
    # In Chinese: the subjects cross SMTP as encoded non-ASCII headers.
    order = await place_order(client, catalog.sku_m, 2, language="zh")
    for action in ("confirm_payment", "start_picking", "ship"):
        assert (await staff_call(client, staff.clerk, action, order)).status_code == 200
    conf = smtp_settings(settings, smtp.port)

    # The mail server is down: nothing is lost, each message waits for a retry.
    report = await sender.send_pending(db, conf)
    assert (report.sent, report.failed) == (0, 3)
    rows = await outbox(db)
    assert [(r.status, r.attempts) for r in rows] == [("pending", 1)] * 3
    assert all("Connect" in r.last_error or "refused" in r.last_error.lower() for r in rows)
    assert all(r.next_attempt_at > utcnow() for r in rows)
    # Not due yet: another round sends nothing and does not count an attempt.
    smtp.start()
    assert (await sender.send_pending(db, conf)).sent == 0
    assert smtp.inbox.messages == []

    async with db.write() as s:
        await s.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
        await s.commit()
    report = await sender.send_pending(db, conf)
    assert (report.sent, report.failed) == (3, 0)
    assert [(r.status, r.attempts) for r in await outbox(db)] == [("sent", 2)] * 3
    subjects = [m["Subject"] for m in smtp.inbox.messages]
    assert len(subjects) == 3 and all(order["number"] in s for s in subjects)
    assert [m["To"] for m in smtp.inbox.messages] == ["guest@example.com"] * 3
    shipped = smtp.inbox.messages[2]
    assert "SF1234567890" in shipped.get_content() and "已发货" in shipped["Subject"]

    # Sent mails are never sent again.
    assert (await sender.send_pending(db, conf)).sent == 0
    assert len(smtp.inbox.messages) == 3


async def test_two_senders_at_once_send_each_mail_once(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    catalog: SmallCatalog,
    smtp: SmtpServer,
) -> None:
    for _ in range(6):
        await place_order(client, catalog.sku_m, 1)
    smtp.start()
    conf = smtp_settings(settings, smtp.port)
    reports = await asyncio.gather(*(sender.send_pending(db, conf) for _ in range(3)))
    assert sum(r.sent for r in reports) == 6
    assert len(smtp.inbox.messages) == 6
    assert len({m["Message-ID"] for m in smtp.inbox.messages}) == 6


async def test_gives_up_after_the_last_attempt(
    client: httpx.AsyncClient, db: Database, settings: Settings, catalog: SmallCatalog
) -> None:
    await place_order(client, catalog.sku_m, 1)
    conf = smtp_settings(settings, free_port()).model_copy(update={"mail_max_attempts": 2})
    for _ in range(2):
        async with db.write() as s:
            await s.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
            await s.commit()
        await sender.send_pending(db, conf)
    [row] = await outbox(db)
    assert row.status == "failed" and row.attempts == 2


def test_backoff_grows_and_is_capped() -> None:
    steps = [sender.backoff(n) for n in range(1, 12)]
    assert steps[0] == dt.timedelta(seconds=30)
    assert steps == sorted(steps) and steps[-1] == dt.timedelta(hours=1)


async def test_worker_command_sends_through_smtp(
    backend: Backend, smtp: SmtpServer, tmp_path: Path
) -> None:
    """`shopctl worker --once`, as an operator runs it, against a migrated database."""
    await migrations.upgrade(backend.url)
    db = Database(backend.url)
    settings = Settings(
        data_dir=tmp_path, database_url=backend.url, background_jobs=False, secret_key="k"
    )
    try:
        await seed_small(db)
        transport = httpx.ASGITransport(app=create_app(settings, database=db))
        async with httpx.AsyncClient(transport=transport, base_url="http://shop.test") as c:
            await place_order(c, "TEE-M", 1)
    finally:
        await db.dispose()
    smtp.start()
    env = {
        "SHOPD_DATABASE_URL": backend.url,
        "SHOPD_DATA_DIR": str(tmp_path),
        "SHOPD_SMTP_PORT": str(smtp.port),
    }
    result = await asyncio.to_thread(shopctl, "worker", "--once", env=env)
    assert result.returncode == 0, result.stderr
    assert "mail sent 1" in result.stdout
    assert len(smtp.inbox.messages) == 1
    assert "Order" in smtp.inbox.messages[0]["Subject"]
