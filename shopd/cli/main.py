"""``shopctl``: one command line over the shop."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shopd import migrations
from shopd.cli import preflight
from shopd.cli.backup import backup_app
from shopd.cli.common import load_settings, migrated_database, run, settings_or_fail
from shopd.cli.deploy import deploy, make_secrets_file
from shopd.cli.lab import lab_app
from shopd.cli.loadtest import loadtest_app
from shopd.cli.report import campaign_app, report_app
from shopd.cli.terminal import console, fail
from shopd.config import Settings, get_settings
from shopd.db import Database
from shopd.errors import DomainError
from shopd.unit_of_work import committing

app = typer.Typer(
    help="shopd — run, provision, back up and load-test the shop.", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema and demo data.", no_args_is_help=True)
staff_app = typer.Typer(help="Staff accounts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(staff_app, name="staff")

app.add_typer(backup_app, name="backup")
app.add_typer(loadtest_app, name="loadtest")
app.add_typer(lab_app, name="lab")
app.add_typer(report_app, name="report")
app.add_typer(campaign_app, name="campaign")
app.command("deploy")(deploy)
app.command("make-secrets")(make_secrets_file)


async def _upgrade(url: str) -> tuple[str | None, str | None]:
    await preflight.check_database_reachable(url)
    return await migrations.upgrade(url)


def do_upgrade(settings: Settings) -> None:
    url = settings.effective_database_url
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    with console.status("Migrating the database…"):
        before, after = run(lambda: _upgrade(url))
    if before == after:
        console.print(f"[green]✓[/] database schema is up to date (revision {after})")
    else:
        console.print(f"[green]✓[/] database schema upgraded: {before or 'empty'} → {after}")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations (safe on an empty and on an up-to-date database)."""
    do_upgrade(load_settings())


@db_app.command("status")
def db_status() -> None:
    """The schema revision of the database against this shopd's; exit 0 only when up to date.

    Deploys ask this before migrating, so a migration that failed is retried and an up-to-date
    database is left alone."""
    settings = settings_or_fail()
    url = settings.effective_database_url

    async def current() -> str | None:
        await preflight.check_database_reachable(url)
        return await migrations.current_revision(url)

    have, want = run(current), migrations.head_revision()
    console.print(f"database {have or 'empty'} · this shopd {want}")
    if have != want:
        raise typer.Exit(3)


async def _seed(settings: Settings, products: int, progress: Progress) -> dict[str, int] | None:
    from shopd.cli.demo import catalog_size, seed

    async with migrated_database(settings) as db, committing(db) as session:
        if await catalog_size(session):
            return None
        task = progress.add_task("Seeding the demo catalog", total=products)
        return await seed(
            session,
            products,
            progress=lambda n: progress.advance(task, n),
            shipping=(settings.shipping_fee, settings.free_shipping_over, settings.currency),
        )


def do_seed(settings: Settings, products: int) -> None:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        made = run(lambda: _seed(settings, products, progress))
    if made is None:
        console.print("[yellow]•[/] the catalog has products already; demo data not added")
        return
    table = Table(title="Demo catalog", show_header=True)
    for key in made:
        table.add_column(key, justify="right")
    table.add_row(*(str(v) for v in made.values()))
    console.print(table)


@db_app.command("seed-demo")
def db_seed_demo(
    products: Annotated[int, typer.Option(min=1, max=200_000, help="how many products")] = 36,
) -> None:
    """Fill an empty database with the demo catalog (two series, a dozen categories)."""
    do_seed(load_settings(), products)


async def _add_staff(settings: Settings, name: str, role: str, password: str, reset: bool) -> None:
    from shopd.staff import service

    async with migrated_database(settings) as db, committing(db) as session:
        if reset:
            try:
                await service.set_password(session, name, password)
            except DomainError:
                await service.add_staff(session, name, role, password)
        else:
            await service.add_staff(session, name, role, password)


