"""The staff TUI: log in, then the day's dashboard, orders, stock and products in tabs.
Keyboard first — every action has a key in the footer, Ctrl+P opens the command palette, `/`
searches — and usable at 80×24. It talks to the staff API only (``tui.client``)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from functools import partial

import httpx
from textual import on, work
from textual.actions import SkipAction
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Vertical
from textual.dom import DOMNode
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
from textual.worker import NoActiveWorker, Worker, get_current_worker

from tui.client import ApiError, StaffClient
from tui.common import (
    WAITING,
    client_of,
    say,
    show_status,
    status,
    tab_of,
    waiting_line,
)
from tui.dashboard import DashboardPane
from tui.dialogs import ConfirmDialog, FormDialog
from tui.keys import KeysScreen, load_keymap, load_theme, offered, save_theme
from tui.orders import FILTERS, OrdersPane
from tui.pane import TablePane
from tui.products import ProductsPane
from tui.stock import StockPane
from tui.tasks import TASK_BINDINGS, TaskOpener, task_commands
from tui.typeahead import KeysInOrder

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
            yield waiting_line()

    @on(Input.Submitted, "#username")
    def to_password(self) -> None:
        """Enter after the name goes on to the password, as Tab does (sending an empty
        password only earns a refusal and a step towards the log-in throttle)."""
        self.query_one("#password", Input).focus()

    @on(Button.Pressed, "#login")
    @on(Input.Submitted, "#password")
    def submitted(self) -> None:
        name = self.query_one("#username", Input).value.strip()
        if not name:
            self.query_one("#login-error", Static).update("type your staff name first")
            self.query_one("#username", Input).focus()
            return
        self.log_in()

    @work(exclusive=True, group="login")
    async def log_in(self) -> None:
        client = client_of(self)
        name = self.query_one("#username", Input).value.strip()
        password = self.query_one("#password", Input).value
        try:
            await client.login(name, password)
        except ApiError as exc:
            # On the screen only, beside the fields (no toast on top of it).
            self.query_one("#login-error", Static).update(str(exc))
            self.query_one("#password", Input).value = ""
            self.query_one("#password", Input).focus()
            return
        # Not awaited: the switch waits for this screen to finish handling this very event.
        self.app.switch_screen(MainScreen())


class MainScreen(TaskOpener, Screen[None]):
    BINDINGS = [
        *(
            Binding(str(n), f"tab('{tab}')", label, show=False, id=f"tab.{tab}")
            for n, (tab, label) in enumerate(TABS, start=1)
        ),
        *TASK_BINDINGS,
        Binding("ctrl+r", "reload", "Reload", id="app.reload"),
        # Over SSH quitting ends the session: `q` asks first (see StaffApp.action_ask_quit).
        Binding("q", "app.ask_quit", "Quit", id="app.quit"),
    ]
    DEFAULT_CSS = """
    MainScreen #tabs { height: 1fr; }
    MainScreen TabPane { padding: 0; height: 1fr; }
    MainScreen #message { height: auto; max-height: 3; color: $text-muted; }
    MainScreen #message.error { color: $error; }
    #waiting { height: 1; color: $accent; text-style: bold; }
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
        yield waiting_line()
        yield Footer(compact=True)

    def __init__(self) -> None:
        super().__init__()
        # Each tab's own status line (text, is an error), shown while that tab is.
        self.statuses: dict[str, tuple[str, bool]] = {}

    @property
    def active_tab(self) -> str:
        return str(self.query_one("#tabs", TabbedContent).active)

    def data_changed(self, source: DOMNode) -> None:
        """After an action changed the shop: the other tabs fetch again what they show (a
        cancelled order's stock, a received SKU on the dashboard)."""
        for pane in self.query(TablePane):
            if pane is not source:
                pane.start_load()
        self.run_worker(self.query_one(DashboardPane).load(), group="dashboard", exclusive=True)

    @property
    def orders(self) -> OrdersPane:
        return self.query_one(OrdersPane)

    def on_mount(self) -> None:
        client = client_of(self)
        self.title = f"shopd · {client.username} ({client.role})"
        self.reload()
        # The dashboard refreshes on its own; the tables when asked or after an action.
        self.set_interval(DASHBOARD_REFRESH_SECONDS, self.refresh_dashboard)
        self.query_one("#order-table", DataTable).focus()

    def reload(self) -> None:
        """Fetch every tab again, each in a worker of its own (the keys keep working)."""
        for pane in self.query(TablePane):
            pane.start_load()
        self.run_worker(self.query_one(DashboardPane).load(), group="dashboard", exclusive=True)

    def action_reload(self) -> None:
        self.reload()

    async def refresh_dashboard(self) -> None:
        """Starts the refresh and returns: the dashboard fills in when the shop answers."""
        self.run_worker(self.query_one(DashboardPane).load(), group="dashboard", exclusive=True)

    def action_tab(self, tab: str) -> None:
        self.query_one("#tabs", TabbedContent).active = tab

    @on(TabbedContent.TabActivated)
    def focus_tab(self, event: TabbedContent.TabActivated) -> None:
        text, error = self.statuses.get(str(event.pane.id), ("", False))
        show_status(self, text, error)
        tables = event.pane.query(DataTable)
        if tables:
            tables.first().focus()
        else:
            # The dashboard: its own keys, and no hidden search box on another tab swallows
            # the keys, `q` included.
            self.set_focus(event.pane.query_one(DashboardPane))


