"""Loading a backup into a database, and replaying the binary log to a point in time.

A restore builds the database beside its target and swaps it in only when everything loaded:
a failed or interrupted restore leaves the target as it was, and a finished one keeps what the
target held before under another name until the operator drops it.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import zstandard

from backups import store
from backups.database import BackupError, Database, closing_sqlite, tool

Progress = Callable[[int], None]


def _raw_chunks(backup: store.Backup, identity: Path | None) -> Iterator[bytes]:
    """The file's bytes as stored, decrypted first when it was encrypted."""
    path = backup.path
    if not path.is_file():
        raise BackupError(f"{path} is missing")
    if not backup.manifest.get("encrypted_to"):
        with path.open("rb") as raw:
            while chunk := raw.read(store.CHUNK):
                yield chunk
        return
    if identity is None:
        raise BackupError(f"{path.name} is encrypted: give the age identity with --identity")
    if shutil.which("age") is None:
        raise BackupError("age is not installed (Debian: apt-get install age)")
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(
            ["age", "--decrypt", "--identity", str(identity), str(path)],
            stdout=subprocess.PIPE,
            stderr=errors,
        )
        assert proc.stdout is not None
        try:
            while chunk := proc.stdout.read(store.CHUNK):
                yield chunk
        finally:
            if proc.poll() is None:
                proc.kill()
            code = proc.wait()
        if code != 0:
            errors.seek(0)
            message = errors.read().decode(errors="replace").strip()
            raise BackupError(f"age could not decrypt {path.name}: {message}")


def plain_chunks(backup: store.Backup, identity: Path | None = None) -> Iterator[bytes]:
    """The backup's uncompressed bytes; a damaged or cut-off zstd stream raises BackupError."""
    name = backup.path.name
    decompressor = zstandard.ZstdDecompressor().decompressobj()
    try:
        for chunk in _raw_chunks(backup, identity):
            if decompressor.eof:
                raise BackupError(f"{name} is corrupt: data after the end of the compressed stream")
            if out := decompressor.decompress(chunk):
                yield out
    except zstandard.ZstdError as exc:
        raise BackupError(f"{name} is corrupt or truncated: {exc}") from None
    if not decompressor.eof:
        raise BackupError(f"{name} is corrupt or truncated: the compressed stream stops early")
    if decompressor.unused_data:
        raise BackupError(f"{name} is corrupt: data after the end of the compressed stream")


def copy_plain(
    backup: store.Backup, out: IO[bytes], identity: Path | None, progress: Progress | None
) -> None:
    ended = False
    for chunk in plain_chunks(backup, identity):
        out.write(chunk)
        ended = chunk.endswith(b"\n")
        if progress:
            progress(len(chunk))
    if backup.manifest["kind"] == "mysql" and not ended:
        raise BackupError(f"{backup.path.name} is truncated: the dump does not end cleanly")


def load_into(
    backup: store.Backup,
    target: Database,
    *,
    identity: Path | None = None,
    progress: Progress | None = None,
) -> None:
    """Load into ``target``, which must be empty or absent (SQLite: a file path)."""
    if backup.manifest["kind"] != target.kind:
        raise BackupError(
            f"{backup.id} is a {backup.manifest['kind']} backup; it cannot be restored into {target.label}"
        )
    if target.kind == "sqlite":
        with Path(target.name).open("wb") as out:
            copy_plain(backup, out, identity, progress)
        try:
            with closing_sqlite(target.name) as con:
                result = con.execute("PRAGMA integrity_check").fetchone()[0]
        except BackupError as exc:
            raise BackupError(
                f"{backup.path.name}: the restored SQLite file is unusable: {exc}"
            ) from None
        if result != "ok":
            raise BackupError(
                f"{backup.path.name}: the restored SQLite file fails its integrity check: {result}"
            )
        return
    tool("mariadb")
    target.create()
    with target.client_options() as opts, tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(
            ["mariadb", *opts, "--default-character-set=utf8mb4", target.name],
            stdin=subprocess.PIPE,
            stderr=errors,
        )
        assert proc.stdin is not None
        try:
            copy_plain(backup, proc.stdin, identity, progress)
            proc.stdin.close()
        except (BackupError, BrokenPipeError) as exc:
            proc.kill()
            proc.wait()
            errors.seek(0)
            detail = errors.read().decode(errors="replace").strip()
            raise BackupError(f"{exc}{' — ' + detail if detail else ''}") from None
        if proc.wait() != 0:
            errors.seek(0)
            detail = errors.read().decode(errors="replace").strip()
            raise BackupError(f"loading {backup.path.name} into {target.label} failed: {detail}")


def parse_until(text: str) -> dt.datetime:
    """ISO 8601; a time without an offset is UTC, like every time shopd stores."""
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise BackupError(
            f"--until {text!r} is not a time: use e.g. 2026-11-23T14:05:00+08:00"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC)


def parse_position(text: str) -> tuple[str, int]:
    name, _, pos = text.rpartition(":")
    if not name or not pos.isdigit():
        raise BackupError(
            f"--until-position {text!r}: use FILE:POSITION, e.g. mysql-bin.000042:1234"
        )
    return name, int(pos)


