"""What the orders, stock and products tabs share: a search box over a table of rows paged
from the server, keyed by what the API calls them (order number, SKU, slug)."""

from __future__ import annotations

from textual import events, on
from textual.binding import Binding
from textual.containers import Vertical
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Input

from tui.common import client_of, say

SEARCH_BINDING = Binding("slash", "search", "Search", key_display="/", id="table.search")
# Last in each tab's list: the footer shows the tab's own actions first.
PAGE_BINDINGS = [
    Binding("right_square_bracket", "page(1)", "Next", key_display="]", id="table.next"),
    Binding("left_square_bracket", "page(-1)", "Prev", key_display="[", id="table.prev"),
]


def highlighted(table: DataTable) -> str | None:  # type: ignore[type-arg]
    if table.row_count == 0:
        return None
    return str(table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value)


class TablePane(Vertical):
    BINDINGS = [
        # First in the footer, so at 80 columns the way to every other key is always shown.
        Binding("question_mark", "app.keys", "Keys", key_display="?", id="table.keys"),
        Binding("escape", "to_table", "Table", show=False, id="table.back"),
    ]
    TABLE = ""
    SEARCH = ""
    PER_PAGE = 50
    # The staff endpoint each action calls: an action whose endpoint the shop said this
    # staff member may not call is not offered, and its key (a hidden ``why_not`` binding
    # after the action's own) says which role it needs.
    ENDPOINTS: dict[str, str] = {}

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id)
        self.query_text = ""
        self.page = 1
        self.pages = 1

    @property
    def table(self) -> DataTable:  # type: ignore[type-arg]
        return self.query_one(f"#{self.TABLE}", DataTable)

    def selected(self) -> str | None:
        return highlighted(self.table)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        endpoint = self.ENDPOINTS.get(action)
        return endpoint is None or client_of(self).needs(endpoint) is None

    def action_why_not(self, action: str) -> None:
        role = client_of(self).needs(self.ENDPOINTS[action])
        label = next(
            (b.description for b in self.BINDINGS if isinstance(b, Binding) and b.action == action),
            action,
        )
        say(self, f"refused: {label.lower()} needs the {role} role (forbidden)", error=True)

    async def load(self) -> None:
        """Fetch the rows and fill the table (awaited by actions, which run in workers)."""
        raise NotImplementedError

    def start_load(self) -> None:
        """Fetch the rows in a worker: the keys keep working while the shop answers, and a
        newer fetch replaces one still waiting."""
        self.run_worker(self.load(), group="load", exclusive=True)

    def loaded(self, keep: str | None, total: int) -> None:
        """After refilling the table: the cursor back on the row it was on, the page count."""
        if keep is not None and keep in self.table.rows:
            self.table.move_cursor(row=self.table.get_row_index(keep))
        self.pages = max((total + self.PER_PAGE - 1) // self.PER_PAGE, 1)

    @on(Input.Submitted)
    def search(self, event: Input.Submitted) -> None:
        if event.input.id != self.SEARCH:
            return
        self.query_text = event.value.strip()
        self.page = 1
        self.start_load()
        self.table.focus()

    def on_key(self, event: events.Key) -> None:
        """A printable key no binding takes, typed on the table, starts the search with it:
        typing a name without `/` first searches for it instead of being lost."""
        if not (self.table.has_focus and event.is_printable and event.character):
            return
        if event.key in self.screen.active_bindings or event.character in "[]/ ":
            return
        event.stop()
        event.prevent_default()
        search = self.query_one(f"#{self.SEARCH}", Input)
        search.focus()
        # The key again, to the search box once focused: behind its Focus event (which
        # selects the old search), so it replaces the old search as typing over it would.
        key = events.Key(event.key, event.character)
        self.app.call_later(search.post_message, key)

    def action_to_table(self) -> None:
        """Escape from the search box back to the rows (and their keys)."""
        self.table.focus()

    def action_search(self) -> None:
        self.query_one(f"#{self.SEARCH}", Input).focus()

    def action_page(self, step: int) -> None:
        page = min(max(self.page + step, 1), self.pages)
        if page != self.page:
            self.page = page
            self.start_load()
