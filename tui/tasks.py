"""The daily tasks beside the tabs — customers, refunds, the audit log, each a screen of its
own left with Escape, and the exports — opened from the main screen by a digit key (5–9, after
the tabs' 1–4) or from the command palette. What those screens share lives here: the frame
(header, status line, footer), the keys that open them and their palette entries."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

# key, screen name, what the palette says
TASKS: tuple[tuple[str, str, str], ...] = (
    ("5", "customers", "look a customer up: orders, addresses, notes, membership"),
    ("6", "refunds", "refunds owed, settled by a manager"),
    ("7", "audit", "who did what, filtered (managers)"),
)
EXPORTS: tuple[tuple[str, str, str], ...] = (
    ("8", "orders", "the orders placed between two days, for the accountant"),
    ("9", "stock", "every SKU's stock level"),
)
# Opened from MainScreen: the digits continue the tabs' 1–4.
TASK_BINDINGS = [
    *(
        Binding(key, f"open_task('{name}')", name.capitalize(), show=False, id=f"task.{name}")
        for key, name, _ in TASKS
    ),
    *(
        Binding(key, f"export('{what}')", f"Export {what}", show=False, id=f"export.{what}")
        for key, what, _ in EXPORTS
    ),
]


class TaskScreen(Screen[None]):
    """A task's screen: its own widgets between the header and the status line."""

    BINDINGS = [Binding("escape", "leave", "Back", id="task.leave")]
    DEFAULT_CSS = """
    TaskScreen #message { height: 1; color: $warning; }
    """
    TITLE_TEXT = ""

    def compose(self) -> ComposeResult:
        yield Header()
        yield from self.body()
        yield Static("", id="message", markup=False)
        yield Footer(compact=True)

    def body(self) -> ComposeResult:
        raise NotImplementedError

    def on_mount(self) -> None:
        self.title = self.TITLE_TEXT

    def action_leave(self) -> None:
        self.dismiss(None)


def status(node: Any, text: str) -> None:
    """A routine line in the status line only: a toast would cover what was asked for."""
    node.screen.query_one("#message", Static).update(text)


def task_screen(name: str) -> TaskScreen:
    # Imported here: each screen module imports this one for TaskScreen.
    if name == "customers":
        from tui.customers import CustomersScreen

        return CustomersScreen()
    if name == "refunds":
        from tui.refunds import RefundsScreen

        return RefundsScreen()
    if name == "audit":
        from tui.audit import AuditScreen

        return AuditScreen()
    raise ValueError(name)


class TaskOpener:
    """Mixed into the main screen: the action behind TASK_BINDINGS."""

    app: Any

    def action_open_task(self, name: str) -> None:
        self.app.push_screen(task_screen(name))

    def action_export(self, what: str) -> None:
        from tui.exports import export_orders, export_stock

        (export_orders if what == "orders" else export_stock)(self)  # type: ignore[arg-type]


def task_commands(node: Any) -> Iterator[SystemCommand]:
    """The palette's entries for the tasks and the exports."""
    for key, name, help_text in TASKS:
        open_it: Callable[[], object] = partial(node.action_open_task, name)
        yield SystemCommand(f"{name.capitalize()} ({key})", help_text, open_it)
    for key, what, help_text in EXPORTS:
        yield SystemCommand(
            f"Export {what} to CSV ({key})", help_text, partial(node.action_export, what)
        )