def replay_binlog(
    backup: store.Backup,
    binlog_source: Database,
    into: Database,
    *,
    until: dt.datetime | None = None,
    until_position: tuple[str, int] | None = None,
) -> None:
    """Replay the source's binary log from the backup's position into ``into``."""
    tool("mariadb", "mariadb-binlog")
    start = backup.manifest.get("binlog")
    if not start:
        raise BackupError(
            f"{backup.id} has no binary-log position (binary logging was off, or SQLite): "
            "point-in-time restore needs log_bin on the server"
        )
    if until is not None and until < backup.created_at:
        raise BackupError(
            f"{backup.id} was taken at {backup.created_at:%Y-%m-%d %H:%M:%S} UTC, after the target "
            f"time {until:%Y-%m-%d %H:%M:%S} UTC: restore an older backup"
        )
    logs = [row[0] for row in binlog_source.sql("SHOW BINARY LOGS")]
    if start["file"] not in logs:
        raise BackupError(
            f"the binary log {start['file']} the backup starts from is gone from "
            f"{binlog_source.label} (purged?): point-in-time restore from {backup.id} is impossible"
        )
    logs = logs[logs.index(start["file"]) :]
    stop: list[str] = []
    if until is not None:
        stop.append(f"--stop-datetime={until:%Y-%m-%d %H:%M:%S}")
    if until_position is not None:
        name, pos = until_position
        if name not in logs:
            raise BackupError(f"binary log {name} is not between {logs[0]} and {logs[-1]}")
        logs = logs[: logs.index(name) + 1]
        stop.append(f"--stop-position={pos}")
    source_db = backup.manifest["database"]
    with (
        binlog_source.client_options() as src_opts,
        into.client_options() as dst_opts,
        tempfile.TemporaryFile() as errors,
    ):
        reader = subprocess.Popen(
            [
                "mariadb-binlog",
                *src_opts,
                "--read-from-remote-server",
                f"--start-position={start['position']}",
                f"--database={source_db}",
                f"--rewrite-db={source_db}->{into.name}",
                *stop,
                *logs,
            ],
            stdout=subprocess.PIPE,
            stderr=errors,
            # mariadb-binlog reads --stop-datetime in the local zone; the manifest is UTC.
            env={**os.environ, "TZ": "UTC"},
        )
        writer = subprocess.run(
            ["mariadb", *dst_opts, "--default-character-set=utf8mb4", into.name],
            stdin=reader.stdout,
            stderr=errors,
        )
        if reader.stdout:
            reader.stdout.close()
        if reader.wait() != 0 or writer.returncode != 0:
            errors.seek(0)
            raise BackupError(f"replaying the binary log failed: {errors.read().decode().strip()}")


def restore(
    backup: store.Backup,
    target: Database,
    *,
    force: bool = False,
    identity: Path | None = None,
    binlog_source: Database | None = None,
    until: dt.datetime | None = None,
    until_position: tuple[str, int] | None = None,
    progress: Progress | None = None,
) -> str | None:
    """Restore the backup into ``target``; what it held before is kept aside, never dropped,
    and its label returned (None when the target was empty) for the operator to drop."""
    pitr = until is not None or until_position is not None
    if pitr and target.kind == "sqlite":
        raise BackupError("point-in-time restore needs MariaDB's binary log; SQLite has none")
    if pitr and binlog_source is None:
        raise BackupError(
            "point-in-time restore needs --binlog-from, the server the backup came from"
        )
    if not force and target.exists() and target.tables():
        raise BackupError(
            f"{target.label} is not empty ({len(target.tables())} tables): "
            "add --force to replace it"
        )
    if target.kind == "sqlite":
        final = Path(target.name)
        final.parent.mkdir(parents=True, exist_ok=True)
        staging = target.named(str(final.with_name(f".{final.name}.restoring")))
        kept: Path | None = None
        try:
            load_into(backup, staging, identity=identity, progress=progress)
            if final.exists():
                # A second name for the old file (and its write-ahead log moved beside it, which
                # would otherwise be replayed onto the new one); then one atomic rename.
                kept = final.with_name(f"{final.name}.replaced-{_stamp()}")
                os.link(final, kept)
                for suffix in ("-wal", "-shm", "-journal"):
                    old = final.with_name(final.name + suffix)
                    if old.exists():
                        os.replace(old, kept.with_name(kept.name + suffix))
            os.replace(staging.name, final)
        finally:
            Path(staging.name).unlink(missing_ok=True)
        return target.named(str(kept)).label if kept else None
    staging = target.named(f"{target.name[:40]}_restoring_{secrets.token_hex(3)}")
    try:
        load_into(backup, staging, identity=identity, progress=progress)
        if pitr:
            assert binlog_source is not None
            replay_binlog(
                backup, binlog_source, staging, until=until, until_position=until_position
            )
        kept = _swap_in(staging, target)
    finally:
        staging.drop()
    return kept.label if kept else None


def _stamp() -> str:
    return store.utcnow().strftime("%Y%m%dT%H%M%S")


def _swap_in(staging: Database, target: Database) -> Database | None:
    """One RENAME TABLE moves the target's tables aside and the restored ones in: MariaDB
    applies all of its renames or none, so the target is never half old and half new, and
    the old tables are kept (returned) rather than dropped."""
    tables = staging.tables()
    target.create()
    old = target.tables()
    kept = target.named(f"{target.name[:36]}_replaced_{_stamp()}") if old else None
    moves = [f"`{target.name}`.`{t}` TO `{kept.name}`.`{t}`" for t in old] if kept else []
    moves += [f"`{staging.name}`.`{t}` TO `{target.name}`.`{t}`" for t in tables]
    if kept:
        kept.create()
    if moves:
        target.sql("SET FOREIGN_KEY_CHECKS = 0; RENAME TABLE " + ", ".join(moves))
    return kept
