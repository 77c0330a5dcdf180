"""Log-in throttling shared by every worker and app server (the counts live in the database).

Each failed log-in counts against the account name and against the client address; too many
failures in the window lock that key for a while. A success clears the name's count but not
the address's, or one known password would reset the count for guessing all the others. An
address gets more tries than a name because a shop's staff often share one (NAT).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from shopd.config import Settings
from shopd.db import Database, utcnow
from shopd.errors import DomainError, NotAuthenticated
from shopd.staff.models import LoginThrottle
from shopd.unit_of_work import committing
from shopd.validation import identity_key

T = TypeVar("T")

ADDRESS_FACTOR = 4


def _is_loopback(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


class TooManyAttempts(DomainError):
    status_code = 429
    code = "too_many_attempts"


def keys(scope: str, name: str, ip: str) -> list[str]:
    found = [f"{scope}:name:{identity_key(name)[:120]}"]
    # Staff in the TUI over SSH all reach the API from the app server itself: counted per
    # address, one clerk's typos locked every colleague out. SSH has checked who they are.
    if ip and not (scope == "staff" and _is_loopback(ip)):
        found.append(f"{scope}:ip:{ip[:45]}")
    return found


async def check(session: AsyncSession, throttle_keys: list[str]) -> None:
    now = utcnow()
    rows = await session.execute(
        select(LoginThrottle).where(
            LoginThrottle.key.in_(throttle_keys), LoginThrottle.locked_until > now
        )
    )
    locked = list(rows.scalars())
    if locked:
        until = max(row.locked_until for row in locked if row.locked_until)
        seconds = max(int((until - now).total_seconds()), 1)
        raise TooManyAttempts(
            "too many failed log-ins; try again later",
            details={"retry_after_seconds": seconds},
        )


async def failed(
    session: AsyncSession,
    throttle_keys: list[str],
    *,
    max_failures: int,
    window: dt.timedelta,
    lockout: dt.timedelta,
) -> None:
    now = utcnow()
    for key in throttle_keys:
        row = await session.get(LoginThrottle, key, with_for_update=True)
        if row is None:
            session.add(LoginThrottle(key=key, failures=1, window_start=now))
            continue
        if now - row.window_start > window:
            row.failures, row.window_start = 0, now
        row.failures += 1
        limit = max_failures * ADDRESS_FACTOR if ":ip:" in key else max_failures
        if row.failures >= limit:
            row.locked_until = now + lockout
            row.failures, row.window_start = 0, now


async def succeeded(session: AsyncSession, name_key: str) -> None:
    await session.execute(delete(LoginThrottle).where(LoginThrottle.key == name_key))


async def guarded(
    db: Database,
    settings: Settings,
    *,
    scope: str,
    name: str,
    ip: str,
    attempt: Callable[[AsyncSession], Awaitable[T]],
    failure: type[DomainError] = NotAuthenticated,
) -> T:
    """One ``attempt`` (it raises ``failure``, ``NotAuthenticated`` for a wrong name or
    password) under the throttle of ``scope`` — ``staff``, ``customer``, ``inquiry``: refused
    while the name or the address is locked, counted when it fails, the name's count cleared
    when it succeeds."""
    throttle_keys = keys(scope, name, ip)
    failed: DomainError | None = None
    async with committing(db) as session:
        await check(session, throttle_keys)
        try:
            result = await attempt(session)
        except failure as exc:
            # The failure is counted (committed) before it is raised.
            await _count(session, settings, throttle_keys)
            failed = exc
        else:
            await succeeded(session, throttle_keys[0])
    if failed is not None:
        raise failed
    return result


async def ensure_open(db: Database, *, scope: str, name: str, ip: str) -> None:
    """Refuse (``too_many_attempts``) while the name or the address is locked; count nothing."""
    async with db.read() as session:
        await check(session, keys(scope, name, ip))


async def counted(db: Database, settings: Settings, *, scope: str, name: str, ip: str) -> None:
    """Count one request that must stay rare (a password-reset mail) as if it failed: past the
    log-in limits, more are refused for a while (``too_many_attempts``)."""
    throttle_keys = keys(scope, name, ip)
    async with committing(db) as session:
        await check(session, throttle_keys)
        await _count(session, settings, throttle_keys)


async def _count(session: AsyncSession, settings: Settings, throttle_keys: list[str]) -> None:
    """One failure against the keys, under the configured log-in limits."""
    await failed(
        session,
        throttle_keys,
        max_failures=settings.login_max_failures,
        window=dt.timedelta(minutes=settings.login_window_minutes),
        lockout=dt.timedelta(minutes=settings.login_lockout_minutes),
    )
