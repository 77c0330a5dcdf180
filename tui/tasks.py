"""The daily tasks beside the tabs — customers, refunds, the audit log, exports — each a screen
of its own, opened from the main screen by a digit key or from the command palette, and left
with Escape. What those screens share lives here: the frame (header, status line, footer), the
keys that open them and their palette entries."""

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
)
# Opened from MainScreen: the digits continue the tabs' 1–4.
TASK_BINDINGS = [
    Binding(key, f"open_task('{name}')", name.capitalize(), show=False) for key, name, _ in TASKS
]


class TaskScreen(Screen[None]):
    """A task's screen: its own widgets between the header and the status line."""

    BINDINGS = [Binding("escape", "leave", "Back")]
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


def task_screen(name: str) -> TaskScreen:
    # Imported here: each screen module imports this one for TaskScreen.
    if name == "customers":
        from tui.customers import CustomersScreen

        return CustomersScreen()
    if name == "refunds":
        from tui.refunds import RefundsScreen

        return RefundsScreen()
    raise ValueError(name)


class TaskOpener:
    """Mixed into the main screen: the action behind TASK_BINDINGS."""

    app: Any

    def action_open_task(self, name: str) -> None:
        self.app.push_screen(task_screen(name))


def task_commands(node: Any) -> Iterator[SystemCommand]:
    """The palette's entries for the tasks."""
    for key, name, help_text in TASKS:
        open_it: Callable[[], object] = partial(node.action_open_task, name)
        yield SystemCommand(f"{name.capitalize()} ({key})", help_text, open_it)
