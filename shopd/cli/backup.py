"""``shopctl backup create|list|verify|restore|prune|pull``: backups proven by restoring them."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from prometheus_client import CollectorRegistry, Gauge, write_to_textfile
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from backups import retention, store
from backups.create import create as create_backup
from backups.database import BackupError, Database
from backups.restore import parse_position, parse_until
from backups.restore import restore as restore_backup
from backups.verify import verify as verify_backup
from shopd.cli.extras import need_extra
from shopd.cli.terminal import console, err, fail
from shopd.config import Settings

backup_app = typer.Typer(
    help="Backups: create, list, verify by restoring, restore (to a point in time), prune, pull.",
    no_args_is_help=True,
)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="SHOPD_DATABASE_URL",
        help="Database to back up (default: the shop's own, SHOPD_DATABASE_URL).",
        show_default=False,
    ),
]
DirOption = Annotated[
    Path | None,
    typer.Option(
        "--dir",
        envvar="SHOPD_BACKUP_DIR",
        help="Backup directory (default: <data dir>/backups).",
        show_default=False,
    ),
]
ScratchOption = Annotated[
    str | None,
    typer.Option(
        "--scratch",
        envvar="SHOPD_BACKUP_SCRATCH_URL",
        help="MariaDB server for the throwaway verify database (default: the --db server).",
        show_default=False,
    ),
]
IdentityOption = Annotated[
    Path | None,
    typer.Option("--identity", help="age identity (private key) file for encrypted backups."),
]


def _directory(directory: Path | None) -> Path:
    return directory or Settings().data_dir / "backups"


def _database(url: str | None) -> Database:
    return Database.from_url(url or Settings().effective_database_url)


def _scratch(scratch: str | None, db: str | None) -> Database | None:
    if scratch:
        return Database.from_url(scratch)
    with contextlib.suppress(BackupError):
        source = _database(db)
        if source.kind == "mysql":
            return source
    return None


@contextlib.contextmanager
def _bytes_progress(description: str, total: int | None = None) -> Iterator[Progress]:
    columns = (
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=True) as progress:
        progress.add_task(description, total=total)
        yield progress


def _advance(progress: Progress):  # type: ignore[no-untyped-def]
    task = progress.task_ids[0]
    return lambda n: progress.advance(task, n)


@contextlib.contextmanager
def _failing() -> Iterator[None]:
    try:
        yield
    except (BackupError, OSError) as exc:
        raise fail(str(exc)) from None


def _age(when: dt.datetime) -> str:
    seconds = int((store.utcnow() - when).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{max(seconds, 0)}s"


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


@backup_app.command("create")
def create(
    db: DbOption = None,
    directory: DirOption = None,
    encrypt_to: Annotated[
        list[str] | None,
        typer.Option("--encrypt-to", help="age recipient (public key); repeat for several."),
    ] = None,
    verify: Annotated[bool, typer.Option("--verify", help="Verify it right away.")] = False,
    scratch: ScratchOption = None,
    identity: IdentityOption = None,
    prune: Annotated[
        bool, typer.Option("--prune", help="Apply the default retention afterwards.")
    ] = False,
    metrics: Annotated[
        Path | None,
        typer.Option("--metrics", help="Write Prometheus text-file metrics here (node exporter)."),
    ] = None,
) -> None:
    """Back up the database without stopping the shop (compressed, with a manifest)."""
    folder = _directory(directory)
    ok = False
    try:
        with _failing():
            source = _database(db)
            sqlite_file = Path(source.name) if source.kind == "sqlite" else None
            total = sqlite_file.stat().st_size if sqlite_file and sqlite_file.is_file() else None
            with _bytes_progress(f"backing up {source.label}", total) as progress:
                backup = create_backup(
                    source, folder, recipients=encrypt_to or (), progress=_advance(progress)
                )
            m = backup.manifest
            binlog = m["binlog"]
            console.print(
                f"[green]backup {backup.id}[/] · {_size(m['size'])} · {m['rows_total']} rows in "
                f"{len(m['tables'])} tables · schema {m['schema_version']}"
                + (f" · binlog {binlog['file']}:{binlog['position']}" if binlog else "")
            )
            console.print(f"file: {backup.path}")
            ok = True
            if verify:
                ok = _verify_one(backup, _scratch(scratch, db), identity)
            if prune:
                _prune(folder, retention.Policy(), dry_run=False)
    finally:
        if metrics:
            _write_metrics(metrics, folder, ok)
    if not ok:
        raise typer.Exit(1)


def _write_metrics(path: Path, folder: Path, ok: bool) -> None:
    """Node-exporter text file: a failed nightly backup shows on the dashboard and in alerts."""
    registry = CollectorRegistry()
    backups, damaged = store.scan(folder)
    good = [b for b in backups if b.verified]
    gauges = {
        "shopd_backup_last_run_ok": ("1 when the last backup run succeeded", 1 if ok else 0),
        "shopd_backup_last_run_timestamp_seconds": (
            "when the last backup run ended",
            store.utcnow().timestamp(),
        ),
        "shopd_backup_last_verified_timestamp_seconds": (
            "creation time of the newest verified backup",
            good[-1].created_at.timestamp() if good else 0,
        ),
        "shopd_backup_count": ("backups in the directory", len(backups)),
        "shopd_backup_damaged_manifests": (
            "manifests that cannot be read or fail their checksum",
            len(damaged),
        ),
        "shopd_backup_last_size_bytes": (
            "size of the newest backup",
            backups[-1].manifest["size"] if backups else 0,
        ),
    }
    for name, (doc, value) in gauges.items():
        Gauge(name, doc, registry=registry).set(value)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_to_textfile(str(path), registry)


@backup_app.command("list")
def list_backups(
    directory: DirOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """The backups with age, size, rows and verification status."""
    folder = _directory(directory)
    backups, damaged = store.scan(folder)
    if as_json:
        print(
            json.dumps(
                [
                    {**b.manifest, "status": b.status, "verification": b.verification}
                    for b in backups
                ]
                + [
                    {"manifest": d.path.name, "status": "DAMAGED", "problem": d.problem}
                    for d in damaged
                ],
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    _report_damaged(damaged)
    if not backups:
        console.print(f"no backups in {folder}")
        return
    table = Table(title=f"backups in {folder}")
    for column in ("id", "age", "size", "rows", "schema", "binlog", "status", "checked"):
        table.add_column(column, justify="right" if column in ("size", "rows") else "left")
    colours = {"verified": "green", "unverified": "yellow", "FAILED": "bold red"}
    for b in reversed(backups):
        m, v = b.manifest, b.verification
        binlog = m.get("binlog")
        table.add_row(
            b.id + (" 🔒" if m.get("encrypted_to") else ""),
            _age(b.created_at),
            _size(m["size"]),
            str(m["rows_total"]),
            str(m.get("schema_version") or "-"),
            f"{binlog['file']}:{binlog['position']}" if binlog else "-",
            f"[{colours[b.status]}]{b.status}[/]",
            _age(dt.datetime.fromisoformat(v["checked_at"])) + " ago" if v else "-",
        )
    console.print(table)
    partial = store.partial_files(folder)
    if partial:
        console.print(f"[dim]{len(partial)} unfinished file(s) (*.part) are not backups[/]")


def _report_damaged(damaged: list[store.Damaged]) -> None:
    for d in damaged:
        err.print(f"[bold red]damaged manifest {d.path.name}[/]: {d.problem}")


def _verify_one(backup: store.Backup, scratch: Database | None, identity: Path | None) -> bool:
    with _bytes_progress(f"verifying {backup.id}") as progress:
        result = verify_backup(backup, scratch, identity=identity, progress=_advance(progress))
    if result["ok"]:
        console.print(
            f"[green]verified {backup.id}[/]: checksum, {backup.manifest['rows_total']} rows in "
            f"{len(backup.manifest['tables'])} tables, schema and integrity checks "
            f"({result['seconds']} s)"
        )
        return True
    err.print(f"[bold red]{backup.id} FAILED verification:[/]")
    for problem in result["problems"]:
        err.print(f"  • {problem}")
    return False


@backup_app.command("verify")
def verify(
    ref: Annotated[str, typer.Argument(help="Backup id, id prefix, or 'latest'.")] = "latest",
    directory: DirOption = None,
    all_: Annotated[bool, typer.Option("--all", help="Verify every backup.")] = False,
    db: DbOption = None,
    scratch: ScratchOption = None,
    identity: IdentityOption = None,
) -> None:
    """Restore into a throwaway database and check checksums, row counts, schema and integrity."""
    folder = _directory(directory)
    with _failing():
        backups, damaged = store.scan(folder)
        if not all_:
            backups = [store.find(folder, ref)]
        _report_damaged(damaged)
        if not backups:
            raise BackupError(f"no backups in {folder}")
        server = _scratch(scratch, db)
        results = [_verify_one(b, server, identity) for b in backups]
    # A damaged manifest is a failed backup for --all: its data can be neither trusted nor pruned.
    if not all(results) or (all_ and damaged):
        raise typer.Exit(1)


@backup_app.command("restore")
def restore(
    ref: Annotated[str, typer.Argument(help="Backup id, id prefix, or 'latest'.")],
    to: Annotated[
        str,
        typer.Option("--to", help="Target database URL (a new MariaDB database or SQLite file)."),
    ],
    directory: DirOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the target even if it holds tables.")
    ] = False,
    until: Annotated[
        str | None,
        typer.Option(
            "--until", help="Replay the binary log up to this time (ISO 8601; UTC if no offset)."
        ),
    ] = None,
    until_position: Annotated[
        str | None,
        typer.Option("--until-position", help="Replay the binary log up to FILE:POSITION."),
    ] = None,
    binlog_from: Annotated[
        str | None,
        typer.Option(
            "--binlog-from",
            envvar="SHOPD_DATABASE_URL",
            help="Server holding the binary log (default: SHOPD_DATABASE_URL).",
            show_default=False,
        ),
    ] = None,
    identity: IdentityOption = None,
) -> None:
    """Restore a backup into a database; optionally roll forward to a point in time."""
    folder = _directory(directory)
    with _failing():
        backup = store.find(folder, ref)
        target = Database.from_url(to)
        if target.kind == "mysql" and not target.name:
            raise BackupError("--to names no database: mysql://user@host/NEW_DATABASE")
        when = parse_until(until) if until else None
        position = parse_position(until_position) if until_position else None
        source = Database.from_url(binlog_from) if (when or position) and binlog_from else None
        with _bytes_progress(f"restoring {backup.id} into {target.label}") as progress:
            kept = restore_backup(
                backup,
                target,
                force=force,
                identity=identity,
                binlog_source=source,
                until=when,
                until_position=position,
                progress=_advance(progress),
            )
    rolled = f", rolled forward to {when or until_position}" if (when or position) else ""
    console.print(f"[green]restored {backup.id} into {target.label}{rolled}[/]")
    if kept:
        console.print(
            f"what {target.label} held before is kept as [bold]{kept}[/]; drop it once the"
            " restored shop is checked"
        )


def _prune(folder: Path, policy: retention.Policy, *, dry_run: bool) -> None:
    backups = store.load(folder)
    result = retention.plan(backups, policy)
    table = Table(title=("would prune" if dry_run else "prune") + f" · {folder}")
    for column in ("id", "age", "status", "decision"):
        table.add_column(column)
    dropped = {b.id for b in result.drop}
    for b in reversed(backups):
        decision = "[red]delete[/]" if b.id in dropped else "keep: " + ", ".join(result.keep[b.id])
        table.add_row(b.id, _age(b.created_at), b.status, decision)
    console.print(table)
    if not dry_run:
        for b in result.drop:
            store.remove(b)
    verb = "would delete" if dry_run else "deleted"
    console.print(f"{verb} {len(result.drop)}, kept {len(result.keep)}")


@backup_app.command("prune")
def prune(
    directory: DirOption = None,
    keep_last: Annotated[int, typer.Option(min=1, help="Newest backups always kept.")] = 3,
    daily: Annotated[int, typer.Option(min=0, help="Days with one backup kept.")] = 7,
    weekly: Annotated[int, typer.Option(min=0, help="ISO weeks with one backup kept.")] = 4,
    monthly: Annotated[int, typer.Option(min=0, help="Months with one backup kept.")] = 6,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show, delete nothing.")] = False,
) -> None:
    """Delete backups outside the retention policy; the newest verified one is always kept."""
    _prune(
        _directory(directory),
        retention.Policy(last=keep_last, daily=daily, weekly=weekly, monthly=monthly),
        dry_run=dry_run,
    )


@backup_app.command("pull")
def pull(
    lab: Annotated[bool, typer.Option("--lab", help="Use the lab's inventory.")] = False,
    inventory: Annotated[
        Path | None,
        typer.Option("--inventory", envvar="SHOPD_INVENTORY", help="Inventory TOML file."),
    ] = None,
    group: Annotated[str, typer.Option(help="Inventory group to pull from.")] = "db_servers",
    limit: Annotated[
        list[str] | None, typer.Option("--limit", help="Only these hosts (repeatable).")
    ] = None,
    directory: DirOption = None,
    create: Annotated[
        bool, typer.Option("--create", help="Run each host's backup unit first.")
    ] = False,
    verify: Annotated[bool, typer.Option("--verify", help="Verify what was pulled, here.")] = False,
    scratch: ScratchOption = None,
    identity: IdentityOption = None,
) -> None:
    """Copy backups off the db hosts over SSH into <dir>/<host>/, checking each SHA-256."""
    need_extra("ops", "backup pull")
    # Fabric (the ops extra): the db hosts' own shopctl backs up without it.
    from invoke.exceptions import UnexpectedExit

    from backups import remote
    from infra import inventory_file
    from infra.remote import connect_host

    folder = _directory(directory)
    try:
        if lab:
            from infra.lab import lab as lab_env

            inventory = lab_env.inventory_path()
        hosts = [
            h
            for h in inventory_file.load(inventory)
            if group in h.groups and (not limit or h.name in limit)
        ]
    except inventory_file.InventoryError as exc:
        raise fail(str(exc)) from None
    if not hosts:
        raise fail(f"no hosts in group {group!r}" + (f" matching {limit}" if limit else ""))
    results: list[remote.Pulled] = []
    failures: list[str] = []
    with _bytes_progress("pulling") as progress:
        for h in hosts:
            task = progress.task_ids[0]
            progress.update(task, description=f"{h.name}: connecting", completed=0, total=None)
            conn = connect_host(h)
            try:
                if create:
                    progress.update(task, description=f"{h.name}: running {remote.UNIT}")
                    remote.run_backup_unit(conn)
                manifests = remote.remote_manifests(conn)
                progress.update(
                    task,
                    description=f"{h.name}: {len(manifests)} backups",
                    total=sum(m["size"] for m in manifests),
                )
                results += remote.pull(conn, h.name, folder, progress=_advance(progress))
            except (BackupError, OSError, UnexpectedExit) as exc:
                failures.append(f"{h.name}: {exc}")
            finally:
                conn.close()
    table = Table(title=f"pulled into {folder}")
    for column in ("host", "backup", "size", "outcome"):
        table.add_column(column)
    colours = {"pulled": "green", "present": "dim", "failed": "bold red"}
    for r in results:
        table.add_row(
            r.host,
            r.backup_id,
            _size(r.size),
            f"[{colours[r.outcome]}]{r.outcome}[/]" + (f" {r.detail}" if r.detail else ""),
        )
    console.print(table)
    for failure in failures:
        err.print(f"[bold red]error:[/] {failure}")
    ok = not failures and all(r.outcome != "failed" for r in results)
    if verify:
        server = _scratch(scratch, None)
        for r in results:
            if r.outcome == "pulled":
                with _failing():
                    ok = (
                        _verify_one(store.find(folder / r.host, r.backup_id), server, identity)
                        and ok
                    )
    if not ok:
        raise typer.Exit(1)
