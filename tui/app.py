"""The staff TUI: log in, then the day's dashboard, orders, stock and products in tabs.
Keyboard first — every action has a key in the footer, Ctrl+P opens the command palette, `/`
searches — and usable at 80×24. It talks to the staff API only (``tui.client``)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from functools import partial

import httpx
from textual import on
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
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

from tui.client import ApiError, StaffClient
from tui.common import client_of
from tui.dashboard import DashboardPane
from tui.dialogs import FormDialog
from tui.orders import FILTERS, OrdersPane
from tui.products import ProductsPane
from tui.stock import StockPane
from tui.tasks import TASK_BINDINGS, TaskOpener, task_commands

__all__ = ["FormDialog", "LoginScreen", "MainScreen", "StaffApp"]

DASHBOARD_REFRESH_SECONDS = 30
TABS = (("today", "Today"), ("orders", "Orders"), ("stock", "Stock"), ("products", "Products"))


class LoginScreen(Screen[None]):
    DEFAULT_CSS = """
    LoginScreen { align: center middle; }
    LoginScreen > Vertical { width: 50; height: auto; border: round $accent; padding: 1 2; }
    #login-error { color: $error; }
    """

    def __init__(self, notice: str = "") -> None:
        super().__init__()
        self.notice = notice

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("shopd staff log-in")
            yield Input(placeholder="staff name", id="username")
            yield Input(placeholder="password", password=True, id="password")
            yield Button("Log in", variant="primary", id="login")
            yield Static(self.notice, id="login-error", markup=False)

    @on(Button.Pressed, "#login")
    @on(Input.Submitted)
    async def log_in(self) -> None:
        client = client_of(self)
        name = self.query_one("#username", Input).value.strip()
        password = self.query_one("#password", Input).value
        try:
            await client.login(name, password)
        except ApiError as exc:
            self.query_one("#login-error", Static).update(str(exc))
            self.query_one("#password", Input).value = ""
            return
        # Not awaited: the switch waits for this screen to finish handling this very event.
        self.app.switch_screen(MainScreen())


class MainScreen(TaskOpener, Screen[None]):
    BINDINGS = [
        *(
            Binding(str(n), f"tab('{tab}')", label, show=False)
            for n, (tab, label) in enumerate(TABS, start=1)
        ),
        *TASK_BINDINGS,
        Binding("ctrl+r", "reload", "Reload"),
        Binding("q", "app.quit", "Quit"),
    ]
    DEFAULT_CSS = """
    MainScreen #tabs { height: 1fr; }
    MainScreen TabPane { padding: 0; height: 1fr; }
    MainScreen #message { height: 1; color: $warning; }
    """

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(initial="orders", id="tabs"):
            for tab, label in TABS:
                with TabPane(f"{label}", id=tab):
                    if tab == "today":
                        yield DashboardPane()
                    elif tab == "orders":
                        yield OrdersPane()
                    elif tab == "stock":
                        yield StockPane()
                    else:
                        yield ProductsPane()
        yield Static("", id="message", markup=False)
        yield Footer(compact=True)

    @property
    def orders(self) -> OrdersPane:
        return self.query_one(OrdersPane)

    async def on_mount(self) -> None:
        client = client_of(self)
        self.title = f"shopd · {client.username} ({client.role})"
        await self.reload()
        # The dashboard refreshes on its own; the tables when asked or after an action.
        self.set_interval(DASHBOARD_REFRESH_SECONDS, self.refresh_dashboard)
        self.query_one("#order-table", DataTable).focus()

    async def reload(self) -> None:
        await self.query_one(StockPane).load()
        await self.query_one(ProductsPane).load()
        await self.refresh_dashboard()
        await self.orders.load()

    async def action_reload(self) -> None:
        await self.reload()

    async def refresh_dashboard(self) -> None:
        await self.query_one(DashboardPane).load()

    def action_tab(self, tab: str) -> None:
        self.query_one("#tabs", TabbedContent).active = tab

    @on(TabbedContent.TabActivated)
    def focus_tab(self, event: TabbedContent.TabActivated) -> None:
        tables = event.pane.query(DataTable)
        if tables:
            tables.first().focus()
        else:
            # The dashboard: its own keys, and no hidden search box on another tab swallows
            # the keys, `q` included.
            self.set_focus(event.pane.query_one(DashboardPane))


class StaffApp(App[None]):
    TITLE = "shopd staff"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", show=False)]

    def __init__(self, base_url: str, *, transport: httpx.AsyncBaseTransport | None = None):
        super().__init__()
        self.client = StaffClient(base_url, transport=transport)
        self.client.on_expired = self.session_expired

    def on_mount(self) -> None:
        self.push_screen(LoginScreen())

    def session_expired(self) -> None:
        self.call_later(self.back_to_login, "the session has expired — log in again")

    async def back_to_login(self, notice: str) -> None:
        while len(self.screen_stack) > 2:
            await self.pop_screen()
        if not isinstance(self.screen, LoginScreen):
            await self.switch_screen(LoginScreen(notice))

    async def log_out(self) -> None:
        with contextlib.suppress(ApiError):
            await self.client.logout()
        await self.back_to_login("logged out")

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if not isinstance(screen, MainScreen):
            return
        for tab, label in TABS:
            yield SystemCommand(
                f"Go to {label}", f"the {label} tab", partial(screen.action_tab, tab)
            )
        orders = screen.orders

        async def show(value: str) -> None:
            screen.action_tab("orders")
            await orders.action_filter(value)

        yield SystemCommand("Orders: all", "every order, newest first", partial(show, ""))
        for label, value in FILTERS:
            yield SystemCommand(
                f"Orders: {label}", f"orders filtered by {label}", partial(show, value)
            )
        stock = screen.query_one(StockPane)
        yield SystemCommand("Stock: low stock", "toggle the low-stock list", stock.action_low)
        yield SystemCommand(
            "Stock: stocktake", "count stock and post differences", stock.action_stocktake
        )
        yield SystemCommand("Print packing slips", "for the marked orders", orders.action_print)
        yield from task_commands(screen)
        yield SystemCommand("Reload", "fetch everything again", screen.reload)
        yield SystemCommand("Log out", "end the session, back to log-in", self.log_out)

    async def on_unmount(self) -> None:
        # If the shop is gone the token simply expires on its own.
        with contextlib.suppress(ApiError):
            await self.client.logout()
        await self.client.close()
