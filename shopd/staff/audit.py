"""Who did what: the acting staff member and the audit log every staff action writes to."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shopd.errors import Forbidden
from shopd.staff.models import ROLES, AuditEntry

ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}


@dataclass(frozen=True, slots=True)
class Actor:
    """A staff member acting through the staff API (or an operator's script, or the system)."""

    username: str
    role: str
    staff_id: int | None = None
    ip: str = ""
    # "staff" for people; "system" for the shop's own jobs and the payment gateway.
    kind: str = "staff"

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.username}"

    def require(self, minimum: str) -> None:
        if ROLE_RANK[self.role] < ROLE_RANK[minimum]:
            raise Forbidden(
                f"this needs the {minimum} role",
                code="forbidden",
                details={"required_role": minimum, "your_role": self.role},
            )


SYSTEM = Actor(username="jobs", role="admin", kind="system")
GATEWAY = Actor(username="payment-gateway", role="clerk", kind="system")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def record(
    session: AsyncSession,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: object,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Add the audit row to the caller's transaction: it commits or rolls back with the change."""
    session.add(
        AuditEntry(
            staff_id=actor.staff_id,
            actor=actor.label,
            action=action,
            target_type=target_type,
            target_id=str(target_id),
            before=_jsonable(before) if before is not None else None,
            after=_jsonable(after) if after is not None else None,
            ip=actor.ip[:45],
        )
    )


async def entries(
    session: AsyncSession,
    *,
    actor: str | None = None,
    action: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[AuditEntry], int]:
    query = select(AuditEntry)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action:
        query = query.where(AuditEntry.action == action)
    if target_type:
        query = query.where(AuditEntry.target_type == target_type)
    if target_id:
        query = query.where(AuditEntry.target_id == target_id)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.execute(
        query.order_by(AuditEntry.id.desc()).limit(per_page).offset((page - 1) * per_page)
    )
    return list(rows.scalars()), total or 0
