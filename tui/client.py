"""The staff API as the TUI sees it: one small async client over httpx. The TUI never opens
the database; everything goes through these calls, so a refusal arrives as the API's own
error code and message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class ApiError(Exception):
    status: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.message} ({self.code})"


class StaffClient:
    def __init__(self, base_url: str, *, transport: httpx.AsyncBaseTransport | None = None):
        self.http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), transport=transport, timeout=30
        )
        self.token: str | None = None
        self.username = ""
        self.role = ""

    async def close(self) -> None:
        await self.http.aclose()

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            reply = await self.http.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise ApiError(0, "unreachable", f"the shop does not answer: {exc}") from None
        if reply.status_code >= 400:
            try:
                error = reply.json()["error"]
                raise ApiError(reply.status_code, error["code"], error["message"])
            except (ValueError, KeyError, TypeError):
                raise ApiError(reply.status_code, "http_error", reply.text[:200]) from None
        return reply.json() if reply.content else None

    async def login(self, username: str, password: str) -> None:
        data = await self._call(
            "POST", "/api/v1/staff/session", json={"username": username, "password": password}
        )
        self.token = data["token"]
        self.username, self.role = data["staff"]["username"], data["staff"]["role"]

    async def logout(self) -> None:
        if self.token:
            try:
                await self._call("DELETE", "/api/v1/staff/session")
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
        params: dict[str, Any] = {"page": page, "per_page": per_page}
        if status:
            params["status"] = status
        if q:
            params["q"] = q
        if dispatch:
            params["dispatch"] = dispatch
        return await self._call("GET", "/api/v1/staff/orders", params=params)  # type: ignore[no-any-return]

    async def dashboard(self) -> dict[str, Any]:
        return await self._call("GET", "/api/v1/staff/orders/dashboard")  # type: ignore[no-any-return]

    async def order(self, number: str) -> dict[str, Any]:
        return await self._call("GET", f"/api/v1/staff/orders/{number}")  # type: ignore[no-any-return]

    async def order_action(
        self, number: str, path: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return await self._call(  # type: ignore[no-any-return]
            "POST", f"/api/v1/staff/orders/{number}/{path}", json=body
        )

    async def stock(
        self, *, q: str | None = None, low: bool = False, page: int = 1
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"page": page, "per_page": 100}
        if q:
            params["q"] = q
        if low:
            params["low"] = "true"
        return await self._call("GET", "/api/v1/staff/stock", params=params)  # type: ignore[no-any-return]

    async def receive(self, sku: str, quantity: int, reference: str) -> dict[str, Any]:
        return await self._call(  # type: ignore[no-any-return]
            "POST",
            f"/api/v1/staff/stock/{sku}/receipts",
            json={"quantity": quantity, "reference": reference},
        )

    async def ledger(self, sku: str) -> dict[str, Any]:
        return await self._call("GET", f"/api/v1/staff/stock/{sku}/ledger")  # type: ignore[no-any-return]