class StaffApp(KeysInOrder, App[None]):
    TITLE = "shopd staff"
    BINDINGS = [
        Binding("ctrl+q", "ask_quit", "Quit", show=False, priority=True, id="app.quit_now"),
        Binding("f1", "keys", "Keys", id="app.keys"),
        Binding("question_mark", "keys", "Keys", show=False, id="app.keys_help"),
        Binding(
            "escape", "cancel_waiting", "Stop waiting", show=False, priority=True, id="app.stop"
        ),
    ]

    def __init__(self, base_url: str, *, transport: httpx.AsyncBaseTransport | None = None):
        super().__init__()
        self.client = StaffClient(base_url, transport=transport)
        self.client.on_expired = self.session_expired
        self.client.on_waiting = self.request_waiting
        self.client.on_answered = self.request_answered
        # The workers with a request to the shop under way (None: a request outside any
        # worker, which Escape cannot cancel — there should be none).
        self.waiting_for: list[Worker[object] | None] = []

    def request_waiting(self, started: bool) -> None:
        try:
            worker: Worker[object] | None = get_current_worker()
        except NoActiveWorker:
            worker = None
        if started:
            self.waiting_for.append(worker)
        elif worker in self.waiting_for:
            self.waiting_for.remove(worker)
        self.show_waiting()

    def request_answered(self) -> None:
        """The shop answered: an error the requesting tab still shows is history."""
        try:
            node = get_current_worker().node
        except NoActiveWorker:
            return
        if not isinstance(node, DOMNode) or not node.is_attached:
            return
        statuses: dict[str, tuple[str, bool]] = getattr(node.screen, "statuses", {})
        tab = tab_of(node)
        if tab is not None and statuses.get(tab, ("", False))[1]:
            status(node, "")

    def show_waiting(self) -> None:
        waiting = bool(self.waiting_for)
        for screen in self.screen_stack:
            for line in screen.query(f"#{WAITING}").results(Static):
                line.display = waiting

    def action_cancel_waiting(self) -> None:
        """Escape while the shop is slow: stop waiting (the request is abandoned; what the
        shop does with it if it arrives is shown by the next reload)."""
        workers = [w for w in self.waiting_for if w is not None]
        if not workers:
            raise SkipAction  # nothing waits: Escape does what the screen gives it
        for worker in workers:
            worker.cancel()
        self.waiting_for.clear()
        self.show_waiting()
        say(self.screen, "stopped waiting for the shop — Ctrl+R reloads", error=True)

    def on_mount(self) -> None:
        keymap, problem = load_keymap()
        self.set_keymap(keymap)
        if problem:
            self.notify(f"keymap ignored in part: {problem}", severity="warning", markup=False)
        theme = load_theme()
        if theme in self.available_themes:
            self.theme = theme
        self.theme_changed_signal.subscribe(self, lambda theme: save_theme(theme.name))
        self.push_screen(LoginScreen())

    def action_keys(self) -> None:
        """`?` or F1: the keys of the screen in front, to read or to run."""
        if not isinstance(self.screen, (KeysScreen, ModalScreen)):
            self.push_screen(KeysScreen(self.screen))

    @work(exclusive=True, group="quit")
    async def action_ask_quit(self) -> None:
        """Quit after a yes: over SSH the TUI is the login's only command, so quitting by a
        stray `q` would end the staff member's session."""
        if isinstance(self.screen, ConfirmDialog):
            return
        question = "Quit the staff TUI? Over SSH this ends the session."
        if await self.push_screen_wait(ConfirmDialog(question, ok="Quit")):
            self.exit()

    def session_expired(self, why: str) -> None:
        self.call_later(self.back_to_login, why)

    async def back_to_login(self, notice: str) -> None:
        # The requests still under way would only be refused too.
        self.workers.cancel_all()
        self.clear_notifications()
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
        # Every key the screen offers now, by name (the palette is a second way to each).
        for node, binding, enabled in offered(screen):
            if not enabled:
                continue
            yield SystemCommand(
                f"{binding.description} ({self.get_key_display(binding)})",
                f"key on this screen [{binding.id}]",
                partial(self.run_action, binding.action, node),
            )
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
        self.stop_holding_keys()
        # If the shop is gone the token simply expires on its own.
        with contextlib.suppress(ApiError):
            await self.client.logout()
        await self.client.close()