@staff_app.command("add")
def staff_add(
    name: Annotated[str, typer.Argument(help="log-in name, e.g. li.na")],
    role: Annotated[str, typer.Option(help="clerk | manager | admin")] = "clerk",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from standard input")
    ] = False,
) -> None:
    """Create a staff account. Without --password-stdin a password is generated and shown once."""
    from shopd.security import new_password
    from shopd.staff.service import check_role, check_username

    settings = load_settings()
    try:
        check_username(name)
        check_role(role)
    except DomainError as exc:
        raise fail(exc.message) from None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise fail("no password on standard input")
    else:
        password = new_password()
    run(lambda: _add_staff(settings, name, role, password, reset=False))
    console.print(f"[green]✓[/] staff account [bold]{name}[/] ({role}) created")
    if not password_stdin:
        console.print(f"  password: [bold]{password}[/]  [dim](shown once; store it now)[/]")


def _serve(
    host: str,
    port: int,
    workers: int,
    log_level: str,
    access_log: bool = False,
    trusted_proxies: str = "127.0.0.1",
) -> None:
    import uvicorn

    from shopd.server.access_log import log_config
    from shopd.server.serving import LastRequestProtocol, serve

    config = uvicorn.Config(
        "shopd.server.app:create_app",
        factory=True,
        http=LastRequestProtocol,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        proxy_headers=True,
        # Only these proxies' X-Forwarded-For is believed (the right-most address not theirs).
        forwarded_allow_ips=trusted_proxies,
        server_header=False,
        # Off by default: a log line per request is work under load, and nginx in front logs them.
        access_log=access_log,
        log_config=log_config(),
    )
    serve(config)


def _check_port(host: str, port: int) -> None:
    try:
        preflight.check_port_free(host, port)
    except preflight.PreflightError as exc:
        raise fail(exc.message, exc.hint) from None


def _preflight_serve(settings: Settings) -> None:
    url = settings.effective_database_url

    async def checks() -> None:
        await preflight.check_database_reachable(url)
        await preflight.check_migrated(url)

    run(checks)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="worker processes")] = 1,
    log_level: Annotated[str, typer.Option(help="debug | info | warning | error")] = "info",
    access_log: Annotated[
        bool, typer.Option(help="log every request (off: nginx logs them)")
    ] = False,
) -> None:
    """Serve the shop with the configured database (SHOPD_DATABASE_URL)."""
    settings = load_settings()
    _check_port(host, port)
    _preflight_serve(settings)
    _serve(host, port, workers, log_level, access_log, settings.trusted_proxies)


@app.command("tui")
def staff_tui(
    url: Annotated[
        str, typer.Option(envvar="SHOPD_TUI_URL", help="the shop's address (staff API)")
    ] = "http://127.0.0.1:8000",
) -> None:
    """The staff TUI: orders and stock in the terminal (also over SSH)."""
    from tui.app import StaffApp

    StaffApp(url).run()


@app.command()
def worker(
    once: Annotated[bool, typer.Option(help="run one round and exit (cron, tests)")] = False,
) -> None:
    """Run the background jobs (e-mail outbox, unpaid-order expiry) on their own; set
    SHOPD_BACKGROUND_JOBS=false on the servers then."""
    from shopd.server import jobs

    settings = load_settings()
    _preflight_serve(settings)

    async def go() -> None:
        db = Database(settings.effective_database_url)
        try:
            if once:
                report = await jobs.run_once(db, settings)
                console.print(
                    f"mail sent {report.mail.sent}, failed {report.mail.failed}, "
                    f"gave up {report.mail.gave_up}; unpaid orders cancelled {len(report.expired)}"
                )
            else:
                console.print(
                    f"[green]worker running[/] every {settings.job_interval_seconds:g}s "
                    "[dim](Ctrl-C stops it)[/]"
                )
                await jobs.run_forever(db, settings)
        finally:
            await db.dispose()

    try:
        run(go)
    except KeyboardInterrupt:
        console.print("worker stopped")


