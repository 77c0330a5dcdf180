"""Products: list and search, list/delist and price changes (managers), and what a product
sold over the last 30 days, per SKU."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Input, Static

from tui.client import ApiError
from tui.common import client_of, report, say
from tui.dialogs import ConfirmDialog, FormDialog
from tui.format import money, parse_money
from tui.pane import PAGE_BINDINGS, SEARCH_BINDING, TablePane

SALES_DAYS = 30


class ProductsPane(TablePane):
    BINDINGS = [
        SEARCH_BINDING,
        Binding("u", "toggle_listed", "List/delist", id="products.list"),
        Binding("u", "why_not('toggle_listed')", "List/delist", show=False, id="products.list"),
        Binding("m", "price", "Price", id="products.price"),
        Binding("m", "why_not('price')", "Price", show=False, id="products.price"),
        *PAGE_BINDINGS,
    ]
    TABLE = "product-table"
    SEARCH = "product-search"
    ENDPOINTS = {
        "toggle_listed": "POST /products/{slug}/delist",
        "price": "PUT /products/{slug}/price",
    }
    DEFAULT_CSS = """
    ProductsPane { height: 1fr; }
    ProductsPane #product-table { height: 1fr; }
    ProductsPane #product-detail { height: auto; max-height: 10; border-top: solid $accent; }
    """

    def __init__(self) -> None:
        super().__init__(id="products-pane")
        self.products: dict[str, dict[str, Any]] = {}

    def compose(self) -> ComposeResult:
        yield Input(placeholder="/ name or slug", id="product-search")
        yield DataTable(id="product-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="product-detail", markup=False)

    def on_mount(self) -> None:
        self.query_one("#product-table", DataTable).add_columns(
            "slug", "name", "price", "listed", "state", "sold"
        )

    async def load(self) -> None:
        table = self.table
        try:
            data = await client_of(self).get(
                "/products", q=self.query_text or None, page=self.page, per_page=self.PER_PAGE
            )
        except ApiError as exc:
            report(self, exc, prefix="")
            return
        keep = self.selected()
        table.clear()
        self.products = {p["slug"]: p for p in data["items"]}
        currency = client_of(self).currency
        for p in data["items"]:
            table.add_row(
                p["slug"],
                p["name"],
                money(p["list_price"], currency),
                "yes" if p["listed"] else "no",
                p["review_state"],
                str(p["sold_count"]),
                key=p["slug"],
            )
        self.loaded(keep, data["total"])

    @on(DataTable.RowHighlighted, "#product-table")
    def on_row(self) -> None:
        self.run_worker(self.show_detail(), group="detail", exclusive=True)

    async def show_detail(self) -> None:
        slug = self.selected()
        product = self.products.get(slug or "")
        if product is None:
            return
        client = client_of(self)
        try:
            sales = await client.get(f"/products/{product['slug']}/sales", days=SALES_DAYS)
        except ApiError as exc:
            report(self, exc, prefix="")
            return
        sold = {s["sku"]: s for s in sales["skus"]}
        lines = [
            f"{product['name']} · {product['name_en']} · {product['category']} · last "
            f"{SALES_DAYS} days: {sales['units']} sold, {money(sales['revenue'], sales['currency'])}"
            f" in {sales['orders']} order{'' if sales['orders'] == 1 else 's'}"
        ]
        for sku in product["skus"]:
            s = sold.get(sku["code"], {"units": 0, "revenue": 0})
            lines.append(
                f"  {sku['code']:<14} {' '.join(sku['attributes'].values()):<10} "
                f"{money(sku['effective_price'], client.currency):>14}"
                f"{'' if sku['active'] else ' (inactive)'}  sold {s['units']}, "
                f"{money(s['revenue'], client.currency)}"
            )
        self.query_one("#product-detail", Static).update("\n".join(lines))

    async def _changed(self, product: dict[str, Any], what: str) -> None:
        await self.load()
        await self.show_detail()
        self.screen.data_changed(self)  # type: ignore[attr-defined]
        say(self, f"{product['slug']}: {what}")

    @work(exclusive=True, group="product")
    async def action_toggle_listed(self) -> None:
        product = self.products.get(self.selected() or "")
        if product is None:
            return
        verb = "delist" if product["listed"] else "list"
        question = (
            f"Take {product['name']} off the shop?"
            if product["listed"]
            else f"Put {product['name']} in the shop?"
        )
        if not await self.app.push_screen_wait(ConfirmDialog(question, ok=verb.title())):
            return
        try:
            changed = await client_of(self).post(f"/products/{product['slug']}/{verb}")
        except ApiError as exc:
            report(self, exc)
            return
        await self._changed(changed, "listed" if changed["listed"] else "delisted")

    @work(exclusive=True, group="product")
    async def action_price(self) -> None:
        product = self.products.get(self.selected() or "")
        if product is None:
            return
        client = client_of(self)
        done: dict[str, Any] = {}

        async def send(values: dict[str, str]) -> str | None:
            price = parse_money(values["price"])
            if price is None:
                return "the price is money, e.g. 89.00"
            body: dict[str, Any] = {"price": price}
            if values["sku"]:
                body["sku"] = values["sku"]
            done["product"] = await client.put(f"/products/{product['slug']}/price", body)
            done["price"] = price
            return None

        values = await self.app.push_screen_wait(
            FormDialog(
                f"Price of {product['name']} (now {money(product['list_price'], client.currency)})",
                [("price", "new price, e.g. 89.00"), ("sku", "one SKU only (empty: list price)")],
                ok="Change price",
                send=send,
                required=frozenset({"price"}),
            )
        )
        if not values:
            return
        changed, price = done["product"], done["price"]
        target = values["sku"] or "list price"
        await self._changed(changed, f"{target} now {money(price, client.currency)}")
