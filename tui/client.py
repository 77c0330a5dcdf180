"""The staff API as the TUI sees it: one small async client over httpx. The TUI never opens
the database; everything goes through these calls, so a refusal arrives as the API's own
error code and message."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import httpx

ROLES = ("clerk", "manager", "admin")


@dataclass
class ApiError(Exception):
    status: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.message} ({self.code})"


class SessionExpired(ApiError):
    """The token is no longer accepted; the app has gone back to the log-in screen."""


class StaffClient:
    def __init__(self, base_url: str, *, transport: httpx.AsyncBaseTransport | None = None):
        self.http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), transport=transport, timeout=30
        )
        self.token: str | None = None
        self.username = ""
        self.role = ""
        self.timezone = ZoneInfo("UTC")
        self.currency = ""
        self.refused: dict[str, str] = {}
        # Called once when the server stops accepting the token (expired, revoked or the
        # account disabled), with what to tell the staff member.
        self.on_expired: Callable[[str], None] | None = None
        # Called in the requesting task as a request starts (True) and ends (False), so the
        # TUI can show that it waits and cancel the waiting task (tui.app).
        self.on_waiting: Callable[[bool], None] | None = None
        # Called in the requesting task when the shop answered a request with success.
        self.on_answered: Callable[[], None] | None = None

    async def close(self) -> None:
        await self.http.aclose()

    def can(self, role: str) -> bool:
        return bool(self.role) and ROLES.index(self.role) >= ROLES.index(role)

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        token = self.token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if self.on_waiting:
            self.on_waiting(True)
        try:
            reply = await self.http.request(
                method, "/api/v1/staff" + path, headers=headers, **kwargs
            )
        except httpx.HTTPError as exc:
            raise ApiError(0, "unreachable", f"the shop does not answer: {exc}") from None
        finally:
            if self.on_waiting:
                self.on_waiting(False)
        if reply.status_code == 401 and token:
            code, why = "session_expired", "the session has expired — log in again"
            with contextlib.suppress(ValueError, KeyError, TypeError):
                if reply.json()["error"]["code"] == "account_disabled":
                    code, why = "account_disabled", "this staff account has been disabled"
            # Several requests under way learn it together: the staff member is told once.
            if self.token == token:
                self.token = None
                if self.on_expired:
                    self.on_expired(why)
            raise SessionExpired(401, code, why)
        if reply.status_code >= 400:
            try:
                error = reply.json()["error"]
                raise ApiError(reply.status_code, error["code"], error["message"])
            except (ValueError, KeyError, TypeError):
                raise ApiError(reply.status_code, "http_error", reply.text[:200]) from None
        if self.on_answered:
            self.on_answered()
        return reply.json() if reply.content else None

    async def get(self, path: str, **params: Any) -> Any:
        return await self.call(
            "GET", path, params={k: v for k, v in params.items() if v not in (None, "")}
        )

    async def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return await self.call("POST", path, json=body)

    async def put(self, path: str, body: dict[str, Any]) -> Any:
        return await self.call("PUT", path, json=body)

    async def login(self, username: str, password: str) -> None:
        data = await self.post("/session", {"username": username, "password": password})
        self.token = data["token"]
        self.username, self.role = data["staff"]["username"], data["staff"]["role"]
        self.timezone = ZoneInfo(data["shop_timezone"])
        self.currency = data["currency"]
        self.refused = data.get("refused", {})

    def needs(self, endpoint: str) -> str | None:
        """The role an endpoint ("PUT /stock/{sku}/threshold") needs that this staff member
        lacks, as the shop said at log-in; None when they may call it."""
        return self.refused.get(endpoint)

    async def logout(self) -> None:
        if self.token:
            try:
                await self.call("DELETE", "/session")
            finally:
                self.token = None

    async def orders(
        self,
        *,
        status: str | None = None,
        q: str | None = None,
        dispatch: str | None = None,
        page: int = 1,
        per_page: int = 50,
    ) -> dict[str, Any]:
        return await self.get(  # type: ignore[no-any-return]
            "/orders", status=status, q=q, dispatch=dispatch, page=page, per_page=per_page
        )

    async def dashboard(self) -> dict[str, Any]:
        return await self.get("/orders/dashboard")  # type: ignore[no-any-return]

    async def kpis(self, *, days: int) -> dict[str, Any]:
        """The KPIs of the last ``days`` days up to today, with each day's figures."""
        return await self.get("/reports/kpis", days=days)  # type: ignore[no-any-return]

    async def order(self, number: str) -> dict[str, Any]:
        return await self.get(f"/orders/{number}")  # type: ignore[no-any-return]

    async def order_action(
        self, number: str, path: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return await self.post(f"/orders/{number}/{path}", body)  # type: ignore[no-any-return]

    async def stock(
        self, *, q: str | None = None, low: bool = False, page: int = 1, per_page: int = 100
    ) -> dict[str, Any]:
        return await self.get(  # type: ignore[no-any-return]
            "/stock", q=q, low="true" if low else None, page=page, per_page=per_page
        )

    async def receive(self, sku: str, quantity: int, reference: str) -> dict[str, Any]:
        return await self.post(  # type: ignore[no-any-return]
            f"/stock/{sku}/receipts", {"quantity": quantity, "reference": reference}
        )

    async def ledger(self, sku: str) -> dict[str, Any]:
        return await self.get(f"/stock/{sku}/ledger")  # type: ignore[no-any-return]
