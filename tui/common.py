"""What every part of the TUI shares: the API client, the status line, refusals."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.dom import DOMNode
from textual.widgets import Static, TabPane

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


def say(node: DOMNode, text: str, *, error: bool = False, toast: bool = True) -> None:
    """Put a line in the status line of the tab ``node`` is on (shown while that tab is,
    kept for when it is shown again) and, unless ``toast`` is off, a toast in the corner."""
    tab = tab_of(node)
    statuses: dict[str, tuple[str, bool]] | None = getattr(node.screen, "statuses", None)
    if tab is not None and statuses is not None:
        statuses[tab] = (text, error)
        shown = tab == getattr(node.screen, "active_tab", tab)
    else:
        shown = True
    if shown:
        show_status(node.screen, text, error)
    if toast:
        node.app.notify(text, severity="error" if error else "information", markup=False)


def status(node: DOMNode, text: str) -> None:
    """A tab's summary line after a fetch went well: no toast, and it replaces an error the
    tab showed (the shop is answering again)."""
    say(node, text, toast=False)


def tab_of(node: DOMNode) -> str | None:
    """The id of the tab ``node`` is on, or None (a screen of its own)."""
    for ancestor in node.ancestors_with_self:
        if isinstance(ancestor, TabPane):
            return ancestor.id
    return None


def show_status(screen: DOMNode, text: str, error: bool) -> None:
    for line in screen.query("#message").results(Static):
        line.update(text)
        line.set_class(error, "error")


def report(node: DOMNode, exc: ApiError, prefix: str = "refused: ") -> None:
    if isinstance(exc, SessionExpired):
        return  # the app is already back at the log-in screen, saying why
    say(node, f"{prefix}{exc}", error=True)
