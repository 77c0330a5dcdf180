"""What every part of the TUI shares: the API client, the status line, refusals."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.dom import DOMNode
from textual.widgets import Static

from tui.client import ApiError, SessionExpired, StaffClient

if TYPE_CHECKING:
    from tui.app import StaffApp


WAITING = "waiting"


def waiting_line() -> Static:
    """The line each screen shows while a request to the shop is under way."""
    line = Static("waiting for the shop … Esc stops waiting", id=WAITING, markup=False)
    line.display = False
    return line


def client_of(node: DOMNode) -> StaffClient:
    app: StaffApp = node.app  # type: ignore[assignment]
    return app.client


def say(node: DOMNode, text: str, *, error: bool = False) -> None:
    """Put a line in the screen's status line and a toast in the corner."""
    for line in node.screen.query("#message").results(Static):
        line.update(text)
    node.app.notify(text, severity="error" if error else "information", markup=False)


def report(node: DOMNode, exc: ApiError, prefix: str = "refused: ") -> None:
    if isinstance(exc, SessionExpired):
        return  # the app is already back at the log-in screen, saying why
    say(node, f"{prefix}{exc}", error=True)
