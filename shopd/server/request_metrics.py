"""Litestar's Prometheus request metrics, the same series with the same labels, for less CPU.

Litestar's middleware built a ``Request`` and a label dictionary for every request and asked
prometheus_client for each series' child four times (each ask takes a lock and checks its
arguments). Here the labels come from the scope and each label set's children are looked up
once per worker. Configurations this does not cover (extra labels, exemplars, excluded
methods, websockets) go through Litestar's own code. A HEAD request is counted as HEAD,
which Litestar's middleware cannot do: it reaches the app as a GET (``head_requests``).

Measured against Litestar 2.25.0's own ``PrometheusMiddleware``, in process (``python -m
benchmarks.response_cost``, five alternating runs, 2026-12-07): it cost 22-28 us more per
``/healthz`` response (47-60 us with this one) and 12-43 us more per cached product API response
(112-156 us). Written against Litestar 2.25.0, whose internals it uses (``_config``, the
``request_count``/``request_time``/``requests_in_progress``/``requests_error_count`` factories
and the order of the default labels), hence ``litestar<2.26`` in ``pyproject.toml``.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from typing import Any

from litestar.enums import ScopeType
from litestar.plugins.prometheus import PrometheusMiddleware
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from shopd.http import HEAD_KEY

MAX_CHILDREN = 10_000  # path templates and statuses are few; a bound all the same


class RequestMetrics(PrometheusMiddleware):
    def __init__(self, app: ASGIApp, config: Any) -> None:
        super().__init__(app, config)
        self._children: dict[Hashable, Any] = {}

    def _child(self, kind: str, method: str, path: str, status: int) -> Any:
        key = (kind, method, path, status)
        child = self._children.get(key)
        if child is None:
            # The order of Litestar's default labels: the series' label names come from it.
            labels = {
                "method": method,
                "path": path,
                "status_code": status,
                "app_name": self._config.app_name,
            }
            metric = {
                "progress": self.requests_in_progress,
                "count": self.request_count,
                "seconds": self.request_time,
                "errors": self.requests_error_count,
            }[kind](labels)
            child = metric.labels(*labels.values())
            if len(self._children) < MAX_CHILDREN:
                self._children[key] = child
        return child

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        config = self._config
        if (
            scope["type"] != ScopeType.HTTP
            or config.labels
            or config.exemplars
            or config.excluded_http_methods
        ):
            await super().__call__(scope, receive, send)
            return
        # A HEAD reaches the app as a GET (shopd.server.head_requests); it is counted as what it was.
        method: str = "HEAD" if scope.get(HEAD_KEY) else scope["method"]
        path: str = scope["path_template"] if config.group_path else scope["path"]
        status, duration = 200, 0.0
        started = time.perf_counter()

        async def timed_send(message: Message) -> None:
            nonlocal status, duration
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                duration = time.perf_counter() - started
            await send(message)

        # In progress is counted under status 200, as Litestar does, before any response.
        progress = self._child("progress", method, path, 200)
        progress.inc()
        try:
            await self.app(scope, receive, timed_send)
        finally:
            progress.dec()
            if status >= HTTP_500_INTERNAL_SERVER_ERROR:
                self._child("errors", method, path, status).inc()
            self._child("count", method, path, status).inc()
            self._child("seconds", method, path, status).observe(duration)
