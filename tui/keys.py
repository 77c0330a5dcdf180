"""The keys of a screen, listed and run from one place (`?` or F1), and what a staff member
keeps between sessions in their home: their own keys (``keymap.toml``) and the theme.

Both live in ``$XDG_CONFIG_HOME/shopd/`` (``~/.config/shopd/``). ``keymap.toml`` maps a
binding's id to the keys that replace its own, e.g. ``"order.ship" = "S"``; every binding
has an id (the ``?`` screen shows it). The theme chosen in the command palette is written to
``theme.toml``; the keymap is the staff member's file and is only ever read."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "shopd"


def load_keymap() -> tuple[dict[str, str], str | None]:
    """The staff member's keymap (binding id → keys) and what is wrong with the file."""
    path = config_dir() / "keymap.toml"
    if not path.exists():
        return {}, None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return {}, f"{path}: {exc}"
    keymap = {k: v for k, v in data.items() if isinstance(v, str)}
    wrong = sorted(set(data) - set(keymap))
    problem = f"{path}: not a key string: {', '.join(wrong)}" if wrong else None
    return keymap, problem


def load_theme() -> str | None:
    try:
        data = tomllib.loads((config_dir() / "theme.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    theme = data.get("theme")
    return theme if isinstance(theme, str) else None


def save_theme(name: str) -> None:
    folder = config_dir()
    folder.mkdir(parents=True, exist_ok=True)
    # A JSON string is a TOML basic string.
    (folder / "theme.toml").write_text(f"theme = {json.dumps(name)}\n", encoding="utf-8")


class KeysScreen(ModalScreen[None]):
    """The keys the screen below offers now, each with what it does and its binding id;
    Enter runs the one highlighted, Escape closes."""

    BINDINGS = [Binding("escape,question_mark,f1", "dismiss", "Close", id="keys.close")]
    DEFAULT_CSS = """
    KeysScreen { align: center middle; }
    KeysScreen > Vertical { width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; padding: 0 1; background: $surface; }
    KeysScreen OptionList { height: auto; max-height: 20; }
    """

    def __init__(self, below: Screen[object]) -> None:
        super().__init__()
        self.below = below
        self.runs: list[tuple[object, str]] = []

    def compose(self) -> ComposeResult:
        options = []
        for node, binding, enabled in offered(self.below):
            state = "" if enabled else "  (not now)"
            ident = f"  [{binding.id}]" if binding.id else ""
            shown = self.app.get_key_display(binding)
            options.append(Option(f"{shown:>8}  {binding.description}{state}{ident}"))
            self.runs.append((node, binding.action))
        with Vertical():
            yield Label("Keys here — Enter runs one, Esc closes")
            yield OptionList(*options, id="keys-list")

    @on(OptionList.OptionSelected)
    def run(self, event: OptionList.OptionSelected) -> None:
        node, action = self.runs[event.option_index]
        self.dismiss(None)
        # Once this screen is gone, so the action's dialogs open over the screen it is for.
        self.app.call_later(self.app.run_action, action, node)


def offered(screen: Screen[object]) -> list[tuple[DOMNode, Binding, bool]]:
    """The TUI's bindings a screen offers now (once each, the ``why_not`` fallbacks left out):
    the node each belongs to, the binding, and whether it can be used right now."""
    seen: set[tuple[int, str]] = set()
    out = []
    for active in screen.active_bindings.values():
        binding = active.binding
        # Ours only (each has an id): not the table's own cursor keys, which need no list.
        if not (binding.id and binding.description) or binding.action.startswith("why_not"):
            continue
        if binding.action == "cancel_waiting":
            continue
        if (id(active.node), binding.action) in seen:
            continue
        seen.add((id(active.node), binding.action))
        out.append((active.node, binding, active.enabled))
    return out
