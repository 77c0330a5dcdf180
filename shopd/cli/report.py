"""``shopctl report daily|weekly|monthly|campaign|targets`` and ``shopctl campaign check``."""

from __future__ import annotations

import asyncio
import datetime as dt
import getpass
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from shopd.analytics.service import Kpis, Period, kpis, targets
from shopd.cli import preflight, readiness
from shopd.cli import report_render as reports
from shopd.cli.common import load_settings, migrated_database, migrated_session, run
from shopd.cli.extras import need_extra
from shopd.cli.terminal import console, fail
from shopd.config import Settings
from shopd.formatting import format_money, format_number
from shopd.staff import shop_settings
from shopd.staff.audit import Actor
from shopd.unit_of_work import committing

report_app = typer.Typer(
    help="How the shop is doing: KPIs against targets as tables, CSV files and PNG charts.",
    no_args_is_help=True,
)
campaign_app = typer.Typer(help="Before a campaign: one go/no-go check.", no_args_is_help=True)

Out = Annotated[
    Path | None,
    typer.Option("--out", help="Also write CSV files and PNG charts into this folder."),
]


def _day(value: str | None, settings: Settings) -> dt.date:
    if value is None:
        return dt.datetime.now(ZoneInfo(settings.timezone)).date()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise fail(f"not a date: {value!r}", "write it as YYYY-MM-DD") from None


def _kpis(settings: Settings, period: Period) -> Kpis:
    async def count() -> Kpis:
        async with migrated_session(settings) as session:
            return await kpis(
                session, period, timezone=settings.timezone, currency=settings.currency
            )

    with console.status(f"counting {period.label}"):
        return run(count)


def _charts_need_extra(out: Path | None, command: str) -> None:
    """--out draws PNG charts, with matplotlib from the reports extra: asked before any work."""
    if out is not None:
        need_extra("reports", command)


def _show(k: Kpis, title: str, out: Path | None, *, per_day: bool, charts: list[str]) -> None:
    for table in reports.tables(k, title, per_day=per_day):
        console.print(table)
    if out is not None:
        with console.status("writing CSV files and drawing charts"):
            files = reports.write_csv(k, out)
            files += reports.draw(k, out, charts=charts)
        console.print(f"written: {', '.join(str(f) for f in files)}")


@report_app.command("daily")
def daily(
    date: Annotated[str | None, typer.Option(help="The day, YYYY-MM-DD (default: today).")] = None,
    out: Out = None,
) -> None:
    """One day's KPIs, top products, categories and searches; charts: funnel, orders per hour."""
    _charts_need_extra(out, "report daily")
    settings = load_settings()
    k = _kpis(settings, Period.of("day", _day(date, settings)))
    _show(k, "daily report", out, per_day=False, charts=["funnel", "hours"])


@report_app.command("weekly")
def weekly(
    date: Annotated[str | None, typer.Option(help="A day in the week (default: today).")] = None,
    out: Out = None,
) -> None:
    """Monday to Sunday, day by day; charts: sales per day, funnel."""
    _charts_need_extra(out, "report weekly")
    settings = load_settings()
    k = _kpis(settings, Period.of("week", _day(date, settings)))
    _show(k, "weekly report", out, per_day=True, charts=["sales", "funnel"])


@report_app.command("monthly")
def monthly(
    month: Annotated[
        str | None, typer.Option(help="The month, YYYY-MM (default: this month).")
    ] = None,
    out: Out = None,
) -> None:
    """The month day by day against its targets; charts: sales per day, funnel."""
    _charts_need_extra(out, "report monthly")
    settings = load_settings()
    day = _day(f"{month}-01" if month else None, settings)
    k = _kpis(settings, Period.of("month", day))
    _show(k, "monthly report", out, per_day=True, charts=["sales", "funnel"])


