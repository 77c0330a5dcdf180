"""Staff log-in for the TUI and scripts (``Authorization: Bearer <token>`` afterwards)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import JSONBody

from shopd import http
from shopd.errors import NotAuthenticated
from shopd.http import DB, Conf
from shopd.staff import service
from shopd.staff.models import StaffUser
from shopd.staff.schemas import StaffLoginIn, StaffOut, StaffSessionOut


async def require_staff(request: Request[Any, Any, Any], db: DB) -> StaffUser:
    token = http.bearer_token(request)
    user = None
    if token:
        async with db.read() as session:
            user = await service.staff_for_token(session, token)
    if user is None:
        raise NotAuthenticated("a valid staff token is required", code="not_authenticated")
    return user


class StaffController(Controller):
    path = "/api/v1/staff"
    tags = ["staff"]

    @post("/session", status_code=201)
    async def login(self, data: JSONBody[StaffLoginIn], db: DB, settings: Conf) -> StaffSessionOut:
        async with db.write() as session:
            user = await service.authenticate(session, data.username, data.password)
            token, expires = await service.start_session(
                session, user, settings.staff_session_hours
            )
            await session.commit()
        return StaffSessionOut(token, expires, StaffOut(user.username, user.role))

    @get("/me")
    async def me(self, request: Request[Any, Any, Any], db: DB) -> StaffOut:
        user = await require_staff(request, db)
        return StaffOut(user.username, user.role)
