"""Customers: look one up by name, e-mail, phone or an order's number, and see their orders,
addresses, notes, membership level and points; a clerk adds a note."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Input, Static

from tui.client import ApiError
from tui.common import client_of, report, say
from tui.dialogs import FormDialog
from tui.format import money, when
from tui.pane import highlighted
from tui.tasks import TaskScreen, status

# An order number as the shop writes it (date, dash, ten base32 characters).
ORDER_NUMBER = re.compile(r"^\d{8}-[0-9A-Z]{10}$")
ORDERS_SHOWN = 10


def customer_text(
    detail: dict[str, Any], standing: dict[str, Any] | None, tz: ZoneInfo, currency: str
) -> str:
    c = detail["customer"]
    state = "active" if c["active"] else "disabled"
    if c["flagged"]:
        state += f", flagged: {c['flag_reason']}"
    out = [
        f"#{c['id']} {c['name']}  {c['email']}  {c['phone'] or 'no phone'}",
        f"since {when(c['registered_at'], tz)} · {state}",
    ]
    if standing is not None:
        nxt = (
            f" · {money(standing['next_level_at'] - standing['lifetime_spend'], currency)} "
            f"to {standing['next_level']}"
            if standing["next_level"] and standing["next_level_at"] is not None
            else ""
        )
        out.append(
            f"member: {standing['level']} ({standing['discount_percent']}% off) · "
            f"{standing['points']} points · spent {money(standing['lifetime_spend'], currency)}"
            + nxt
        )
    orders = detail["orders"]
    out += ["", f"orders ({len(orders)}):"]
    out += [
        f"  {o['number']}  {when(o['placed_at'], tz)}  {o['status']:<16} "
        f"{money(o['total'], o['currency'])}"
        for o in orders[:ORDERS_SHOWN]
    ] or ["  none"]
    if len(orders) > ORDERS_SHOWN:
        out.append(f"  … and {len(orders) - ORDERS_SHOWN} older")
    out += ["", "addresses:"]
    out += [
        f"  {'* ' if a['is_default'] else ''}{a['recipient']}  {a['phone']}  "
        f"{a['region']} {a['city']} {a['line1']} {a['line2']} {a['postcode']}".rstrip()
        for a in detail["addresses"]
    ] or ["  none"]
    out += ["", "notes:"]
    out += [f"  {when(n['at'], tz)} {n['author']}: {n['body']}" for n in detail["notes"]] or [
        "  none"
    ]
    return "\n".join(out)


class CustomersScreen(TaskScreen):
    BINDINGS = [
        Binding("slash", "search", "Search", key_display="/", id="customers.search"),
        Binding("n", "note", "Note", id="customers.note"),
    ]
    DEFAULT_CSS = """
    CustomersScreen #customer-table { height: auto; max-height: 6; }
    CustomersScreen #customer-scroll { height: 1fr; border-top: solid $accent; }
    """
    TITLE_TEXT = "customers"

    def __init__(self) -> None:
        super().__init__()
        self.shown: int | None = None

    def body(self) -> ComposeResult:
        yield Input(placeholder="/ name, e-mail, phone or order number", id="customer-search")
        yield DataTable(id="customer-table", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="customer-scroll"):
            yield Static(
                "type a name, e-mail, phone or order number",
                id="customer-detail",
                markup=False,
            )

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#customer-table", DataTable).add_columns("id", "name", "e-mail", "phone")
        self.query_one("#customer-search", Input).focus()

    @property
    def table(self) -> DataTable:  # type: ignore[type-arg]
        return self.query_one("#customer-table", DataTable)

    def action_search(self) -> None:
        self.query_one("#customer-search", Input).focus()

    @on(Input.Submitted, "#customer-search")
    def submitted(self, event: Input.Submitted) -> None:
        self.look_up(event.value.strip())

    @work(exclusive=True, group="customer-search")
    async def look_up(self, text: str) -> None:
        if not text:
            return
        client = client_of(self)
        found: list[dict[str, Any]] = []
        via = ""
        try:
            if ORDER_NUMBER.match(text.upper()):
                found, via = await self._by_order(text.upper())
            if not found:
                data = await client.get("/customers", q=text, per_page=50)
                found = data["items"]
        except ApiError as exc:
            report(self, exc, prefix="")
            return
        table = self.table
        table.clear()
        for c in found:
            table.add_row(str(c["id"]), c["name"], c["email"], c["phone"] or "", key=str(c["id"]))
        if not found:
            self.shown = None
            self.query_one("#customer-detail", Static).update(via or f"no customer matches {text}")
            status(self, f"no customer matches '{text}'")
            return
        matches = "1 customer matches" if len(found) == 1 else f"{len(found)} customers match"
        status(self, f"{matches} '{text}'{via} · Tab: the details")
        table.focus()
        await self.show(int(found[0]["id"]))

    async def _by_order(self, number: str) -> tuple[list[dict[str, Any]], str]:
        """The customer who placed this order; a guest's order says so (no account)."""
        client = client_of(self)
        try:
            order = await client.get(f"/orders/{quote(number)}")
        except ApiError as exc:
            if exc.code == "order_not_found":
                return [], ""
            raise
        if order["customer_id"] is None:
            return [], f"order {number} was placed as a guest ({order['email']}, {order['phone']})"
        detail = await client.get(f"/customers/{order['customer_id']}")
        return [detail["customer"]], f" (placed order {number})"

    @on(DataTable.RowHighlighted, "#customer-table")
    async def highlighted_row(self) -> None:
        key = highlighted(self.table)
        if key is not None and int(key) != self.shown:
            self.load_detail(int(key))

    @work(exclusive=True, group="customer-detail")
    async def load_detail(self, customer_id: int) -> None:
        await self.show(customer_id)

    async def show(self, customer_id: int) -> None:
        client = client_of(self)
        try:
            detail = await client.get(f"/customers/{customer_id}")
            standing = await client.get(f"/customers/{customer_id}/membership")
        except ApiError as exc:
            report(self, exc, prefix="")
            return
        self.shown = customer_id
        self.query_one("#customer-detail", Static).update(
            customer_text(detail, standing, client.timezone, client.currency)
        )

    @work(exclusive=True, group="customer-note")
    async def action_note(self) -> None:
        if self.shown is None:
            say(self, "look a customer up first", error=True)
            return
        customer_id = self.shown
        values = await self.app.push_screen_wait(
            FormDialog(f"Note on customer #{customer_id}", [("body", "note")], ok="Add note")
        )
        if not values or not values["body"]:
            return
        try:
            await client_of(self).post(f"/customers/{customer_id}/notes", {"body": values["body"]})
        except ApiError as exc:
            report(self, exc)
            return
        await self.show(customer_id)
        say(self, f"note added to customer #{customer_id}")