@report_app.command("campaign")
def campaign(
    start: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
    end: Annotated[
        str | None, typer.Option("--to", help="Last day, YYYY-MM-DD (default: the first).")
    ] = None,
    out: Out = None,
) -> None:
    """A campaign's days: day by day, orders per hour; charts: orders per hour, funnel, sales."""
    _charts_need_extra(out, "report campaign")
    settings = load_settings()
    first = _day(start, settings)
    last = _day(end, settings) if end else first
    if last < first:
        raise fail("--to is before --from")
    if (last - first).days > 366:
        raise fail("a campaign report covers at most a year")
    k = _kpis(settings, Period(first, last + dt.timedelta(days=1)))
    _show(k, "campaign report", out, per_day=True, charts=["hours", "funnel", "sales"])
    hours = Table(title="orders per hour")
    hours.add_column("hour", justify="right")
    hours.add_column("orders", justify="right")
    peak = max(k.hours)
    for hour, n in enumerate(k.hours):
        hours.add_row(f"{hour:02d}:00", f"[bold]{n}[/]" if n and n == peak else str(n))
    console.print(hours)


def _minor(value: float, what: str) -> int:
    if not 0 <= value <= 10**10:
        raise fail(f"{what} is out of range: {value}")
    return round(value * 100)


@report_app.command("targets")
def set_targets(
    monthly_sales: Annotated[
        float | None, typer.Option(help="Sales per month, in the currency (e.g. 150000.00).")
    ] = None,
    yearly_sales: Annotated[float | None, typer.Option(help="Sales per year.")] = None,
    daily_orders: Annotated[int | None, typer.Option(min=0, help="Orders per day.")] = None,
    conversion: Annotated[
        float | None, typer.Option(min=0, max=100, help="Conversion target in %, e.g. 2.")
    ] = None,
    favourable: Annotated[
        float | None,
        typer.Option(min=0, max=100, help="Favourable-review target in %, e.g. 98.5."),
    ] = None,
) -> None:
    """Show the targets; with options, set them first (recorded in the audit log)."""
    settings = load_settings()
    wanted: dict[str, int] = {}
    if monthly_sales is not None:
        wanted["monthly_sales_target"] = _minor(monthly_sales, "--monthly-sales")
    if yearly_sales is not None:
        wanted["yearly_sales_target"] = _minor(yearly_sales, "--yearly-sales")
    if daily_orders is not None:
        wanted["daily_orders_target"] = daily_orders
    if conversion is not None:
        wanted["conversion_target_bp"] = round(conversion * 100)
    if favourable is not None:
        wanted["favourable_review_target_bp"] = round(favourable * 100)
    actor = Actor(username=getpass.getuser(), role="admin", kind="operator")

    async def go() -> object:
        async with migrated_database(settings) as db, committing(db) as session:
            for key, value in wanted.items():
                await shop_settings.put(session, actor, key, value)
            return await targets(session)

    t = run(go)
    table = Table(title="targets")
    table.add_column("target")
    table.add_column("value", justify="right")
    cur = settings.currency
    table.add_row("sales per month", format_money(t.monthly_sales, cur) if t.monthly_sales else "–")
    table.add_row("sales per year", format_money(t.yearly_sales, cur) if t.yearly_sales else "–")
    table.add_row("orders per day", format_number(t.daily_orders) if t.daily_orders else "–")
    table.add_row("conversion", f"{t.conversion_bp / 100:.2f}%")
    table.add_row("favourable reviews", f"{t.favourable_bp / 100:.2f}%")
    console.print(table)


def _expect(value: list[str]) -> dict[str, int]:
    found = {}
    for item in value:
        code, sep, units = item.partition("=")
        if not sep or not code or not units.isdigit():
            raise fail(f"--expect wants SKU=UNITS, not {item!r}")
        found[code] = int(units)
    return found


