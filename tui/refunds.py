"""Refunds the shop owes (a cancelled paid order, a card payment that came after its order was
cancelled), oldest first; a manager settles one: a card refund goes back through the payment
gateway, a bank transfer or cash is paid out by hand and recorded here. Either way the
confirmation shows the amount, whom it goes to and how."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from tui.client import ApiError
from tui.common import client_of, report, say
from tui.dialogs import ConfirmDialog
from tui.format import money, when
from tui.pane import highlighted
from tui.tasks import TaskScreen

METHODS = {"card": "card", "bank_transfer": "bank transfer", "cod": "cash"}


def how_paid_out(method: str) -> str:
    """What settling does with the money, in the words the confirmation uses."""
    if method == "card":
        return "sent back to the card through the payment gateway"
    return f"paid back by {METHODS.get(method, method)} by hand — this records that it was sent"


class RefundsScreen(TaskScreen):
    BINDINGS = [
        Binding("s", "settle", "Settle", id="refunds.settle"),
        Binding("s", "why_not", "Settle", show=False, id="refunds.settle"),
        Binding("c", "toggle_done", "Settled/owed", id="refunds.toggle_done"),
        Binding("ctrl+r", "reload", "Reload", id="refunds.reload"),
    ]
    DEFAULT_CSS = """
    RefundsScreen #refund-table { height: 1fr; }
    RefundsScreen #refund-detail { height: 3; border-top: solid $accent; }
    """
    TITLE_TEXT = "refunds owed"

    def __init__(self) -> None:
        super().__init__()
        self.status = "pending"
        self.refunds: dict[str, dict[str, Any]] = {}

    def body(self) -> ComposeResult:
        yield DataTable(id="refund-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="refund-detail", markup=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#refund-table", DataTable).add_columns(
            "#", "order", "since", "method", "amount"
        )
        self.load()

    @property
    def table(self) -> DataTable:  # type: ignore[type-arg]
        return self.query_one("#refund-table", DataTable)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Settling moves money: a manager's. A clerk sees the list; `s` says why not.
        manager = client_of(self).can("manager")
        if action == "settle":
            return manager and self.status == "pending"
        if action == "why_not":
            return not manager or self.status != "pending"
        return True

    def action_why_not(self) -> None:
        if self.status != "pending":
            say(self, "these are settled already; c shows the ones owed", error=True)
        else:
            say(self, "refused: settling needs the manager role (forbidden)", error=True)

    def action_reload(self) -> None:
        self.load()

    def action_toggle_done(self) -> None:
        self.status = "completed" if self.status == "pending" else "pending"
        self.title = "refunds owed" if self.status == "pending" else "refunds settled"
        self.refresh_bindings()
        self.load()

    @work(exclusive=True, group="refunds")
    async def load(self) -> None:
        await self.fill()

    async def fill(self) -> None:
        client = client_of(self)
        try:
            items = await client.get("/orders/refunds", status=self.status)
        except ApiError as exc:
            report(self, exc, prefix="")
            return
        keep = highlighted(self.table)
        self.refunds = {str(r["id"]): r for r in items}
        table = self.table
        table.clear()
        for r in items:
            table.add_row(
                str(r["id"]),
                r["order_number"],
                when(r["created_at"], client.timezone),
                METHODS.get(r["method"], r["method"]),
                money(r["amount"], r["currency"]),
                key=str(r["id"]),
            )
        if keep in self.refunds:
            table.move_cursor(row=table.get_row_index(keep))
        total = sum(r["amount"] for r in items)
        owed = "owed" if self.status == "pending" else "settled"
        say_line = f"{len(items)} refunds {owed}" + (
            f", {money(total, client.currency)} in all" if items else ""
        )
        self.query_one("#message", Static).update(say_line)
        self.show_detail()
        table.focus()

    @on(DataTable.RowHighlighted, "#refund-table")
    def show_detail(self) -> None:
        r = self.refunds.get(highlighted(self.table) or "")
        text = (
            f"#{r['id']} {r['order_number']}: {r['reason']}\nrecorded by {r['created_by']}"
            if r
            else ""
        )
        self.query_one("#refund-detail", Static).update(text)

    @work(exclusive=True, group="refund-settle")
    async def action_settle(self) -> None:
        r = self.refunds.get(highlighted(self.table) or "")
        if r is None:
            say(self, "no refund is owed", error=True)
            return
        amount = money(r["amount"], r["currency"])
        question = (
            f"Settle refund #{r['id']} of order {r['order_number']}: {amount} "
            f"{how_paid_out(r['method'])}.\nReason: {r['reason']}"
        )
        if not await self.app.push_screen_wait(ConfirmDialog(question, ok=f"Refund {amount}")):
            return
        try:
            await client_of(self).post(
                f"/orders/{quote(r['order_number'])}/refunds/{r['id']}/settle"
            )
        except ApiError as exc:
            report(self, exc)
            await self.fill()
            return
        await self.fill()
        say(self, f"refund #{r['id']} settled: {amount} to {r['order_number']}")
