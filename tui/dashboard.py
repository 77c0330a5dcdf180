"""The Today tab: the day's orders and KPIs, what waits to ship, the last two weeks as
sparklines, and the month's sales against its target; `t`, `l` and `o` list the orders to
ship, late and overdue.

Orders and sales — today's, the fortnight's, the month's — all come from the KPIs (orders
placed and not cancelled; sales: what the paid ones came to, days cut in the shop's time zone),
so today's figure is the last point of the 14-day line. The dispatch counts and low stock come
from the orders dashboard."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, ProgressBar, Sparkline, Static

from tui.client import ApiError
from tui.common import client_of, report
from tui.format import money

LOW_STOCK_SHOWN = 5
TREND_DAYS = 14
TRENDS = (("orders", "orders"), ("sales", "sales"), ("visitors", "visitors"))


def share(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


class DashboardPane(Vertical, can_focus=True):
    BINDINGS = [
        Binding("t", "orders('dispatch:waiting')", "To ship", id="today.to_ship"),
        Binding("l", "orders('dispatch:late')", "Late", id="today.late"),
        Binding("o", "orders('dispatch:overdue')", "Overdue", id="today.overdue"),
    ]
    DEFAULT_CSS = """
    DashboardPane { padding: 1 2; height: 1fr; }
    DashboardPane #dashboard { height: auto; }
    DashboardPane .trend { height: 1; margin-top: 1; }
    DashboardPane .trend Label { width: 30; }
    DashboardPane .trend Sparkline { width: 1fr; max-width: 60; }
    DashboardPane #month-line { height: 1; margin-top: 1; }
    DashboardPane #month-line Label { width: auto; margin-right: 2; }
    DashboardPane #month-bar { width: auto; }
    """

    def compose(self) -> ComposeResult:
        yield Static("", id="dashboard", markup=False)
        for key, _ in TRENDS:
            with Horizontal(classes="trend"):
                yield Label("", id=f"{key}-label", markup=False)
                yield Sparkline([], id=f"{key}-trend")
        with Horizontal(id="month-line"):
            yield Label("", id="month-label", markup=False)
            yield ProgressBar(total=100, show_eta=False, id="month-bar")

    async def load(self) -> None:
        client = client_of(self)
        try:
            d = await client.dashboard()
            k = await client.kpis(days=TREND_DAYS)
            low = await client.stock(low=True, per_page=LOW_STOCK_SHOWN)
        except ApiError as exc:
            report(self, exc, prefix="dashboard unavailable: ")
            return
        self.show(d, k, low["items"])

    def show(self, d: dict[str, Any], k: dict[str, Any], low: list[dict[str, Any]]) -> None:
        cur = d["currency"]
        today = k["days"][-1] if k["days"] else {"visitors": 0, "orders": 0, "sales": 0}
        conversion = today["orders"] / today["visitors"] if today["visitors"] else None
        target = k["targets"]["conversion"]
        lows = "".join(f"\n  {s['sku']:<14} {s['available']:>4} left  {s['product']}" for s in low)
        daily = k["targets"]["daily_orders"]
        of_target = f" of {daily} planned" if daily else ""
        self.query_one("#dashboard", Static).update(
            f"today: {today['orders']} orders{of_target}, {money(today['sales'], cur)}\n"
            f"visitors: {today['visitors']}   conversion: {share(conversion)} "
            f"(target {share(target)})\n"
            f"to ship: {d['to_ship']}   late (>24 h): {d['late']}   "
            f"overdue (>48 h): {d['overdue']}\n"
            f"low stock: {d['low_stock']} SKUs{lows}"
        )
        days = k["days"]
        for key, name in TRENDS:
            series = [day[key] for day in days]
            total = sum(series)
            shown = money(total, cur) if key == "sales" else f"{total:,}"
            self.query_one(f"#{key}-label", Label).update(f"{name} ({len(days)} d): {shown}")
            self.query_one(f"#{key}-trend", Sparkline).data = series
        progress = k["month_progress"]
        self.query_one("#month-label", Label).update(
            f"month: {money(k['month_sales'], cur)} — "
            + (
                f"{progress:.0%} of {money(k['targets']['monthly_sales'], cur)}"
                if progress is not None
                else "no target set"
            )
        )
        bar = self.query_one("#month-bar", ProgressBar)
        bar.display = progress is not None
        bar.update(progress=min((progress or 0) * 100, 100))

    async def action_orders(self, value: str) -> None:
        """The Orders tab, filtered to one dispatch list."""
        screen: Any = self.screen
        screen.action_tab("orders")
        await screen.orders.action_filter(value)
