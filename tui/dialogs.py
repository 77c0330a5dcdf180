"""Modal dialogs: a small form, and a yes/no confirmation. Escape always backs out.

Two rules every dialog keeps, so that keys typed fast or by mistake change nothing:

- An answer (Enter, `y`) counts only when typed after the dialog was on screen. Keys typed
  ahead — a scanner's burst, a name typed on the table without `/` first — fill the fields
  (``tui.typeahead`` puts them there) but do not submit what the staff member has not seen.
- A form that sends something to the shop stays open until the shop has accepted it: a refusal
  is shown inside the form, with everything typed kept, and the request can be cancelled
  (Escape) while it waits."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, LoadingIndicator, Static
from textual.worker import Worker, WorkerState

from tui.client import ApiError

DIALOG_CSS = """
    {name} {{ align: center middle; }}
    {name} > Vertical {{ width: 64; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; padding: 0 1; background: $surface; }}
    {name} Horizontal {{ height: auto; margin-top: 1; }}
    {name} Input {{ margin: 0; }}
    {name} .hint {{ color: $text-muted; }}
    {name} .error {{ color: $error; }}
    {name} LoadingIndicator {{ height: 1; }}
"""

# A form's send: the values typed → None when the shop accepted them, else what to show.
Send = Callable[[dict[str, str]], Awaitable[str | None]]


T = TypeVar("T")


class Dialog(ModalScreen[T]):
    """What every dialog shares: answers typed before it was shown are not answers."""

    ANSWER_KEYS: frozenset[str] = frozenset({"enter"})

    def __init__(self) -> None:
        super().__init__()
        self.shown_at = float("inf")

    def on_mount(self) -> None:
        self.shown_at = time.monotonic()

    def on_key(self, event: events.Key) -> None:
        if event.key in self.ANSWER_KEYS and event.time < self.shown_at:
            event.stop()
            event.prevent_default()
            self.typed_ahead(event.key)

    def typed_ahead(self, key: str) -> None:
        for hint in self.query(".hint").results(Static):
            name = key if len(key) == 1 else key.capitalize()
            hint.update(f"{name} was typed before this opened — read it, then press {name}")


class FormDialog(Dialog[dict[str, str] | None]):
    """Each field an input. Enter moves to the next field, and in the last one confirms (as
    OK does). The fields named in ``required`` must be filled in.

    With ``send`` the form stays open until the shop accepts: a refusal is shown under the
    fields, nothing typed is lost, and Escape cancels a request still waiting."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]
    DEFAULT_CSS = DIALOG_CSS.format(name="FormDialog")

    def __init__(
        self,
        title: str,
        fields: list[tuple[str, str]],
        ok: str = "OK",
        values: dict[str, str] | None = None,
        *,
        send: Send | None = None,
        required: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__()
        self.title_text = title
        self.fields = fields
        self.ok = ok
        self.values = values or {}
        self.send = send
        self.required = required
        self.sending: Worker[str | None] | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, markup=False)
            for name, placeholder in self.fields:
                yield Input(
                    self.values.get(name, ""),
                    placeholder=placeholder,
                    id=f"field-{name}",
                    tooltip=placeholder,
                )
            yield Static("", id="form-error", classes="error", markup=False)
            yield LoadingIndicator(id="form-waiting")
            yield Static("", classes="hint", markup=False)
            with Horizontal():
                yield Button(self.ok, variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#form-waiting").display = False

    def _values(self) -> dict[str, str]:
        return {n: self.query_one(f"#field-{n}", Input).value.strip() for n, _ in self.fields}

    def error(self, text: str) -> None:
        self.query_one("#form-error", Static).update(text)

    @on(Input.Submitted)
    def next_or_confirm(self, event: Input.Submitted) -> None:
        names = [n for n, _ in self.fields]
        at = names.index(str(event.input.id).removeprefix("field-"))
        if at + 1 < len(names):
            self.query_one(f"#field-{names[at + 1]}", Input).focus()
        else:
            self.confirm()

    @on(Button.Pressed, "#ok")
    def confirm(self) -> None:
        if self.sending is not None and self.sending.is_running:
            return
        values = self._values()
        missing = [n for n, _ in self.fields if not values[n] and n in self.required]
        if missing:
            self.error(f"fill in: {', '.join(missing)}")
            self.query_one(f"#field-{missing[0]}", Input).focus()
            return
        if self.send is None:
            self.dismiss(values)
            return
        self.error("")
        self.query_one("#form-waiting").display = True
        self.sending = self._send(values)

    @work(exclusive=True, group="form-send")
    async def _send(self, values: dict[str, str]) -> str | None:
        assert self.send is not None
        try:
            problem = await self.send(values)
        except ApiError as exc:
            problem = f"refused: {exc}"
        if problem is None:
            self.dismiss(values)
        else:
            self.query_one("#form-waiting").display = False
            self.error(problem)
        return problem

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is self.sending and event.state == WorkerState.CANCELLED:
            self.query_one("#form-waiting").display = False
            self.error("cancelled — nothing was sent, or the shop did not answer in time")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Escape: first the request still waiting, then the form."""
        if self.sending is not None and self.sending.is_running:
            self.sending.cancel()
            return
        self.dismiss(None)


class ConfirmDialog(Dialog[bool]):
    """A question with what will happen; y (or Enter on the focused button) confirms, n or
    Escape declines."""

    ANSWER_KEYS = frozenset({"enter", "y", "space"})
    BINDINGS = [
        Binding("escape,n", "answer(False)", "No", id="dialog.no"),
        Binding("y", "answer(True)", "Yes", id="dialog.yes"),
    ]
    DEFAULT_CSS = DIALOG_CSS.format(name="ConfirmDialog")

    def __init__(self, question: str, ok: str = "Yes") -> None:
        super().__init__()
        self.question = question
        self.ok = ok

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question, markup=False)
            yield Static("", classes="hint", markup=False)
            with Horizontal():
                yield Button(self.ok, variant="primary", id="ok")
                yield Button("No", id="cancel")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#ok", Button).focus()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "ok")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
