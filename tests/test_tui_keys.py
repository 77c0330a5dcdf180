"""`?` and F1 list the keys of the screen in front and run them; the command palette runs
every action; a staff member's keymap in their home rebinds keys by binding id; the theme
chosen is kept for the next session."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from textual.command import CommandPalette
from textual.widgets import Input, OptionList

from shopd.config import Settings
from shopd.db import Database
from tests.conftest import SmallCatalog
from tests.staffkit import Staff, make_staff
from tests.tuikit import go_tab, loaded, log_in, press, tui
from tui.dialogs import FormDialog
from tui.keys import KeysScreen


@pytest.fixture
async def staff(client: httpx.AsyncClient, db: Database) -> Staff:
    return await make_staff(client, db)


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The staff member's config folder, in the test's own directory."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "config" / "shopd"


def listed(app: object) -> list[str]:
    options = app.screen.query_one(OptionList)  # type: ignore[attr-defined]
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


@pytest.mark.parametrize("key", ["question_mark", "f1"])
async def test_help_lists_the_screens_keys_and_runs_one(
    db: Database, settings: Settings, catalog: SmallCatalog, staff: Staff, key: str
) -> None:
    app = tui(db, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(app, pilot, "clerk.one")
        await go_tab(app, pilot, "stock")
        await press(app, pilot, key)
        assert isinstance(app.screen, KeysScreen)
        lines = listed(app)
        receive = next(i for i, line in enumerate(lines) if "Receive" in line)
        assert "[stock.receive]" in lines[receive] and lines[receive].split()[0] == "r"
        assert any("Quit" in line for line in lines)
        app.screen.query_one(OptionList).highlighted = receive
        await press(app, pilot, "enter")
        assert isinstance(app.screen, FormDialog), "Enter ran the key's action"
        assert "Receive goods for" in app.screen.title_text


async def test_the_command_palette_runs_a_tabs_action(
    db: Database, settings: Settings, catalog: SmallCatalog, staff: Staff
) -> None:
    app = tui(db, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(app, pilot, "clerk.one")
        await go_tab(app, pilot, "stock")
        await press(app, pilot, "ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        app.screen.query_one(Input).value = "Receive (r)"
        await pilot.pause(0.5)
        await press(app, pilot, "enter")
        await loaded(app, pilot)
        assert isinstance(app.screen, FormDialog)


@pytest.fixture
def keymap(home: Path) -> Path:
    home.mkdir(parents=True)
    (home / "keymap.toml").write_text('"stock.receive" = "g"\n', encoding="utf-8")
    return home / "keymap.toml"


async def test_a_keymap_in_the_home_rebinds_a_key(
    db: Database, settings: Settings, catalog: SmallCatalog, staff: Staff, keymap: Path
) -> None:
    app = tui(db, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(app, pilot, "clerk.one")
        await go_tab(app, pilot, "stock")
        await press(app, pilot, "g")
        assert isinstance(app.screen, FormDialog)


async def test_the_theme_is_kept_for_the_next_session(
    db: Database, settings: Settings, staff: Staff, home: Path
) -> None:
    app = tui(db, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.theme != "nord"
        app.theme = "nord"
        await pilot.pause()
    assert 'theme = "nord"' in (home / "theme.toml").read_text(encoding="utf-8")
    app = tui(db, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.theme == "nord"
