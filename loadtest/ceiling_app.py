"""The ceiling: one bare Litestar JSON endpoint, served like the shop, to measure what the ASGI
server and the machine can do at all. ``uvicorn loadtest.ceiling_app:app --workers 2``."""

from __future__ import annotations

from litestar import Litestar, get


@get("/ping")
async def ping() -> dict[str, str]:
    return {"status": "ok"}


app = Litestar([ping])
