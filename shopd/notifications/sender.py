"""The outbox sender: claims due messages, sends them over SMTP, retries with back-off.

A message is claimed with a conditional UPDATE before it is sent, so several workers (or app
servers) can run this at once and each mail still goes out once. A mail server outage only
delays mail: failed messages wait and are tried again, up to the configured attempts.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import aiosmtplib
from sqlalchemy import or_, select, update

from shopd.config import Settings
from shopd.db import Database, utcnow
from shopd.notifications.models import OutboxMessage
from shopd.unit_of_work import committing

log = logging.getLogger("shopd.mail")
CLAIM_FOR = dt.timedelta(minutes=2)
MAX_BACKOFF = dt.timedelta(hours=1)


@dataclass(slots=True)
class SendReport:
    sent: int = 0
    failed: int = 0
    gave_up: int = 0


def backoff(attempts: int) -> dt.timedelta:
    """30 s, 1 min, 2 min, ... capped at an hour."""
    return min(dt.timedelta(seconds=30 * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def build_message(settings: Settings, row: OutboxMessage) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = row.to_addr
    msg["Subject"] = row.subject
    msg["Date"] = formatdate(localtime=False)
    domain = settings.mail_from.rpartition("@")[2] or "shopd.local"
    # Stable per outbox row: a retry after a lost reply is recognisable as the same mail.
    msg["Message-ID"] = make_msgid(idstring=f"outbox-{row.id}", domain=domain)
    msg.set_content(row.body)
    return msg


async def _claim(db: Database, limit: int) -> list[OutboxMessage]:
    now = utcnow()
    claimed: list[OutboxMessage] = []
    async with committing(db) as session:
        ids = list(
            (
                await session.execute(
                    select(OutboxMessage.id)
                    .where(
                        OutboxMessage.status == "pending",
                        OutboxMessage.next_attempt_at <= now,
                        or_(
                            OutboxMessage.claimed_until.is_(None),
                            OutboxMessage.claimed_until < now,
                        ),
                    )
                    .order_by(OutboxMessage.id)
                    .limit(limit)
                )
            ).scalars()
        )
        for message_id in ids:
            result = await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == message_id,
                    OutboxMessage.status == "pending",
                    or_(
                        OutboxMessage.claimed_until.is_(None),
                        OutboxMessage.claimed_until < now,
                    ),
                )
                .values(claimed_until=now + CLAIM_FOR)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                row = await session.get(OutboxMessage, message_id, populate_existing=True)
                assert row is not None
                claimed.append(row)
    return claimed


async def _deliver(settings: Settings, row: OutboxMessage) -> None:
    message = build_message(settings, row)
    if settings.mail_backend == "files":
        folder = settings.data_dir / "mail"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{row.id:08d}-{row.kind}.eml").write_bytes(message.as_bytes())
        return
    await aiosmtplib.send(
        message,
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username or None,
        password=settings.smtp_password or None,
        start_tls=settings.smtp_starttls,
        timeout=settings.smtp_timeout_seconds,
    )


async def send_pending(db: Database, settings: Settings, *, limit: int = 50) -> SendReport:
    report = SendReport()
    rows = await _claim(db, limit)
    if not rows:
        return report
    for row in rows:
        error = ""
        try:
            await _deliver(settings, row)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:1000]
        now = utcnow()
        async with committing(db) as session:
            row = await session.get(OutboxMessage, row.id)
            assert row is not None
            row.attempts += 1
            row.claimed_until = None
            if not error:
                row.status, row.sent_at, row.last_error = "sent", now, ""
                report.sent += 1
            elif row.attempts >= settings.mail_max_attempts:
                row.status, row.last_error = "failed", error
                report.gave_up += 1
                log.error("giving up on mail %s to %s: %s", row.id, row.kind, error)
            else:
                row.next_attempt_at, row.last_error = now + backoff(row.attempts), error
                report.failed += 1
                log.warning("mail %s not sent (attempt %s): %s", row.id, row.attempts, error)
    return report
