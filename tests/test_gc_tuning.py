"""A serving worker freezes what it built at start and collects cyclic garbage less often."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from litestar.testing import AsyncTestClient

from shopd.config import Settings
from shopd.db import Database
from shopd.server import gc_tuning
from shopd.server.app import create_app


@pytest.fixture
def restored_gc() -> Iterator[None]:
    before = gc.get_threshold()
    gc.unfreeze()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


@pytest.mark.parametrize("tuned", [True, False])
async def test_a_worker_that_starts_tunes_the_collector_unless_told_not_to(
    db: Database, settings: Settings, restored_gc: None, tuned: bool
) -> None:
    defaults = gc.get_threshold()
    app = create_app(settings.model_copy(update={"gc_tuned": tuned}), database=db)
    async with AsyncTestClient(app) as client:
        assert (await client.get("/healthz")).status_code == 200
        if tuned:
            assert gc.get_threshold() == gc_tuning.THRESHOLDS
            # The modules and the app built at start are out of every collection's walk.
            assert gc.get_freeze_count() > 10_000
        else:
            assert gc.get_threshold() == defaults
            assert gc.get_freeze_count() == 0
