"""Orders: the list (filtered by status or dispatch, searched, paged from the server), an
order's detail, and every action with a confirmation. Keys are shared by the list and the
detail screen; an action the order's status does not allow is shown dimmed, one the role does
not allow is not shown, and pressing its key says why.

Which actions an order allows, and why not the others, is the server's word: each order comes
with ``allowed_actions`` and ``refused_actions`` for the logged-in staff member. Nothing here
decides it again."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Select, Static

from shopd.orders.statuses import STATUSES
from tui.client import ApiError
from tui.common import client_of, report, say, status, waiting_line
from tui.dialogs import ConfirmDialog, FormDialog
from tui.format import money, parse_money, when
from tui.pane import PAGE_BINDINGS, SEARCH_BINDING, TablePane

FILTERS: list[tuple[str, str]] = [
    ("to ship", "dispatch:waiting"),
    ("late >24 h", "dispatch:late"),
    ("overdue >48 h", "dispatch:overdue"),
    *((s.replace("_", " "), f"status:{s}") for s in STATUSES),
]


@dataclass(frozen=True, slots=True)
class OrderAction:
    name: str  # as in the API's ``allowed_actions`` and ``refused_actions``
    key: str
    label: str
    path: str  # POST /staff/orders/{number}/<path>


ORDER_ACTIONS = {
    a.name: a
    for a in (
        OrderAction("confirm_payment", "b", "Bank paid", "payments"),
        OrderAction("start_picking", "p", "Pick", "picking"),
        OrderAction("ship", "s", "Ship", "ship"),
        OrderAction("deliver", "d", "Delivered", "deliver"),
        OrderAction("cancel", "c", "Cancel", "cancel"),
        OrderAction("note", "n", "Note", "notes"),
        OrderAction("request_return", "e", "Return", "returns"),
        OrderAction("receive_return", "v", "Return in", "returns/receive"),
        OrderAction("refund", "f", "Refund", "refunds"),
    )
}


def order_bindings() -> list[Binding]:
    bindings = []
    for a in ORDER_ACTIONS.values():
        bindings.append(Binding(a.key, f"order('{a.name}')", a.label, id=f"order.{a.name}"))
        # Reached only when the action above is disabled: it says why instead of nothing.
        bindings.append(
            Binding(a.key, f"why_not('{a.name}')", a.label, show=False, id=f"order.{a.name}")
        )
    return bindings


def order_text(o: dict[str, Any], tz: Any) -> str:
    cur = o["currency"]
    to = o["ship_to"]
    out = [
        f"{o['number']}  {o['status']}  {money(o['total'], cur)}  {o['payment_method']}"
        + (f"  paid {when(o['paid_at'], tz)}" if o["paid_at"] else "  unpaid"),
        f"placed {when(o['placed_at'], tz)}"
        + (f" · {o['dispatch_flag']}" if o["dispatch_flag"] else "")
        + (f" · slip printed {when(o['printed_at'], tz)}" if o.get("printed_at") else "")
        + (f" · shipped {o['carrier']} {o['tracking_number']}" if o["shipped_at"] else ""),
        f"to: {to['recipient']}  {to['phone']}  {o['email']}",
        f"    {to['region']} {to['city']} {to['line1']} {to['line2']} {to['postcode']}".rstrip(),
        "",
        "lines:",
    ]
    for i in o["items"]:
        attrs = " ".join(i["attributes"].values())
        back = f" ({i['returned_quantity']} back)" if i["returned_quantity"] else ""
        out.append(
            f"  {i['quantity']} × {i['name']} {attrs} [{i['sku']}]{back}  "
            f"{money(i['line_total'], cur)}"
        )
    out.append(
        f"  subtotal {money(o['subtotal'], cur)} + shipping {money(o['shipping_fee'], cur)}"
        + (f" − discount {money(o['discount'], cur)}" if o["discount"] else "")
        + (f" · refunded {money(o['refunded_total'], cur)}" if o["refunded_total"] else "")
    )
    if o.get("promotions"):
        out.append(
            "  saved: "
            + ", ".join(
                f"{p['kind'].replace('_', ' ')} {p['code']} {money(p['amount'], cur)}".replace(
                    "  ", " "
                )
                for p in o["promotions"]
            )
        )
    if o.get("points_spent") or o.get("points_earned"):
        out.append(f"  points spent {o['points_spent']} · earned {o['points_earned']}")
    if o.get("group_buy"):
        held = o["status"] == "paid" and o["ready_at"] is None
        out.append(f"  group buy #{o['group_buy']}" + (" · held until it succeeds" if held else ""))
    if o["note"]:
        out.append(f"customer note: {o['note']}")
    if o["payments"]:
        out += ["", "payments:"] + [
            f"  {p['method']} {p['status']} {money(p['amount'], p['currency'])} "
            f"{p['external_reference'] or ''} {when(p['created_at'], tz)}"
            for p in o["payments"]
        ]
    if o["refunds"]:
        out += ["", "refunds:"] + [
            f"  #{r['id']} {r['status']} {money(r['amount'], r['currency'])} {r['reason']}"
            for r in o["refunds"]
        ]
    if o["returns"]:
        out += ["", "returns:"] + [
            f"  #{r['id']} {r['status']} {r['reason']}: "
            + ", ".join(f"{ln['quantity']} {ln['sku']}" for ln in r["lines"])
            for r in o["returns"]
        ]
    if o["notes"]:
        out += ["", "notes:"] + [
            f"  {when(n['at'], tz)} {n['author']}: {n['body']}" for n in o["notes"]
        ]
    out += ["", "history:"] + [
        f"  {when(e['at'], tz)} {e['from_status'] or '—'} → {e['status']}  {e['actor']}"
        + (f"  {e['note']}" if e["note"] else "")
        for e in o["events"]
    ]
    return "\n".join(out)


class OrderActions:
    """The order actions, for a node that knows which order is meant (``target``) and what
    to refresh after a change (``after_change``)."""

    def target(self) -> tuple[str, dict[str, Any]] | None:
        """The order's number and the order (a list row or the detail) as the API sent it."""
        raise NotImplementedError

    async def after_change(self, order: dict[str, Any]) -> None:
        raise NotImplementedError

    def _refusal(self, name: str) -> tuple[str, bool] | None:
        """Why this action cannot be done on the target order and whether the role is the
        reason (the server's ``forbidden``); None when it can be done."""
        target = self.target()
        if target is None:
            return "no order is selected", False
        number, order = target
        if name in order["allowed_actions"]:
            return None
        label = ORDER_ACTIONS[name].label
        refused = next((r for r in order["refused_actions"] if r["action"] == name), None)
        if refused is None:
            return f"{number} does not allow '{label}' now", False
        reason = f"{refused['reason']} ({refused['code']})"
        if refused["code"] == "forbidden":
            return reason, True
        return f"{number} does not allow '{label}' now: {reason}", False

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action != "order":
            return True
        refusal = self._refusal(str(parameters[0]))
        if refusal is None:
            return True
        # Hidden when the role forbids it, dimmed when the order's status does.
        return False if refusal[1] else None

    def action_why_not(self, name: str) -> None:
        refusal = self._refusal(name)
        if refusal:
            say(self, f"refused: {refusal[0]}", error=True)  # type: ignore[arg-type]

    @work(exclusive=True, group="order-action")
    async def action_order(self, name: str) -> None:
        node: Any = self
        target = self.target()
        if target is None:
            return
        number = target[0]
        try:
            order = await self._do(node, name, number)
        except ApiError as exc:
            report(node, exc)
            return
        if order is None:
            return
        await self.after_change(order)
        say(node, f"{number}: {ORDER_ACTIONS[name].label.lower()} done — now {order['status']}")

    @staticmethod
    async def _everything_left(node: Any, number: str) -> list[dict[str, Any]]:
        """Each line's quantity not yet returned, from the order in full."""
        order = await client_of(node).order(number)
        return [
            {"sku": i["sku"], "quantity": i["quantity"] - i["returned_quantity"]}
            for i in order["items"]
            if i["quantity"] > i["returned_quantity"]
        ]

    async def _do(self, node: Any, name: str, number: str) -> dict[str, Any] | None:
        """Ask (a form or a yes/no), send, and return the order as the shop changed it; None
        when backed out. A form stays open until the shop accepts what was typed."""
        app = node.app
        client = client_of(node)
        path = ORDER_ACTIONS[name].path
        done: dict[str, Any] = {}

        async def form(
            title: str,
            fields: list[tuple[str, str]],
            ok: str,
            body: Callable[[dict[str, str]], Awaitable[dict[str, Any] | str]],
            required: frozenset[str] = frozenset(),
        ) -> dict[str, Any] | None:
            async def send(values: dict[str, str]) -> str | None:
                built = await body(values)
                if isinstance(built, str):
                    return built  # what is wrong with what was typed, shown in the form
                done["order"] = await client.order_action(number, path, built or None)
                return None

            dialog = FormDialog(title, fields, ok=ok, send=send, required=required)
            await app.push_screen_wait(dialog)
            return done.get("order")

        async def confirm(question: str, ok: str) -> dict[str, Any] | None:
            if not await app.push_screen_wait(ConfirmDialog(question, ok=ok)):
                return None
            return await client.order_action(number, path)  # type: ignore[no-any-return]

        async def payment(v: dict[str, str]) -> dict[str, Any] | str:
            amount = parse_money(v["amount"])
            if amount is None:
                return "the amount is money, e.g. 89.00"
            return {"amount": amount, "reference": v["reference"]}

        async def ship(v: dict[str, str]) -> dict[str, Any] | str:
            return {"carrier": v["carrier"], "tracking_number": v["tracking"]}

        async def reason(v: dict[str, str]) -> dict[str, Any] | str:
            return {"reason": v["reason"]}

        async def note(v: dict[str, str]) -> dict[str, Any] | str:
            return {"body": v["body"]}

        async def a_return(v: dict[str, str]) -> dict[str, Any] | str:
            items = []
            for part in filter(None, (p.strip() for p in v["items"].split(","))):
                sku, _, qty = part.partition("=")
                if not qty.strip().isdigit():
                    return f"'{part}' is not SKU=quantity"
                items.append({"sku": sku.strip(), "quantity": int(qty)})
            if not items:
                # An empty field is the easiest thing to send by mistake (keys typed into the
                # wrong field leave it empty): everything is only taken back after the clerk
                # has seen what that is.
                items = await self._everything_left(node, number)
                if not items:
                    return f"{number}: nothing is left to return"
                listed = ", ".join(f"{i['quantity']} × {i['sku']}" for i in items)
                question = f"Return everything left on {number}: {listed}?"
                if not await app.push_screen_wait(ConfirmDialog(question, ok="Return all")):
                    return "not sent: type the lines (SKU=qty), or confirm everything"
            return {"reason": v["reason"], "items": items}

        async def received(v: dict[str, str]) -> dict[str, Any] | str:
            return {"default": v["default"] or "restock"}

        async def refund(v: dict[str, str]) -> dict[str, Any] | str:
            body: dict[str, Any] = {"reason": v["reason"]}
            if v["amount"]:
                amount = parse_money(v["amount"])
                if amount is None:
                    return "the amount is money, e.g. 89.00"
                body["amount"] = amount
            return body

        if name == "confirm_payment":
            return await form(
                f"Bank transfer for {number} arrived",
                [("amount", "amount, e.g. 89.00"), ("reference", "bank reference")],
                "Confirm payment",
                payment,
                frozenset({"amount"}),
            )
        if name == "start_picking":
            return await confirm(f"Start picking {number}?", "Pick")
        if name == "deliver":
            return await confirm(f"Mark {number} as delivered?", "Delivered")
        if name == "ship":
            return await form(
                f"Ship {number}",
                [("carrier", "carrier, e.g. SF Express"), ("tracking", "tracking number")],
                "Ship",
                ship,
                frozenset({"carrier", "tracking"}),
            )
        if name == "cancel":
            return await form(
                f"Cancel {number}? The stock goes back.",
                [("reason", "reason")],
                "Cancel order",
                reason,
                frozenset({"reason"}),
            )
        if name == "note":
            return await form(
                f"Note on {number}", [("body", "note")], "Add note", note, frozenset({"body"})
            )
        if name == "request_return":
            return await form(
                f"Return for {number}",
                [("reason", "reason"), ("items", "SKU=qty, … (empty: everything left)")],
                "Record return",
                a_return,
            )
        if name == "receive_return":
            return await form(
                f"The parcel for {number} came back",
                [("default", "restock or write_off")],
                "Receive",
                received,
            )
        if name == "refund":
            return await form(
                f"Refund {number}",
                [("reason", "reason"), ("amount", "amount (empty: the returned goods)")],
                "Refund",
                refund,
            )
        raise ValueError(name)


