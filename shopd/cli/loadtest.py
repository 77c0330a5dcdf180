"""``shopctl loadtest run|capacity``: Locust profiles with pass/fail thresholds (see loadtest/)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from backups.database import BackupError, Database
from loadtest import capacity as cap
from loadtest import consistency, results, runner
from shopd.cli.extras import need_extra
from shopd.cli.terminal import console, err, fail

if TYPE_CHECKING:
    from loadtest import cpu_use

Watch = Callable[[list[results.Endpoint], list[results.Sample]], bool]
loadtest_app = typer.Typer(
    help="Load tests: Locust profiles, thresholds, consistency check, capacity search.",
    no_args_is_help=True,
)

Profile = Annotated[str, typer.Option("--profile", help="browse | campaign | flash-sale | staff")]
Url = Annotated[str, typer.Option("--url", help="The shop under test.")]
Db = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="SHOPD_DATABASE_URL",
        help="The shop's database, for the consistency check after the run.",
        show_default=False,
    ),
]
Out = Annotated[Path, typer.Option("--out", help="CSV, HTML report, log and plot go here.")]
P95 = Annotated[float, typer.Option("--p95", help="Threshold for p95, ms.")]
P99 = Annotated[float, typer.Option("--p99", help="Threshold for p99, ms.")]
Errors = Annotated[float, typer.Option("--max-errors", help="Threshold for failed requests, %.")]
Workers = Annotated[
    int, typer.Option("--workers", min=0, help="Local Locust worker processes (0: one process).")
]
WatchPids = Annotated[
    list[int] | None,
    typer.Option(
        "--watch-pid",
        help="A process on this machine (with its children) whose CPU per request to report: "
        "the shop's server, the database. Repeatable.",
        show_default=False,
    ),
]


def _table(rows: list[results.Endpoint], title: str) -> Table:
    table = Table(title=title)
    for column in ("endpoint", "requests", "failures", "req/s", "p50 ms", "p95 ms", "p99 ms"):
        table.add_column(column, justify="left" if column == "endpoint" else "right")
    for r in rows:
        style = "bold" if r.name == "Aggregated" else ""
        table.add_row(
            escape(r.name),
            str(r.requests),
            f"[red]{r.failures}[/]" if r.failures else "0",
            f"{r.rps:.1f}",
            f"{r.p50:.0f}",
            f"{r.p95:.0f}",
            f"{r.p99:.0f}",
            style=style,
        )
    return table


def _live_view(started: float) -> tuple[Live, Watch]:
    live = Live(Table(title="starting Locust…"), console=console, refresh_per_second=2)

    def watch(rows: list[results.Endpoint], history: list[results.Sample]) -> bool:
        users = history[-1].users if history else 0
        overall = results.total(rows)
        view = Table(title=f"{time.monotonic() - started:.0f} s · {users} users")
        for column in ("req/s", "requests", "failures", "p50 ms", "p95 ms", "p99 ms"):
            view.add_column(column, justify="right")
        if overall:
            current = history[-1] if history else None
            view.add_row(
                f"{current.rps if current else overall.rps:.1f}",
                str(overall.requests),
                str(overall.failures),
                f"{overall.p50:.0f}",
                f"{(current.p95 if current else overall.p95):.0f}",
                f"{(current.p99 if current else overall.p99):.0f}",
            )
        live.update(view)
        return True

    return live, watch


def _cpu_table(report: cpu_use.Report) -> Table:
    table = Table(
        title=f"CPU over {report.seconds:.0f} s · the machine {report.machine_busy:.0%} busy "
        f"on {report.machine_cores} cores"
    )
    for column in ("process", "CPU s", "cores busy", "ms per request"):
        table.add_column(column, justify="left" if column == "process" else "right")
    for use in report.uses:
        table.add_row(
            escape(use.name),
            f"{use.cpu_seconds:.1f}",
            f"{use.cores:.2f}",
            f"{use.ms_per_request:.2f}",
        )
    return table


def _meter(pids: list[int] | None) -> cpu_use.CpuMeter:
    # psutil comes with the loadtest extra, which the app servers' shopctl does not have.
    from loadtest import cpu_use

    try:
        return cpu_use.CpuMeter(pids or [])
    except cpu_use.WatchError as exc:
        raise fail(str(exc)) from None


def _mark(meter: cpu_use.CpuMeter) -> cpu_use.Mark:
    from loadtest import cpu_use

    try:
        return meter.mark()
    except cpu_use.WatchError as exc:
        raise fail(str(exc)) from None


def _consistency(db: str | None, out: Path) -> list[str]:
    if not db:
        err.print("[yellow]no --db: the consistency check was skipped[/]")
        return ["consistency not checked (give --db or SHOPD_DATABASE_URL)"]
    try:
        problems = consistency.check(Database.from_url(db), out)
    except BackupError as exc:
        return [f"consistency check failed to run: {exc}"]
    accepted = len(consistency.accepted_orders(out))
    if not problems:
        console.print(
            f"[green]consistent:[/] {accepted} accepted checkouts are orders, nothing oversold, "
            "the stock ledger sums to on-hand"
        )
    return problems


def _drive(spec: runner.RunSpec, live: Live, watch: Watch) -> None:
    """Locust under the live view; one that cannot start is a clear error, not a traceback."""
    try:
        with live:
            runner.run(spec, watch)
    except runner.LoadTestError as exc:
        raise fail(str(exc)) from None


@loadtest_app.command("run")
def run(
    profile: Profile = "campaign",
    url: Url = "http://127.0.0.1:8000",
    users: Annotated[int, typer.Option("--users", min=1, max=100_000)] = 100,
    spawn_rate: Annotated[float, typer.Option("--spawn-rate", min=0.1)] = 20,
    duration: Annotated[str, typer.Option("--duration", help="e.g. 30s, 5m")] = "60s",
    db: Db = None,
    out: Out = Path("var/loadtest"),
    p95: P95 = 300,
    p99: P99 = 1000,
    max_errors: Errors = 0.1,
    workers: Workers = 0,
    watch_pid: WatchPids = None,
) -> None:
    """Run a profile headless; exit 1 when a threshold is missed or the shop is inconsistent.
    With --watch-pid, also what the run cost in CPU per request (saved to cpu.json)."""
    need_extra("loadtest", "loadtest run")
    limits = results.Thresholds(p95, p99, max_errors / 100)
    spec = runner.RunSpec(profile, url, out, users, spawn_rate, duration, workers)
    meter = _meter(watch_pid)
    live, watch = _live_view(time.monotonic())
    first = _mark(meter)
    _drive(spec, live, watch)
    rows = results.read_stats(spec.prefix)
    overall = results.total(rows)
    cpu = meter.report(first, _mark(meter), overall.requests if overall else 0)
    console.print(_table(rows, f"{profile} · {users} users · {duration} · {url}"))
    console.print(_cpu_table(cpu))
    cpu.save(out / "cpu.json")
    for warning in cpu.warnings(max(workers, 1)):
        err.print(f"[yellow]note:[/] {warning}")
    missed = results.verdict(overall, limits)
    if profile != "ceiling":  # the bare endpoint has no shop behind it to check
        missed += _consistency(db, out)
    console.print(f"CSV and report: {out}/locust_*.csv, {out}/report.html")
    if missed:
        for line in missed:
            err.print(f"[bold red]FAIL[/] {line}")
        raise typer.Exit(1)
    console.print(
        f"[bold green]PASS[/] p95 ≤ {p95:.0f} ms, p99 ≤ {p99:.0f} ms, errors ≤ {max_errors}%"
    )


@loadtest_app.command("capacity")
def capacity(
    profile: Profile = "campaign",
    url: Url = "http://127.0.0.1:8000",
    start: Annotated[int, typer.Option(min=1, help="Users in the first step.")] = 100,
    step: Annotated[int, typer.Option(min=1, help="Users added per step.")] = 100,
    step_seconds: Annotated[float, typer.Option(min=3, help="Seconds per step.")] = 30,
    max_users: Annotated[int, typer.Option(min=1)] = 3000,
    db: Db = None,
    out: Out = Path("var/loadtest-capacity"),
    p95: P95 = 300,
    p99: P99 = 1000,
    max_errors: Errors = 0.1,
    workers: Workers = 0,
    watch_pid: WatchPids = None,
) -> None:
    """Raise users step by step until a threshold breaks; report the most users that held,
    and how busy the machine was at each step."""
    need_extra("loadtest", "loadtest capacity")
    limits = results.Thresholds(p95, p99, max_errors / 100)
    spec = runner.RunSpec(
        profile, url, out, workers=workers, steps=(start, step, step_seconds, max_users)
    )
    meter = _meter(watch_pid)
    live, show = _live_view(time.monotonic())
    _mark(meter)

    def watch(rows: list[results.Endpoint], history: list[results.Sample]) -> bool:
        _mark(meter)
        show(rows, history)
        # Stop at the first step that broke: more users would only break it harder. The step
        # still running is judged when it is over, not on its first seconds.
        return not cap.broke(cap.finished_steps(history, limits))

    _drive(spec, live, watch)
    history = results.read_history(spec.prefix)
    judged = cap.steps(history, limits)
    found = cap.capacity(judged)
    table = Table(title=f"capacity · {profile} · {url}")
    for column in ("users", "seconds", "req/s", "p95 ms", "p99 ms", "errors", "held"):
        table.add_column(column, justify="right")
    cpu_table = Table(title="CPU per request at each step, ms")
    # Headers without the PIDs, which cpu.json keeps: the table stays narrow enough to read.
    for column in ("users", "machine busy", "Locust", *meter.commands):
        cpu_table.add_column(escape(column), justify="right")
    steps_cpu = []
    for s in judged:
        table.add_row(
            str(s.users),
            f"{s.seconds:.0f}",
            f"{s.rps:.1f}",
            f"{s.p95:.0f}",
            f"{s.p99:.0f}",
            f"{s.error_rate:.2%}",
            "[green]yes[/]" if s.held else "[red]no[/]",
        )
        cpu = meter.within(s.started_at, s.ended_at, s.requests)
        steps_cpu.append({"users": s.users, "cpu": asdict(cpu) if cpu else None})
        if cpu is not None:
            cpu_table.add_row(
                str(s.users),
                f"{cpu.machine_busy:.0%}",
                *(f"{u.ms_per_request:.2f}" for u in cpu.uses),
            )
    (out / "cpu.json").write_text(json.dumps(steps_cpu, indent=2) + "\n")
    console.print(table)
    console.print(cpu_table)
    png = cap.plot(history, limits, found, out / "capacity.png") if history else None
    cap.save_result(
        out, users=found, profile=profile, url=url, limits=limits, complete=cap.broke(judged)
    )
    problems = _consistency(db, out)
    console.print(
        f"[bold]capacity: {found} users[/] held p95 ≤ {p95:.0f} ms, p99 ≤ {p99:.0f} ms, "
        f"errors ≤ {max_errors}%" + (f" · plot: {png}" if png else "")
    )
    if not cap.broke(judged):
        console.print(f"[yellow]no step broke up to {max_users} users: raise --max-users[/]")
    if problems or found == 0:
        for line in problems:
            err.print(f"[bold red]FAIL[/] {line}")
        raise typer.Exit(1)
