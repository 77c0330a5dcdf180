"""The staff API's own part: log-in and out, staff accounts, the audit log, shop settings.

Every other staff endpoint lives with its area (``orders/staff_api.py`` and so on) and gets the
acting staff member from ``staff_actor``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from litestar import Controller, Litestar, Request, Response, delete, get, patch, post, put
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency, Provide
from litestar.handlers.base import BaseRouteHandler
from litestar.params import JSONBody, PathParameter, QueryParameter
from litestar.routes import HTTPRoute

from shopd import http
from shopd.db import Database
from shopd.errors import NotAuthenticated
from shopd.http import DB, Conf, PageOf, client_ip
from shopd.staff import audit, service, shop_settings, throttle
from shopd.staff.audit import ROLE_RANK, Actor
from shopd.staff.models import StaffUser
from shopd.staff.schemas import (
    AuditOut,
    AuditPage,
    SettingIn,
    ShopOut,
    StaffAccountOut,
    StaffCreateIn,
    StaffLoginIn,
    StaffOut,
    StaffSessionOut,
    StaffUpdateIn,
)
from shopd.unit_of_work import committing

Username = Annotated[str, PathParameter(max_length=64)]


async def require_staff(connection: ASGIConnection[Any, Any, Any, Any], db: Database) -> StaffUser:
    """The staff member of the request's bearer token (staff use no cookie)."""
    user = await http.authenticated(
        connection, db, service.staff_for_token, state_key="shopd_staff"
    )
    if user is None:
        token = http.request_token(connection)
        if token is not None:
            async with db.read() as session:
                if await service.disabled_token(session, token):
                    raise NotAuthenticated(
                        "this staff account has been disabled", code="account_disabled"
                    )
        raise NotAuthenticated("a valid staff token is required", code="not_authenticated")
    return user


