"""Stock: SKUs with on-hand, reserved, available and threshold; the low-stock list; goods
received; a manager's adjustments and thresholds; a SKU's ledger; and stocktakes — type the
counts, review the differences, post them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static

from tui.client import ApiError
from tui.common import client_of, report, say, waiting_line
from tui.dialogs import ConfirmDialog, FormDialog
from tui.format import when
from tui.pane import PAGE_BINDINGS, SEARCH_BINDING, TablePane

ADJUST_REASONS = ("damage", "loss", "found", "adjustment")


def whole_number(text: str, *, signed: bool = False) -> int | None:
    body = text[1:] if signed and text[:1] in "+-" else text
    return int(text) if body.isdigit() else None


class StockPane(TablePane):
    BINDINGS = [
        SEARCH_BINDING,
        Binding("l", "low", "Low stock", id="stock.low"),
        Binding("r", "receive", "Receive", id="stock.receive"),
        Binding("j", "adjust", "Adjust", id="stock.adjust"),
        Binding("j", "why_not('adjust')", "Adjust", show=False, id="stock.adjust"),
        Binding("h", "threshold", "Threshold", id="stock.threshold"),
        Binding("h", "why_not('threshold')", "Threshold", show=False, id="stock.threshold"),
        Binding("k", "stocktake", "Stocktake", id="stock.stocktake"),
        *PAGE_BINDINGS,
    ]
    TABLE = "stock-table"
    SEARCH = "stock-search"
    PER_PAGE = 100
    ENDPOINTS = {
        "adjust": "POST /stock/{sku}/adjustments",
        "threshold": "PUT /stock/{sku}/threshold",
    }
    DEFAULT_CSS = """
    StockPane { height: 1fr; }
    StockPane #stock-table { height: 1fr; }
    StockPane #ledger { height: auto; max-height: 10; border-top: solid $accent; }
    """

    def __init__(self) -> None:
        super().__init__(id="stock-pane")
        self.low = False

    def compose(self) -> ComposeResult:
        yield Input(placeholder="/ SKU or product", id="stock-search")
        yield DataTable(id="stock-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="ledger", markup=False)

    def on_mount(self) -> None:
        self.query_one("#stock-table", DataTable).add_columns(
            "sku", "product", "on hand", "reserved", "available", "threshold"
        )

    async def load(self) -> None:
        table = self.table
        try:
            data = await client_of(self).stock(
                q=self.query_text or None, low=self.low, page=self.page, per_page=self.PER_PAGE
            )
        except ApiError as exc:
            report(self, exc, prefix="")
            return
        keep = self.selected()
        table.clear()
        for s in data["items"]:
            table.add_row(
                s["sku"],
                s["product"],
                str(s["on_hand"]),
                str(s["reserved"]),
                str(s["available"]) + (" LOW" if s["low"] else ""),
                str(s["threshold"]),
                key=s["sku"],
            )
        self.loaded(keep, data["total"])

    @on(DataTable.RowHighlighted, "#stock-table")
    def on_row(self) -> None:
        self.run_worker(self.show_ledger(self.selected()), group="ledger", exclusive=True)

    async def show_ledger(self, sku: str | None) -> None:
        if not sku:
            return
        try:
            data = await client_of(self).ledger(sku)
        except ApiError as exc:
            report(self, exc, prefix="")
            return
        tz = client_of(self).timezone
        rows = "\n".join(
            f"  {when(m['at'], tz)}  {m['delta']:+d}  {m['reason']:<10} "
            f"→ {m['on_hand_after']}  {m['actor']}  {m['reference'] or ''}"
            for m in data["items"][:8]
        )
        self.query_one("#ledger", Static).update(
            f"{sku}: on hand {data['on_hand']}, ledger sum {data['ledger_sum']}\n{rows}"
        )

    def action_low(self) -> None:
        self.low, self.page = not self.low, 1
        self.start_load()
        say(self, "stock: low only" if self.low else "stock: all SKUs")

    async def _level_changed(self, sku: str, on_hand: int) -> None:
        await self.load()
        await self.show_ledger(sku)
        self.screen.data_changed(self)  # type: ignore[attr-defined]
        say(self, f"{sku}: on hand now {on_hand}")

    async def _form(
        self,
        title: str,
        fields: list[tuple[str, str]],
        ok: str,
        send: Callable[[dict[str, str]], Awaitable[str | None]],
        required: frozenset[str],
    ) -> bool:
        """The form, open until the shop accepts it (a refusal is shown in it); whether it
        was sent."""
        values = await self.app.push_screen_wait(
            FormDialog(title, fields, ok=ok, send=send, required=required)
        )
        return values is not None

    @work(exclusive=True, group="stock")
    async def action_receive(self) -> None:
        sku = self.selected()
        if not sku:
            return
        done: dict[str, Any] = {}

        async def send(values: dict[str, str]) -> str | None:
            quantity = whole_number(values["quantity"])
            if not quantity:
                return "the quantity is a whole number above 0"
            done.update(await client_of(self).receive(sku, quantity, values["reference"]))
            return None

        if await self._form(
            f"Receive goods for {sku}",
            [("quantity", "quantity"), ("reference", "delivery note / PO")],
            "Receive",
            send,
            frozenset({"quantity"}),
        ):
            await self._level_changed(sku, done["on_hand"])

    @work(exclusive=True, group="stock")
    async def action_adjust(self) -> None:
        sku = self.selected()
        if not sku:
            return
        done: dict[str, Any] = {}

        async def send(values: dict[str, str]) -> str | None:
            delta = whole_number(values["delta"], signed=True)
            if not delta:
                return "the change is a whole number like -2 or +1"
            done.update(
                await client_of(self).post(
                    f"/stock/{sku}/adjustments",
                    {"delta": delta, "reason": values["reason"], "note": values["note"]},
                )
            )
            return None

        if await self._form(
            f"Adjust {sku}",
            [
                ("delta", "change, e.g. -2 or +1"),
                ("reason", " / ".join(ADJUST_REASONS)),
                ("note", "note"),
            ],
            "Adjust",
            send,
            frozenset({"delta", "reason"}),
        ):
            await self._level_changed(sku, done["on_hand"])

    @work(exclusive=True, group="stock")
    async def action_threshold(self) -> None:
        sku = self.selected()
        if not sku:
            return
        done: dict[str, int] = {}

        async def send(values: dict[str, str]) -> str | None:
            threshold = whole_number(values["threshold"])
            if threshold is None:
                return "the threshold is a whole number"
            await client_of(self).put(f"/stock/{sku}/threshold", {"threshold": threshold})
            done["threshold"] = threshold
            return None

        if await self._form(
            f"Low-stock threshold for {sku}",
            [("threshold", "units")],
            "Set",
            send,
            frozenset({"threshold"}),
        ):
            await self.load()
            say(self, f"{sku}: low at {done['threshold']} or fewer")

    @work(exclusive=True, group="stock")
    async def action_stocktake(self) -> None:
        client = client_of(self)
        try:
            takes = await client.get("/stocktakes")
            take = next((t for t in takes if t["status"] == "open"), None)
            if take is None:
                if not await self.app.push_screen_wait(
                    ConfirmDialog("Start a stocktake? Counts are typed in, then posted.")
                ):
                    return
                take = await client.post("/stocktakes", {"note": f"by {client.username}"})
        except ApiError as exc:
            report(self, exc)
            return
        await self.app.push_screen_wait(StocktakeScreen(take))
        await self.load()


class StocktakeScreen(Screen[None]):
    """Type a SKU and its count (Enter records it); the table shows each count against the
    books and the difference posting will write."""

    BINDINGS = [
        Binding("escape", "leave", "Back (keeps it open)", id="stocktake.back"),
        Binding("ctrl+o", "post", "Post", priority=True, id="stocktake.post"),
        Binding("ctrl+o", "why_not_post", "Post", show=False, priority=True, id="stocktake.post"),
        Binding("ctrl+x", "abandon", "Cancel stocktake", priority=True, id="stocktake.cancel"),
    ]
    DEFAULT_CSS = """
    StocktakeScreen #count-bar { height: 3; }
    StocktakeScreen #count-sku { width: 1fr; }
    StocktakeScreen #count-qty { width: 16; }
    StocktakeScreen #count-table { height: 1fr; }
    StocktakeScreen #message { height: auto; max-height: 3; color: $warning; }
    """

    def __init__(self, take: dict[str, Any]) -> None:
        super().__init__()
        self.take = take

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="count-bar"):
            yield Input(placeholder="SKU", id="count-sku")
            yield Input(placeholder="counted", id="count-qty")
        yield DataTable(id="count-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="message", markup=False)
        yield waiting_line()
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.title = f"stocktake #{self.take['id']}"
        self.query_one("#count-table", DataTable).add_columns(
            "sku", "counted", "books", "difference"
        )
        self.show(self.take)
        self.query_one("#count-sku", Input).focus()

    POST = "POST /stocktakes/{take_id}/post"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return action != "post" or client_of(self).needs(self.POST) is None

    def action_why_not_post(self) -> None:
        role = client_of(self).needs(self.POST)
        say(self, f"refused: posting a stocktake needs the {role} role (forbidden)", error=True)

    def show(self, take: dict[str, Any]) -> None:
        self.take = take
        table = self.query_one("#count-table", DataTable)
        table.clear()
        for line in take["lines"]:
            table.add_row(
                line["sku"],
                str(line["counted"]),
                str(line["on_hand"]),
                f"{line['difference']:+d}" if line["difference"] else "0",
                key=line["sku"],
            )
        off = [ln for ln in take["lines"] if ln["difference"]]
        say(self, f"{len(take['lines'])} SKUs counted, {len(off)} differ from the books")

    @on(Input.Submitted, "#count-sku")
    def to_count(self) -> None:
        self.query_one("#count-qty", Input).focus()

    @on(Input.Submitted, "#count-qty")
    @work(exclusive=True, group="count")
    async def record(self) -> None:
        sku_input = self.query_one("#count-sku", Input)
        qty_input = self.query_one("#count-qty", Input)
        counted = whole_number(qty_input.value.strip())
        if not sku_input.value.strip() or counted is None:
            say(self, "type a SKU and the whole number counted", error=True)
            return
        try:
            take = await client_of(self).put(
                f"/stocktakes/{self.take['id']}/counts",
                {"counts": [{"sku": sku_input.value.strip(), "counted": counted}]},
            )
        except ApiError as exc:
            report(self, exc)
            return
        self.show(take)
        sku_input.value = qty_input.value = ""
        sku_input.focus()

    def action_leave(self) -> None:
        self.dismiss(None)

    @work(exclusive=True)
    async def action_post(self) -> None:
        off = [ln for ln in self.take["lines"] if ln["difference"]]
        summary = ", ".join(f"{ln['sku']} {ln['difference']:+d}" for ln in off[:12]) or "none"
        if not await self.app.push_screen_wait(
            ConfirmDialog(f"Post stocktake #{self.take['id']}? Differences: {summary}", "Post")
        ):
            return
        try:
            take = await client_of(self).post(f"/stocktakes/{self.take['id']}/post")
        except ApiError as exc:
            report(self, exc)
            return
        self.app.notify(f"stocktake #{take['id']} posted: {len(off)} SKUs corrected")
        self.dismiss(None)

    @work(exclusive=True)
    async def action_abandon(self) -> None:
        if not await self.app.push_screen_wait(
            ConfirmDialog(f"Cancel stocktake #{self.take['id']}? Nothing is posted.")
        ):
            return
        try:
            await client_of(self).post(f"/stocktakes/{self.take['id']}/cancel")
        except ApiError as exc:
            report(self, exc)
            return
        self.dismiss(None)
