"""KPIs for staff tools (the TUI's dashboard, an owner's spreadsheet): ``GET
/api/v1/staff/reports/kpis`` for a day, week, month or year, or the last N days."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from litestar import Controller, get
from litestar.params import QueryParameter

from shopd.analytics.schemas import KpisOut, kpis_out
from shopd.analytics.service import Period, kpis
from shopd.errors import InvalidInput
from shopd.http import DB, Conf
from shopd.staff.api import ACTOR, GUARDS, StaffActor

MAX_DAYS = 366


class StaffReportController(Controller):
    path = "/api/v1/staff/reports"
    tags = ["staff reports"]
    dependencies = ACTOR
    guards = GUARDS

    @get("/kpis", opt={"role": "clerk"})
    async def kpis(
        self,
        actor: StaffActor,
        db: DB,
        settings: Conf,
        span: Annotated[Literal["day", "week", "month", "year"] | None, QueryParameter()] = None,
        date: Annotated[dt.date | None, QueryParameter()] = None,
        days: Annotated[int | None, QueryParameter(ge=1, le=MAX_DAYS)] = None,
    ) -> KpisOut:
        """KPIs of the ``span`` holding ``date`` (default: today), or of the last ``days``
        days up to today, in the shop's time zone; ``days`` holds each day's figures."""
        actor.require("clerk")
        today = dt.datetime.now(ZoneInfo(settings.timezone)).date()
        if days is not None:
            if span is not None or date is not None:
                raise InvalidInput("ask for days, or for a span and date", code="invalid_period")
            period = Period(today - dt.timedelta(days=days - 1), today + dt.timedelta(days=1))
        else:
            period = Period.of(span or "day", date or today)
        async with db.read() as session:
            k = await kpis(session, period, timezone=settings.timezone, currency=settings.currency)
        return kpis_out(k)
