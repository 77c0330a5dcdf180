"""Keys in the order they were typed, each one where the key before it put the focus.

Textual hands a key to whatever has focus when the app takes it off its queue, then goes on
to the next key at once; the key's own effect — Tab moving on, `/` focusing the search box, a
command opening a dialog — happens later, when the focused widget and its parents get round to
it. Keys that arrive in one batch (a barcode scanner, SSH joining keystrokes into one packet)
are therefore all handed to the widget that had focus before the first of them: a password
typed after Tab lands in the name field, a reference after Tab in the quantity, letters after
`/` run the table's commands.

``KeysInOrder`` holds each key back until the one before it has been handled, focus changes
and newly opened screens included, so a batch of keys lands exactly where slow typing would
put it. A key whose handler never settles (it should not: requests run in workers) is let
through after ``SETTLE_LIMIT`` seconds rather than freezing the keyboard."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from textual import events

if TYPE_CHECKING:
    from textual.app import App
    from textual.message_pump import MessagePump

SETTLE_LIMIT = 2.0
# Rounds with nothing left to do before the next key goes: one round lets a worker started
# by the key run up to its first await (e.g. pushing its dialog); the next sees its effects.
QUIET_ROUNDS = 2


class KeysInOrder:
    """Mixed into the App before ``App``: gates raw key events one at a time."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._held_keys: deque[events.Key] = deque()
        self._released_keys: set[int] = set()
        self._key_feeder: asyncio.Task[None] | None = None

    def holding_keys(self) -> bool:
        """Whether keys typed are still waiting for the ones before them."""
        return bool(self._held_keys) or (
            self._key_feeder is not None and not self._key_feeder.done()
        )

    def stop_holding_keys(self) -> None:
        """On the way out: the keys not yet handled are dropped."""
        self._held_keys.clear()
        if self._key_feeder is not None:
            self._key_feeder.cancel()

    async def on_event(self, event: events.Event) -> None:
        if (
            isinstance(event, events.Key)
            and not event.is_forwarded
            and id(event) not in self._released_keys
        ):
            self._held_keys.append(event)
            if self._key_feeder is None or self._key_feeder.done():
                self._key_feeder = asyncio.create_task(self._feed_keys())
            return
        if isinstance(event, events.Key):
            self._released_keys.discard(id(event))
        await super().on_event(event)  # type: ignore[misc]

    async def _feed_keys(self) -> None:
        app: App[object] = self  # type: ignore[assignment]
        while self._held_keys:
            key = self._held_keys.popleft()
            self._released_keys.add(id(key))
            app.post_message(key)
            await self._settled()

    def _pumps(self) -> list[MessagePump]:
        app: App[object] = self  # type: ignore[assignment]
        try:
            return [app, *app.screen.walk_children(with_self=True)]
        except Exception:  # no screen (starting or closing): only the app's own queue
            return [app]

    async def _settled(self) -> None:
        """Until every message the last key caused — through every widget it bubbled to, the
        focus moves and mounts it asked for — has been handled."""
        app: App[object] = self  # type: ignore[assignment]
        deadline = time.monotonic() + SETTLE_LIMIT
        quiet = 0
        while quiet < QUIET_ROUNDS and time.monotonic() < deadline:
            before = (app.screen_stack[-1:], app.focused)
            pumps = self._pumps()
            idle = all(p._message_queue.empty() for p in pumps)
            await self._round(pumps, deadline - time.monotonic())
            after = (app.screen_stack[-1:], app.focused)
            quiet = quiet + 1 if idle and before == after else 0

    @staticmethod
    async def _round(pumps: list[MessagePump], timeout: float) -> None:
        """Each queue handles what it holds now (a callback queued behind it has run)."""
        pending = 0
        done = asyncio.Event()

        def one_done() -> None:
            nonlocal pending
            pending -= 1
            if pending == 0:
                done.set()

        for pump in pumps:
            if pump.call_later(one_done):
                pending += 1
        if pending:
            try:
                await asyncio.wait_for(done.wait(), max(timeout, 0.01))
            except TimeoutError:
                return
        else:
            await asyncio.sleep(0)
