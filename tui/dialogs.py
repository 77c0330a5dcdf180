"""Modal dialogs: a small form, and a yes/no confirmation. Enter confirms, Escape cancels."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

DIALOG_CSS = """
    {name} {{ align: center middle; }}
    {name} > Vertical {{ width: 64; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; padding: 0 1; background: $surface; }}
    {name} Horizontal {{ height: auto; margin-top: 1; }}
    {name} Input {{ margin: 0; }}
"""


class FormDialog(ModalScreen[dict[str, str] | None]):
    """Each field an input; Enter in any field or OK confirms."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = DIALOG_CSS.format(name="FormDialog")

    def __init__(
        self,
        title: str,
        fields: list[tuple[str, str]],
        ok: str = "OK",
        values: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.fields = fields
        self.ok = ok
        self.values = values or {}

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text)
            for name, placeholder in self.fields:
                yield Input(
                    self.values.get(name, ""),
                    placeholder=placeholder,
                    id=f"field-{name}",
                    tooltip=placeholder,
                )
            with Horizontal():
                yield Button(self.ok, variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def _values(self) -> dict[str, str]:
        return {n: self.query_one(f"#field-{n}", Input).value.strip() for n, _ in self.fields}

    @on(Button.Pressed, "#ok")
    @on(Input.Submitted)
    def confirm(self) -> None:
        self.dismiss(self._values())

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmDialog(ModalScreen[bool]):
    """A question with what will happen; y or Enter confirms, n or Escape declines."""

    BINDINGS = [
        Binding("escape,n", "answer(False)", "No"),
        Binding("y", "answer(True)", "Yes"),
    ]
    DEFAULT_CSS = DIALOG_CSS.format(name="ConfirmDialog")

    def __init__(self, question: str, ok: str = "Yes") -> None:
        super().__init__()
        self.question = question
        self.ok = ok

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question, markup=False)
            with Horizontal():
                yield Button(self.ok, variant="primary", id="ok")
                yield Button("No", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#ok", Button).focus()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "ok")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