@campaign_app.command("check")
def check(
    visitors: Annotated[
        int, typer.Option(min=1, max=10**9, help="Visitors expected on the campaign day.")
    ],
    date: Annotated[
        str | None, typer.Option(help="The campaign day, YYYY-MM-DD (default: today).")
    ] = None,
    peak_share: Annotated[
        float, typer.Option(min=0.01, max=1, help="Share of the day's visitors in the peak hour.")
    ] = 0.2,
    visit_minutes: Annotated[
        float, typer.Option(min=1, max=240, help="Minutes a visit lasts.")
    ] = 10,
    expect: Annotated[
        list[str] | None,
        typer.Option("--expect", help="SKU=UNITS: what a promoted SKU is expected to sell."),
    ] = None,
    capacity_dir: Annotated[
        Path, typer.Option("--capacity", help="Where `shopctl loadtest capacity` wrote its result.")
    ] = Path("var/loadtest-capacity"),
    capacity_days: Annotated[
        int, typer.Option(min=1, help="A capacity result older than this is not trusted.")
    ] = 14,
    backup_dir: Annotated[
        list[Path] | None,
        typer.Option(
            "--backup-dir",
            envvar="SHOPD_BACKUP_DIR",
            help="Backup folders (pulled ones sit per host below; default: <data dir>/backups).",
        ),
    ] = None,
    backup_hours: Annotated[
        float, typer.Option(min=1, help="The newest backup must be younger than this.")
    ] = 26,
    inventory: Annotated[
        Path | None,
        typer.Option(help="Check every app and db host in it over SSH (default: this machine)."),
    ] = None,
    lab: Annotated[bool, typer.Option("--lab", help="The hosts of the running lab.")] = False,
    url: Annotated[
        str, typer.Option(help="Without an inventory: the shop to ask /readyz.")
    ] = "http://127.0.0.1:8000",
    min_free_gb: Annotated[float, typer.Option(min=0, help="Free disk each host needs.")] = 5,
) -> None:
    """Go or no-go: expected peak against capacity, promoted stock, backups, hosts, disk."""
    if lab or inventory is not None:
        need_extra("ops", "campaign check")  # the hosts are checked over SSH, with Fabric
    settings = load_settings()
    day = _day(date, settings)
    zone = ZoneInfo(settings.timezone)
    start = dt.datetime.combine(day, dt.time(), zone).astimezone(dt.UTC)
    end = start + dt.timedelta(days=1)
    now = dt.datetime.now(dt.UTC)
    overrides = _expect(expect or [])
    min_free = int(min_free_gb * 2**30)

    async def from_db() -> tuple[readiness.Expected, list[readiness.Check]]:
        async with migrated_session(settings) as session:
            t = await targets(session)
            expected = readiness.expect(
                visitors, t.conversion_bp, peak_share=peak_share, visit_minutes=visit_minutes
            )
            stock = await readiness.promoted_stock(
                session, start, end, expected, overrides=overrides, now=now
            )
        return expected, [readiness.Check("database", True, "answers, schema current"), *stock]

    with console.status("checking the database and promoted stock"):
        try:
            expected, db_checks = asyncio.run(from_db())
        except (preflight.PreflightError, SQLAlchemyError, OSError) as exc:
            # The rest of the list still matters: say what is wrong here and go on.
            said = exc.message if isinstance(exc, preflight.PreflightError) else str(exc)
            default = shop_settings.KNOWN["conversion_target_bp"].default
            expected = readiness.expect(
                visitors, default, peak_share=peak_share, visit_minutes=visit_minutes
            )
            db_checks = [readiness.Check("database", False, said.splitlines()[0])]
    checks = [
        readiness.capacity(
            capacity_dir, expected, max_age=dt.timedelta(days=capacity_days), now=now
        ),
        *db_checks,
        readiness.backup(
            backup_dir or [settings.data_dir / "backups"],
            max_age=dt.timedelta(hours=backup_hours),
            now=now,
        ),
    ]
    with console.status("checking the hosts"):
        if lab:
            from infra.lab import lab as lab_env

            inventory = lab_env.inventory_path()
        if inventory is not None:
            from infra import inventory_file

            try:
                found = inventory_file.load(inventory)
            except inventory_file.InventoryError as exc:
                raise fail(str(exc)) from None
            checks += readiness.hosts(found, min_free=min_free)
        else:
            checks.append(readiness.ready(url))
            checks.append(readiness.free_disk(settings.data_dir, min_free=min_free))

    table = Table(
        title=(
            f"campaign check · {day} · {expected.visitors:,} visitors → {expected.orders:,} "
            f"orders, peak {expected.peak_users:,} shoppers at once"
        )
    )
    table.add_column("")
    table.add_column("check")
    table.add_column("detail")
    for c in checks:
        table.add_row("[green]GO[/]" if c.ok else "[bold red]NO[/]", c.name, c.detail)
    console.print(table)
    red = [c.name for c in checks if not c.ok]
    if red:
        console.print(f"[bold red]no-go:[/] {', '.join(red)}")
        raise typer.Exit(1)
    console.print("[bold green]go[/]")