class OrdersPane(OrderActions, TablePane):
    BINDINGS = [
        SEARCH_BINDING,
        Binding("t", "filter('dispatch:waiting')", "To ship", id="orders.to_ship"),
        Binding("a", "filter('')", "All", id="orders.all"),
        Binding("x,space", "mark", "Mark", key_display="x", id="orders.mark"),
        Binding("w", "print", "Print", id="orders.print"),
        *order_bindings(),
        *PAGE_BINDINGS,
    ]
    TABLE = "order-table"
    SEARCH = "order-search"
    DEFAULT_CSS = """
    OrdersPane { height: 1fr; }
    OrdersPane #order-bar { height: 3; }
    OrdersPane #order-search { width: 1fr; }
    OrdersPane #order-status { width: 24; }
    OrdersPane #order-table { height: 1fr; }
    OrdersPane #order-preview { height: 2; color: $text-muted; }
    """

    def __init__(self) -> None:
        super().__init__(id="orders-pane")
        self.filter = ""
        self.summaries: dict[str, dict[str, Any]] = {}
        self.marked: set[str] = set()

    def compose(self) -> ComposeResult:
        with Horizontal(id="order-bar"):
            yield Input(placeholder="/ number, e-mail, name or phone", id="order-search")
            yield Select(FILTERS, prompt="all orders", id="order-status")
        yield DataTable(id="order-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="order-preview", markup=False)

    def on_mount(self) -> None:
        table = self.query_one("#order-table", DataTable)
        table.add_column("✓", key="mark", width=1)
        # What a clerk acts on first (the amount, late or overdue) before what may be cut off
        # at 80 columns (the recipient is in the preview line below too).
        table.add_columns("number", "status", "total", "flag", "placed", "recipient")

    async def load(self) -> None:
        table = self.table
        kind, _, value = self.filter.partition(":")
        try:
            data = await client_of(self).orders(
                page=self.page,
                per_page=self.PER_PAGE,
                q=self.query_text or None,
                status=value if kind == "status" else None,
                dispatch=value if kind == "dispatch" else None,
            )
        except ApiError as exc:
            report(self, exc, prefix="")
            return
        keep = self.selected()
        table.clear()
        self.summaries = {o["number"]: o for o in data["items"]}
        tz = client_of(self).timezone
        for o in data["items"]:
            table.add_row(
                "✓" if o["number"] in self.marked else "",
                o["number"],
                o["status"],
                money(o["total"], o["currency"]),
                o["dispatch_flag"] or "",
                when(o["placed_at"], tz)[5:],  # the year left out: it is this year's list
                o["recipient"],
                key=o["number"],
            )
        self.loaded(keep, data["total"])
        label = dict((v, k) for k, v in FILTERS).get(self.filter, "all")
        if self.query_text:
            label += f" matching '{self.query_text}'"
        status(self, f"orders: {label} · {data['total']} · page {self.page}/{self.pages}")
        self.show_preview()

    def target(self) -> tuple[str, dict[str, Any]] | None:
        number = self.selected()
        if number is None or number not in self.summaries:
            return None
        return number, self.summaries[number]

    async def after_change(self, order: dict[str, Any]) -> None:
        await self.load()
        self.screen.data_changed(self)  # type: ignore[attr-defined]

    @on(DataTable.RowHighlighted, "#order-table")
    def show_preview(self) -> None:
        number = self.selected()
        o = self.summaries.get(number or "")
        preview = self.query_one("#order-preview", Static)
        if o is None:
            preview.update("no orders here")
        else:
            allowed = [ORDER_ACTIONS[a].label for a in o["allowed_actions"] if a in ORDER_ACTIONS]
            preview.update(
                f"{o['recipient']} {o['phone']} · {o['city']} · "
                f"{o['item_count']} item{'' if o['item_count'] == 1 else 's'} · "
                f"{o['payment_method']}{' paid' if o['paid'] else ''}\n"
                f"Enter: detail · can: {', '.join(allowed)}"
            )
        self.screen.refresh_bindings()

    @on(DataTable.RowSelected, "#order-table")
    def open_order(self) -> None:
        number = self.selected()
        if number:
            self.app.push_screen(OrderScreen(number, self))

    @on(Select.Changed, "#order-status")
    def status_chosen(self, event: Select.Changed) -> None:
        value = "" if event.value is Select.NULL else str(event.value)
        if value != self.filter:
            self.filter, self.page = value, 1
            self.start_load()

    async def action_filter(self, value: str) -> None:
        """Show one status or dispatch list ('' for all), without the search; picking a status
        in the drop-down instead narrows the search."""
        self.filter, self.page, self.query_text = value, 1, ""
        self.query_one("#order-search", Input).value = ""
        select = self.query_one("#order-status", Select)
        with select.prevent(Select.Changed):
            select.value = value or Select.NULL
        self.start_load()
        self.table.focus()

    def action_mark(self) -> None:
        number = self.selected()
        if number is None:
            return
        self.marked ^= {number}
        self.table.update_cell(number, "mark", "✓" if number in self.marked else "")
        say(self, f"{len(self.marked)} orders marked for printing")

    @work(exclusive=True, group="print")
    async def action_print(self) -> None:
        from tui.printing import print_orders

        numbers = sorted(self.marked) or [n for n in [self.selected()] if n]
        if not numbers:
            return
        outcome = await print_orders(self, numbers)
        if outcome:
            self.marked.clear()
            await self.load()
            say(self, outcome[0], error=outcome[1])


class OrderScreen(OrderActions, Screen[None]):
    """One order in full: lines, address, payments, refunds, returns, notes, history."""

    BINDINGS = [
        Binding("question_mark", "app.keys", "Keys", key_display="?", id="order.keys"),
        Binding("escape,backspace", "app.pop_screen", "Back", id="order.back"),
        *order_bindings(),
    ]
    DEFAULT_CSS = """
    OrderScreen #message { height: auto; max-height: 3; color: $warning; }
    """

    def __init__(self, number: str, pane: OrdersPane) -> None:
        super().__init__()
        self.number = number
        self.pane = pane
        self.order: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="order-scroll"):
            yield Static("", id="order-detail", markup=False)
        yield Static("", id="message", markup=False)
        yield waiting_line()
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.title = f"order {self.number}"
        self.query_one("#order-scroll").focus()
        self.fetch()

    @work(exclusive=True, group="load")
    async def fetch(self) -> None:
        try:
            self.show(await client_of(self).order(self.number))
        except ApiError as exc:
            report(self, exc, prefix="")

    def show(self, order: dict[str, Any]) -> None:
        self.order = order
        self.query_one("#order-detail", Static).update(order_text(order, client_of(self).timezone))
        self.refresh_bindings()

    def target(self) -> tuple[str, dict[str, Any]] | None:
        if self.order is None:
            return None
        return self.number, self.order

    async def after_change(self, order: dict[str, Any]) -> None:
        self.show(order)
        await self.pane.after_change(order)
