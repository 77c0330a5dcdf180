"""The audit log (managers): every staff action, newest first, filtered by who did it, what
they did and to what; the highlighted entry's before and after below."""

from __future__ import annotations

import json
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, Static

from tui.client import ApiError
from tui.common import client_of, report
from tui.format import when
from tui.pane import highlighted
from tui.tasks import TaskScreen

PER_PAGE = 50
FILTERS = (
    ("who", "who (staff name)"),
    ("action", "what (order.shipped)"),
    ("target", "to (order, SKU…)"),
)


def actor_label(who: str) -> str:
    """The audit log names staff as ``staff:NAME``; a bare name is a staff member's."""
    return who if ":" in who or not who else f"staff:{who}"


def who(actor: str) -> str:
    """A staff member by name; the shop itself (``system:…``) by what acted."""
    return actor.split(":", 1)[-1]


def target(entry: dict[str, Any]) -> str:
    # An order number speaks for itself; other targets say what they are.
    if entry["target_type"] == "order":
        return str(entry["target_id"])
    return f"{entry['target_type']} {entry['target_id']}"


def change_text(entry: dict[str, Any]) -> str:
    def compact(value: Any) -> str:
        return "–" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)

    return (
        f"{entry['action']} {entry['target_type']} {entry['target_id']} "
        f"by {entry['actor']} from {entry['ip'] or '?'}\n"
        f"before: {compact(entry['before'])}\nafter:  {compact(entry['after'])}"
    )


class AuditScreen(TaskScreen):
    BINDINGS = [
        Binding("slash", "filter", "Filter", key_display="/", id="audit.filter"),
        Binding("right_square_bracket", "page(1)", "Next", key_display="]", id="audit.next"),
        Binding("left_square_bracket", "page(-1)", "Prev", key_display="[", id="audit.prev"),
    ]
    DEFAULT_CSS = """
    AuditScreen #audit-bar { height: 3; }
    AuditScreen #audit-bar Input { width: 1fr; }
    AuditScreen #audit-table { height: 1fr; }
    AuditScreen #audit-detail { height: auto; max-height: 7; border-top: solid $accent; }
    """
    TITLE_TEXT = "audit log"

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[str, dict[str, Any]] = {}
        self.page = 1
        self.pages = 1

    def body(self) -> ComposeResult:
        with Horizontal(id="audit-bar"):
            for name, placeholder in FILTERS:
                yield Input(placeholder=placeholder, id=f"audit-{name}")
        yield DataTable(id="audit-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="audit-detail", markup=False)

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one("#audit-table", DataTable)
        # Fixed widths: a long name must not push the target off an 80-column screen.
        for label, width in (("when", 16), ("who", 14), ("what", 19), ("to", None)):
            table.add_column(label, width=width)
        self.query_one("#audit-table", DataTable).focus()
        self.load()

    @property
    def table(self) -> DataTable:  # type: ignore[type-arg]
        return self.query_one("#audit-table", DataTable)

    def filters(self) -> dict[str, str]:
        return {n: self.query_one(f"#audit-{n}", Input).value.strip() for n, _ in FILTERS}

    def action_filter(self) -> None:
        self.query_one("#audit-who", Input).focus()

    @on(Input.Submitted)
    def filtered(self) -> None:
        self.page = 1
        self.load()

    def action_page(self, step: int) -> None:
        page = min(max(self.page + step, 1), self.pages)
        if page != self.page:
            self.page = page
            self.load()

    @work(exclusive=True, group="audit")
    async def load(self) -> None:
        client = client_of(self)
        f = self.filters()
        target_type, target_id = "", f["target"]
        if ":" in target_id:  # "sku:TEE-M" names the kind of target too
            target_type, _, target_id = target_id.partition(":")
        try:
            data = await client.get(
                "/audit",
                who=actor_label(f["who"]),
                action=f["action"],
                target_type=target_type,
                target_id=target_id,
                page=self.page,
                per_page=PER_PAGE,
            )
        except ApiError as exc:
            report(self, exc, prefix="audit log: ")
            return
        table = self.table
        table.clear()
        self.entries = {str(e["id"]): e for e in data["items"]}
        for e in data["items"]:
            table.add_row(
                when(e["at"], client.timezone),
                who(e["actor"]),
                e["action"],
                target(e),
                key=str(e["id"]),
            )
        self.pages = max((data["total"] + PER_PAGE - 1) // PER_PAGE, 1)
        shown = ", ".join(f"{k} {v}" for k, v in f.items() if v) or "everything"
        self.query_one("#message", Static).update(
            f"audit: {shown} · {data['total']} entries · page {self.page}/{self.pages}"
        )
        self.show_entry()
        table.focus()

    @on(DataTable.RowHighlighted, "#audit-table")
    def show_entry(self) -> None:
        e = self.entries.get(highlighted(self.table) or "")
        self.query_one("#audit-detail", Static).update(change_text(e) if e else "")