async def staff_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Authenticate and authorise before anything else of the request is looked at, so a
    caller without a staff token, or with too low a role, learns nothing (not even which
    parameters are wrong or whether an order exists).

    Each staff endpoint declares the lowest role it serves as ``opt={"role": ...}``; one that
    forgot is an admin's only. The services check again (and more finely: cancelling a paid
    order needs a manager), since the CLI and jobs call them without this guard."""
    db: Database = connection.app.state["db"]
    user = await require_staff(connection, db)
    actor = Actor(
        user.username,
        user.role,
        staff_id=user.id,
        ip=client_ip(connection),  # type: ignore[arg-type]
    )
    actor.require(handler.opt.get("role", "admin"))
    connection.state["staff_actor"] = actor


async def staff_actor(request: Request[Any, Any, Any], settings: Conf) -> Actor:
    return request.state["staff_actor"]  # type: ignore[no-any-return]


# Every staff controller declares these; handlers take ``actor: StaffActor``. The actor is
# declared to come after ``settings`` so that dependencies resolve one at a time
# (``shopd.http.shop_dependencies``).
ACTOR = {"actor": Provide(staff_actor)}
GUARDS = [staff_guard]
StaffActor = NamedDependency[Actor]


STAFF_PREFIX = "/api/v1/staff"


def endpoint_roles(app: Litestar) -> dict[str, str]:
    """Each staff endpoint ("PUT /stock/{sku}/threshold") and the lowest role it serves, as
    its ``opt`` declares it to ``staff_guard``; worked out once per app."""
    if "staff_endpoint_roles" not in app.state:
        roles: dict[str, str] = {}
        for route in app.routes:
            if not (isinstance(route, HTTPRoute) and route.path.startswith(STAFF_PREFIX + "/")):
                continue
            path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path.removeprefix(STAFF_PREFIX))
            for handler in route.route_handlers:
                if "role" in handler.opt:
                    for method in handler.http_methods:
                        roles[f"{method} {path}"] = handler.opt["role"]
        app.state["staff_endpoint_roles"] = roles
    return app.state["staff_endpoint_roles"]  # type: ignore[no-any-return]


def refused_endpoints(app: Litestar, role: str) -> dict[str, str]:
    rank = ROLE_RANK[role]
    return {k: need for k, need in endpoint_roles(app).items() if ROLE_RANK[need] > rank}


def account_out(user: StaffUser) -> StaffAccountOut:
    return StaffAccountOut(user.username, user.role, user.active, user.created_at)


class StaffController(Controller):
    path = "/api/v1/staff"
    tags = ["staff"]

    @post("/session", status_code=201)
    async def login(
        self, request: Request[Any, Any, Any], data: JSONBody[StaffLoginIn], db: DB, settings: Conf
    ) -> StaffSessionOut:
        """Log in; the token goes into ``Authorization: Bearer``. Repeated failures lock the
        name and the address for a while (``too_many_attempts``, 429)."""
        user = await throttle.guarded(
            db,
            settings,
            scope="staff",
            name=data.username,
            ip=client_ip(request),
            attempt=lambda s: service.authenticate(s, data.username, data.password),
        )
        async with committing(db) as session:
            token, expires = await service.start_session(
                session, user, settings.staff_session_hours
            )
        return StaffSessionOut(
            token,
            expires,
            StaffOut(user.username, user.role),
            settings.timezone,
            settings.currency,
            refused_endpoints(request.app, user.role),
        )

    @delete("/session", status_code=204)
    async def logout(self, request: Request[Any, Any, Any], db: DB) -> None:
        token = http.bearer_token(request)
        if token:
            async with committing(db) as session:
                await service.end_session(session, token)

    @get("/me")
    async def me(self, request: Request[Any, Any, Any], db: DB) -> StaffOut:
        user = await require_staff(request, db)
        return StaffOut(user.username, user.role)


class StaffAdminController(Controller):
    path = "/api/v1/staff"
    tags = ["staff admin"]
    dependencies = ACTOR
    guards = GUARDS

    @get("/shop", opt={"role": "clerk"})
    async def shop(self, actor: StaffActor, settings: Conf) -> ShopOut:
        """The shop as slips and exports name it: its name, return address, service e-mail."""
        actor.require("clerk")
        return ShopOut(settings.shop_name, settings.return_address, settings.contact_email)

    @get("/accounts", opt={"role": "admin"})
    async def accounts(self, actor: StaffActor, db: DB) -> list[StaffAccountOut]:
        actor.require("admin")
        async with db.read() as session:
            return [account_out(u) for u in await service.list_staff(session)]

    @post("/accounts", status_code=201, opt={"role": "admin"})
    async def create_account(
        self, actor: StaffActor, data: JSONBody[StaffCreateIn], db: DB
    ) -> StaffAccountOut:
        async with committing(db) as session:
            user = await service.create_staff(
                session, actor, data.username, data.role, data.password
            )
        return account_out(user)

    @patch("/accounts/{username:str}", opt={"role": "admin"})
    async def update_account(
        self, actor: StaffActor, username: Username, data: JSONBody[StaffUpdateIn], db: DB
    ) -> StaffAccountOut:
        """Change a role, disable or enable, or reset the password (ends the account's
        sessions)."""
        async with committing(db) as session:
            user = await service.update_staff(
                session,
                actor,
                username,
                role=data.role,
                active=data.active,
                password=data.password,
            )
        return account_out(user)

    @get(
        "/audit",
        opt={"role": "manager"},
        dependencies={"paging": http.paging(per_page=50, most=200, after="actor")},
    )
    async def audit_log(
        self,
        actor: StaffActor,
        db: DB,
        *,
        who: Annotated[str | None, QueryParameter(max_length=120)] = None,
        action: Annotated[str | None, QueryParameter(max_length=64)] = None,
        target_type: Annotated[str | None, QueryParameter(max_length=32)] = None,
        target_id: Annotated[str | None, QueryParameter(max_length=64)] = None,
        paging: PageOf,
    ) -> AuditPage:
        """Every staff action, newest first (managers and admins)."""
        actor.require("manager")
        async with db.read() as session:
            rows, total = await audit.entries(
                session,
                actor=who,
                action=action,
                target_type=target_type,
                target_id=target_id,
                page=paging.page,
                per_page=paging.per_page,
            )
        return AuditPage(
            [
                AuditOut(
                    e.id,
                    e.created_at,
                    e.actor,
                    e.action,
                    e.target_type,
                    e.target_id,
                    e.before,
                    e.after,
                    e.ip,
                )
                for e in rows
            ],
            paging.page,
            paging.per_page,
            total,
        )

    @get("/settings", opt={"role": "manager"})
    async def get_settings(self, actor: StaffActor, db: DB) -> dict[str, Any]:
        actor.require("manager")
        async with db.read() as session:
            return await shop_settings.get_all(session)

    @put("/settings/{key:str}", opt={"role": "admin"})
    async def put_setting(
        self,
        actor: StaffActor,
        key: Annotated[str, PathParameter(max_length=64)],
        data: JSONBody[SettingIn],
        db: DB,
    ) -> Response[dict[str, Any]]:
        async with committing(db) as session:
            value = await shop_settings.put(session, actor, key, data.value)
        return Response({key: value})
