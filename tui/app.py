"""The staff TUI: log in, then orders and stock, keyboard first (every action has a key in the
footer), working at 80×24. It talks to the staff API only (``tui.client``)."""

from __future__ import annotations

import contextlib
from typing import Any

import httpx
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.coordinate import Coordinate
from textual.screen import ModalScreen, Screen
from textual.widgets import (
    Button,
    DataTable,
    Footer,
    Header,
    Input,
    Label,
    Static,
    TabbedContent,
    TabPane,
)
from textual.widgets.data_table import RowDoesNotExist

from tui.client import ApiError, StaffClient

PER_PAGE = 50
DASHBOARD_REFRESH_SECONDS = 30


def money(amount: int, currency: str) -> str:
    return f"{currency} {amount / 100:,.2f}"


class FormDialog(ModalScreen[dict[str, str] | None]):
    """A small form: each field an input; Enter or OK confirms, Escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    FormDialog { align: center middle; }
    FormDialog > Vertical { width: 60; height: auto; border: round $accent; padding: 1 2;
        background: $surface; }
    FormDialog Horizontal { height: auto; margin-top: 1; }
    """

    def __init__(self, title: str, fields: list[tuple[str, str]], ok: str = "OK") -> None:
        super().__init__()
        self.title_text = title
        self.fields = fields
        self.ok = ok

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text)
            for name, placeholder in self.fields:
                yield Input(placeholder=placeholder, id=f"field-{name}")
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


class LoginScreen(Screen[None]):
    DEFAULT_CSS = """
    LoginScreen { align: center middle; }
    LoginScreen > Vertical { width: 50; height: auto; border: round $accent; padding: 1 2; }
    #login-error { color: $error; }
    """

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("shopd staff log-in")
            yield Input(placeholder="staff name", id="username")
            yield Input(placeholder="password", password=True, id="password")
            yield Button("Log in", variant="primary", id="login")
            yield Static("", id="login-error")

    @on(Button.Pressed, "#login")
    @on(Input.Submitted)
    async def log_in(self) -> None:
        app: StaffApp = self.app  # type: ignore[assignment]
        name = self.query_one("#username", Input).value.strip()
        password = self.query_one("#password", Input).value
        try:
            await app.client.login(name, password)
        except ApiError as exc:
            self.query_one("#login-error", Static).update(str(exc))
            return
        # Not awaited: the switch waits for this screen to finish handling this very event.
        app.switch_screen(MainScreen())


