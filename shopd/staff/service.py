"""Staff accounts and the tokens the TUI and scripts use."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shopd import security
from shopd.db import utcnow
from shopd.errors import Conflict, InvalidInput, NotAuthenticated, NotFound
from shopd.staff.audit import Actor, record
from shopd.staff.models import ROLES, StaffSession, StaffUser

_USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")


def check_username(username: str) -> str:
    if not _USERNAME.match(username):
        raise InvalidInput(
            "a staff name is 2-64 characters: lower-case letters, digits, '.', '_', '-', "
            "starting with a letter",
            code="invalid_username",
        )
    return username


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", code="invalid_role")
    return role


def check_password(password: str) -> str:
    if len(password) < security.MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"the password must have at least {security.MIN_PASSWORD_LENGTH} characters",
            code="weak_password",
        )
    return password


async def add_staff(session: AsyncSession, username: str, role: str, password: str) -> StaffUser:
    check_username(username)
    check_role(role)
    check_password(password)
    if await session.scalar(select(StaffUser.id).where(StaffUser.username == username)):
        raise Conflict(f"staff account {username!r} exists already", code="staff_exists")
    user = StaffUser(username=username, role=role, password_hash=await security.hashed(password))
    session.add(user)
    await session.flush()
    return user


async def set_password(session: AsyncSession, username: str, password: str) -> StaffUser:
    user = await session.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None:
        raise InvalidInput(f"no staff account {username!r}", code="unknown_staff")
    user.password_hash = await security.hashed(password)
    await session.flush()
    return user


async def authenticate(session: AsyncSession, username: str, password: str) -> StaffUser:
    user = await session.scalar(select(StaffUser).where(StaffUser.username == username))
    if not await security.verified(user.password_hash if user else None, password):
        raise NotAuthenticated("wrong staff name or password", code="invalid_credentials")
    assert user is not None
    if not user.active:
        # Said only to whoever knows the password: the account's owner learns why, and
        # nobody learns from it which names exist.
        raise NotAuthenticated(
            "this staff account is disabled; an admin can enable it", code="account_disabled"
        )
    if security.needs_rehash(user.password_hash):
        user.password_hash = await security.hashed(password)
    return user


async def start_session(
    session: AsyncSession, user: StaffUser, hours: int
) -> tuple[str, dt.datetime]:
    token = security.new_token()
    expires = utcnow() + dt.timedelta(hours=hours)
    session.add(
        StaffSession(token_hash=security.token_digest(token), staff_id=user.id, expires_at=expires)
    )
    await session.flush()
    return token, expires


async def staff_for_token(session: AsyncSession, token: str) -> StaffUser | None:
    row = await session.execute(
        select(StaffUser)
        .join(StaffSession, StaffSession.staff_id == StaffUser.id)
        .where(
            StaffSession.token_hash == security.token_digest(token),
            StaffSession.expires_at > utcnow(),
            StaffUser.active.is_(True),
        )
    )
    return row.scalar_one_or_none()


async def disabled_token(session: AsyncSession, token: str) -> bool:
    """Whether the token was a session of an account since disabled (the staff API then
    says so, rather than that the session expired)."""
    found = await session.scalar(
        select(StaffSession.token_hash)
        .join(StaffUser, StaffSession.staff_id == StaffUser.id)
        .where(
            StaffSession.token_hash == security.token_digest(token),
            StaffUser.active.is_(False),
        )
    )
    return found is not None


async def end_session(session: AsyncSession, token: str) -> None:
    await session.execute(
        delete(StaffSession).where(StaffSession.token_hash == security.token_digest(token))
    )


def staff_state(user: StaffUser) -> dict[str, object]:
    return {"username": user.username, "role": user.role, "active": user.active}


async def list_staff(session: AsyncSession) -> list[StaffUser]:
    return list((await session.execute(select(StaffUser).order_by(StaffUser.username))).scalars())


async def get_staff(session: AsyncSession, username: str) -> StaffUser:
    user = await session.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None:
        raise NotFound(f"no staff account {username!r}", code="unknown_staff")
    return user


async def create_staff(
    session: AsyncSession, actor: Actor, username: str, role: str, password: str
) -> StaffUser:
    actor.require("admin")
    user = await add_staff(session, username, role, password)
    record(session, actor, "staff.create", "staff", username, after=staff_state(user))
    return user


async def update_staff(
    session: AsyncSession,
    actor: Actor,
    username: str,
    *,
    role: str | None = None,
    active: bool | None = None,
    password: str | None = None,
) -> StaffUser:
    actor.require("admin")
    user = await get_staff(session, username)
    before = staff_state(user)
    if user.id == actor.staff_id and (active is False or (role and role != user.role)):
        # Otherwise the last admin can lock everyone out of staff administration.
        raise Conflict("you cannot disable or demote yourself", code="cannot_change_self")
    if role is not None:
        user.role = check_role(role)
    if active is not None:
        user.active = active
    if password is not None:
        user.password_hash = await security.hashed(check_password(password))
    if password is not None:
        # Resetting ends every open session of that account at once.
        await session.execute(delete(StaffSession).where(StaffSession.staff_id == user.id))
    elif active is False:
        # So does disabling; the sessions are kept, expired, so that a request with one is
        # told the account was disabled (enabling it again revives none of them).
        await session.execute(
            update(StaffSession).where(StaffSession.staff_id == user.id).values(expires_at=utcnow())
        )
    after = staff_state(user) | ({"password": "changed"} if password else {})
    record(session, actor, "staff.update", "staff", username, before=before, after=after)
    await session.flush()
    return user
