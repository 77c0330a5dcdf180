"""Domain errors. Services raise these; the app turns every one into the same JSON shape:

    {"error": {"code": "out_of_stock", "message": "...", "details": {...}}}

``code`` is part of the public contract: clients branch on it, so never rename one.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(
        self, message: str, *, details: dict[str, Any] | None = None, code: str | None = None
    ):
        super().__init__(message)
        self.message = message
        self.details = details or {}
        if code is not None:
            self.code = code  # type: ignore[misc]

    def to_body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class InvalidInput(DomainError):
    status_code = 400
    code = "invalid_input"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class OutOfStock(Conflict):
    code = "out_of_stock"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class NotAuthenticated(DomainError):
    status_code = 401
    code = "not_authenticated"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


class DatabaseUnavailable(DomainError):
    """The database is down or restarting: nothing was changed; try again shortly."""

    status_code = 503
    code = "database_unavailable"

    def __init__(self, message: str = "the shop cannot reach its database; try again shortly"):
        super().__init__(message)


class Busy(DomainError):
    """The database could not take this change in time: nothing was changed, try again."""

    status_code = 503
    code = "busy"

    def __init__(self, message: str = "the shop is very busy right now; try again in a moment"):
        super().__init__(message)