class MainScreen(Screen[None]):
    BINDINGS = [
        Binding("slash", "search", "Search", key_display="/"),
        Binding("t", "to_ship", "To ship"),
        Binding("a", "all_orders", "All"),
        Binding("p", "picking", "Pick"),
        Binding("s", "ship", "Ship"),
        Binding("c", "cancel_order", "Cancel"),
        Binding("f", "refund", "Refund"),
        Binding("n", "note", "Note"),
        Binding("r", "receive", "Receive"),
        Binding("l", "low_stock", "Low stock"),
        Binding("right_square_bracket", "next_page", "Next page", key_display="]"),
        Binding("left_square_bracket", "prev_page", "Prev page", key_display="["),
        Binding("q", "app.quit", "Quit"),
    ]
    DEFAULT_CSS = """
    #message { height: 1; color: $warning; }
    #order-detail, #ledger { height: auto; max-height: 12; border-top: solid $accent; }
    DataTable { height: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.order_filter: dict[str, str] = {}
        self.order_page = 1
        self.stock_low = False

    @property
    def client(self) -> StaffClient:
        return self.app.client  # type: ignore[attr-defined,no-any-return]

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(initial="orders", id="tabs"):
            with TabPane("Today", id="today"):
                yield Static("", id="dashboard")
            with TabPane("Orders", id="orders"):
                yield Input(placeholder="/ number, e-mail, name or phone", id="order-search")
                yield DataTable(id="order-table", cursor_type="row", zebra_stripes=True)
                yield Static("", id="order-detail")
            with TabPane("Stock", id="stock"):
                yield Input(placeholder="/ SKU or product", id="stock-search")
                yield DataTable(id="stock-table", cursor_type="row", zebra_stripes=True)
                yield Static("", id="ledger")
        yield Static("", id="message")
        yield Footer()

    async def on_mount(self) -> None:
        self.title = f"shopd · {self.client.username} ({self.client.role})"
        orders = self.query_one("#order-table", DataTable)
        orders.add_columns("number", "status", "placed", "recipient", "total", "flag")
        stock = self.query_one("#stock-table", DataTable)
        stock.add_columns("sku", "product", "on hand", "reserved", "available", "threshold")
        await self.load_orders()
        await self.load_stock()
        await self.load_dashboard()
        # The dashboard refreshes on its own; the tables when asked or after an action.
        self.set_interval(DASHBOARD_REFRESH_SECONDS, self.load_dashboard)
        orders.focus()

    def say(self, text: str, *, error: bool = False) -> None:
        self.query_one("#message", Static).update(text)
        self.notify(text, severity="error" if error else "information")

    async def load_dashboard(self) -> None:
        try:
            d = await self.client.dashboard()
        except ApiError as exc:
            self.query_one("#dashboard", Static).update(f"dashboard unavailable: {exc}")
            return
        progress = (
            f"{d['month_progress']:.0%} of {money(d['month_target'], d['currency'])}"
            if d["month_progress"] is not None
            else "no target set"
        )
        self.query_one("#dashboard", Static).update(
            f"today: {d['today_orders']} orders, {money(d['today_sales'], d['currency'])}\n"
            f"to ship: {d['to_ship']}   late (>24 h): {d['late']}   overdue (>48 h): {d['overdue']}\n"
            f"low stock: {d['low_stock']} SKUs\n"
            f"this month: {money(d['month_sales'], d['currency'])} — {progress}"
        )

    # Orders ---------------------------------------------------------------------------------

    async def load_orders(self) -> None:
        table = self.query_one("#order-table", DataTable)
        try:
            data = await self.client.orders(
                page=self.order_page, per_page=PER_PAGE, **self.order_filter
            )
        except ApiError as exc:
            self.say(str(exc), error=True)
            return
        table.clear()
        for o in data["items"]:
            table.add_row(
                o["number"],
                o["status"],
                o["placed_at"][:16].replace("T", " "),
                o["recipient"],
                money(o["total"], o["currency"]),
                o["dispatch_flag"] or "",
                key=o["number"],
            )
        pages = max((data["total"] + PER_PAGE - 1) // PER_PAGE, 1)
        label = ", ".join(f"{k}={v}" for k, v in self.order_filter.items()) or "all"
        self.query_one("#message", Static).update(
            f"orders: {label} · {data['total']} · page {self.order_page}/{pages}"
        )

    def highlighted_key(self, table_id: str) -> str | None:
        """The key (order number, SKU code) of the highlighted row of a table."""
        table = self.query_one(table_id, DataTable)
        if table.row_count == 0:
            return None
        return str(table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value)

    def selected_order(self) -> str | None:
        return self.highlighted_key("#order-table")

    @on(DataTable.RowHighlighted, "#order-table")
    async def show_order(self) -> None:
        number = self.selected_order()
        if number is None:
            return
        try:
            o = await self.client.order(number)
        except ApiError as exc:
            self.say(str(exc), error=True)
            return
        to = o["ship_to"]
        lines = "\n".join(
            f"  {i['quantity']} × {i['name']} {' '.join(i['attributes'].values())} "
            f"({i['sku']})  {money(i['line_total'], o['currency'])}"
            for i in o["items"]
        )
        notes = "\n".join(f"  {n['author']}: {n['body']}" for n in o["notes"])
        self.query_one("#order-detail", Static).update(
            f"{o['number']}  {o['status']}  {money(o['total'], o['currency'])}  "
            f"{o['payment_method']}{'  paid' if o['paid_at'] else ''}\n"
            f"{to['recipient']} {to['phone']} · {to['region']} {to['city']} {to['line1']}\n"
            f"{lines}\n"
            + (f"notes:\n{notes}\n" if notes else "")
            + f"can: {', '.join(o['allowed_actions'])}"
        )

    @on(Input.Submitted, "#order-search")
    async def search_orders(self, event: Input.Submitted) -> None:
        self.order_filter = {"q": event.value.strip()} if event.value.strip() else {}
        self.order_page = 1
        await self.load_orders()
        self.query_one("#order-table", DataTable).focus()

    def action_search(self) -> None:
        tab = self.query_one("#tabs", TabbedContent).active
        self.query_one("#order-search" if tab == "orders" else "#stock-search", Input).focus()

    async def action_to_ship(self) -> None:
        self.order_filter, self.order_page = {"dispatch": "waiting"}, 1
        await self.load_orders()

    async def action_all_orders(self) -> None:
        self.order_filter, self.order_page = {}, 1
        await self.load_orders()

    async def action_next_page(self) -> None:
        self.order_page += 1
        await self.load_orders()

    async def action_prev_page(self) -> None:
        self.order_page = max(self.order_page - 1, 1)
        await self.load_orders()

    async def _act(self, number: str, path: str, body: dict[str, Any] | None, done: str) -> None:
        try:
            await self.client.order_action(number, path, body)
        except ApiError as exc:
            self.say(f"refused: {exc}", error=True)
            return
        await self.load_orders()
        await self.load_dashboard()
        self.say(f"{number}: {done}")

    @work(exclusive=True)
    async def action_picking(self) -> None:
        number = self.selected_order()
        if number:
            await self._act(number, "picking", None, "picking started")

    @work(exclusive=True)
    async def action_ship(self) -> None:
        number = self.selected_order()
        if not number:
            return
        values = await self.app.push_screen_wait(
            FormDialog(
                f"Ship {number}",
                [("carrier", "carrier, e.g. SF Express"), ("tracking", "tracking number")],
                ok="Ship",
            )
        )
        if values:
            await self._act(
                number,
                "ship",
                {"carrier": values["carrier"], "tracking_number": values["tracking"]},
                "shipped",
            )

    @work(exclusive=True)
    async def action_cancel_order(self) -> None:
        number = self.selected_order()
        if not number:
            return
        values = await self.app.push_screen_wait(
            FormDialog(
                f"Cancel {number}? The stock goes back.", [("reason", "reason")], ok="Cancel order"
            )
        )
        if values:
            await self._act(number, "cancel", {"reason": values["reason"]}, "cancelled")

    @work(exclusive=True)
    async def action_refund(self) -> None:
        number = self.selected_order()
        if not number:
            return
        values = await self.app.push_screen_wait(
            FormDialog(
                f"Refund {number}",
                [("reason", "reason"), ("amount", "amount in fen (empty: the returned goods)")],
                ok="Refund",
            )
        )
        if values:
            body: dict[str, Any] = {"reason": values["reason"]}
            if values["amount"]:
                if not values["amount"].isdigit():
                    self.say("the amount is a whole number of fen", error=True)
                    return
                body["amount"] = int(values["amount"])
            await self._act(number, "refunds", body, "refunded")

    @work(exclusive=True)
    async def action_note(self) -> None:
        number = self.selected_order()
        if not number:
            return
        values = await self.app.push_screen_wait(
            FormDialog(f"Note on {number}", [("body", "note")])
        )
        if values and values["body"]:
            await self._act(number, "notes", {"body": values["body"]}, "note added")

    # Stock ------------------------------------------------------------------------------------

    async def load_stock(self, q: str | None = None) -> None:
        table = self.query_one("#stock-table", DataTable)
        try:
            data = await self.client.stock(q=q, low=self.stock_low)
        except ApiError as exc:
            self.say(str(exc), error=True)
            return
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

    def selected_sku(self) -> str | None:
        return self.highlighted_key("#stock-table")

    @on(Input.Submitted, "#stock-search")
    async def search_stock(self, event: Input.Submitted) -> None:
        await self.load_stock(event.value.strip() or None)
        self.query_one("#stock-table", DataTable).focus()

    @on(DataTable.RowHighlighted, "#stock-table")
    async def on_stock_row(self) -> None:
        await self.show_ledger(self.selected_sku())

    async def show_ledger(self, sku: str | None) -> None:
        if not sku:
            return
        try:
            data = await self.client.ledger(sku)
        except ApiError as exc:
            self.say(str(exc), error=True)
            return
        rows = "\n".join(
            f"  {m['at'][:16].replace('T', ' ')}  {m['delta']:+d}  {m['reason']:<10} "
            f"→ {m['on_hand_after']}  {m['actor']}  {m['reference'] or ''}"
            for m in data["items"][:8]
        )
        self.query_one("#ledger", Static).update(
            f"{sku}: on hand {data['on_hand']}, ledger sum {data['ledger_sum']}\n{rows}"
        )

    async def action_low_stock(self) -> None:
        self.stock_low = not self.stock_low
        self.query_one("#tabs", TabbedContent).active = "stock"
        await self.load_stock()

    @work(exclusive=True)
    async def action_receive(self) -> None:
        self.query_one("#tabs", TabbedContent).active = "stock"
        sku = self.selected_sku()
        if not sku:
            return
        values = await self.app.push_screen_wait(
            FormDialog(
                f"Receive goods for {sku}",
                [("quantity", "quantity"), ("reference", "delivery note / PO")],
                ok="Receive",
            )
        )
        if not values:
            return
        if not values["quantity"].isdigit():
            self.say("the quantity is a whole number", error=True)
            return
        try:
            data = await self.client.receive(sku, int(values["quantity"]), values["reference"])
        except ApiError as exc:
            self.say(f"refused: {exc}", error=True)
            return
        await self.load_stock()
        table = self.query_one("#stock-table", DataTable)
        # Reloading moves the cursor to the top; put it back on the SKU just received.
        with contextlib.suppress(RowDoesNotExist):
            table.move_cursor(row=table.get_row_index(sku))
        await self.show_ledger(sku)
        self.say(f"{sku}: on hand now {data['on_hand']}")


class StaffApp(App[None]):
    TITLE = "shopd staff"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", show=False)]

    def __init__(self, base_url: str, *, transport: httpx.AsyncBaseTransport | None = None):
        super().__init__()
        self.client = StaffClient(base_url, transport=transport)

    def on_mount(self) -> None:
        self.push_screen(LoginScreen())

    async def on_unmount(self) -> None:
        # If the shop is gone the token simply expires on its own.
        with contextlib.suppress(ApiError):
            await self.client.logout()
        await self.client.close()