@app.command()
def paygate(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8100,
) -> None:
    """Run the local test payment gateway (key and webhook secret from
    SHOPD_PAYMENT_GATEWAY_KEY and SHOPD_PAYMENT_WEBHOOK_SECRET)."""
    import uvicorn

    from shopd.cli.paygate import create_gateway_app

    settings = load_settings()
    if not settings.payment_gateway_key or not settings.payment_webhook_secret:
        raise fail(
            "the gateway needs a key and a webhook secret",
            "set SHOPD_PAYMENT_GATEWAY_KEY and SHOPD_PAYMENT_WEBHOOK_SECRET",
        )
    _check_port(host, port)
    uvicorn.run(
        create_gateway_app(
            settings.payment_gateway_key,
            settings.payment_webhook_secret,
            f"http://{host}:{port}",
        ),
        host=host,
        port=port,
        log_level="warning",
    )


@app.command()
def demo(
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    products: Annotated[int, typer.Option(min=1, max=200_000)] = 36,
    data_dir: Annotated[Path, typer.Option(help="where the SQLite file lives")] = Path("var"),
) -> None:
    """Run a demo shop on SQLite: migrate, seed, create the staff admin, serve."""
    from shopd.security import new_password

    os.environ.pop("SHOPD_DATABASE_URL", None)
    os.environ["SHOPD_DATA_DIR"] = str(data_dir.resolve())
    get_settings.cache_clear()
    settings = load_settings()
    _check_port(host, port)
    gateway_port = preflight.free_port(host)
    gateway_url = f"http://{host}:{gateway_port}"
    secrets_for_demo = {
        "SHOPD_PUBLIC_URL": f"http://{host}:{port}",
        "SHOPD_PAYMENT_GATEWAY_URL": gateway_url,
        "SHOPD_PAYMENT_GATEWAY_KEY": secrets.token_urlsafe(24),
        "SHOPD_PAYMENT_WEBHOOK_SECRET": secrets.token_urlsafe(32),
        "SHOPD_MAIL_BACKEND": "files",
        "SHOPD_JOB_INTERVAL_SECONDS": os.environ.get("SHOPD_JOB_INTERVAL_SECONDS", "5"),
    }
    os.environ.update(secrets_for_demo)
    get_settings.cache_clear()
    # The gateway is its own process, reached over HTTP like a real provider. It starts first
    # so that it boots while the database is migrated and seeded.
    paygate = subprocess.Popen(
        [sys.executable, "-m", "shopd.cli", "paygate", "--host", host, "--port", str(gateway_port)]
    )
    try:
        do_upgrade(settings)
        do_seed(settings, products)
        password = new_password()
        run(lambda: _add_staff(settings, "admin", "admin", password, reset=True))
        with console.status("waiting for the local test payment gateway"):
            try:
                preflight.wait_until_listening(
                    host, gateway_port, lambda: paygate.poll() is None, seconds=60
                )
            except preflight.PreflightError as exc:
                raise fail(f"the test payment gateway did not start: {exc.message}") from None
        base = f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{port}"
        console.print(
            Panel.fit(
                f"[bold]shop[/]        {base}/\n"
                f"[bold]API[/]         {base}/api/v1/products\n"
                f"[bold]API docs[/]    {base}/schema  (OpenAPI JSON: {base}/schema/openapi.json)\n"
                f"[bold]health[/]      {base}/healthz\n"
                f"[bold]database[/]    {settings.effective_database_url.split('///', 1)[-1]}\n"
                f"[bold]staff admin[/] admin / [bold yellow]{password}[/]  [dim](shown once)[/]",
                title=f"{settings.shop_name} is starting",
                border_style="green",
            )
        )
        console.print(
            f"[dim]Card payments go to the local test gateway at {gateway_url}; "
            f"e-mails are written to {settings.data_dir / 'mail'}. Ctrl-C stops the shop.[/]"
        )
        _serve(host, port, 1, "info")
    finally:
        paygate.terminate()
        try:
            paygate.wait(timeout=10)
        except subprocess.TimeoutExpired:
            paygate.kill()
