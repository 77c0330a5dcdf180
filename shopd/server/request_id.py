"""The id that ties a failed request's answer to its line in the log.

nginx sets ``X-Request-ID`` to its own ``$request_id`` (replacing any a client sent) and logs it
too, so one id names the request in nginx's log, shopd's log and the answer. Without nginx in
front a fresh id is made. Only made when something goes wrong: the happy path pays nothing."""

from __future__ import annotations

import re
import secrets
from typing import Any

from litestar import Request

HEADER = "X-Request-ID"
# What may reach the log line unchanged: no spaces, quotes or line breaks to forge entries with.
_SAFE = re.compile(r"[A-Za-z0-9._-]{1,64}")


def request_id(request: Request[Any, Any, Any]) -> str:
    given = request.headers.get(HEADER, "")
    return given if _SAFE.fullmatch(given) else secrets.token_hex(8)
