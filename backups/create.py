"""Taking a backup while the shop runs: mariadb-dump in one transaction, or SQLite's backup API."""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

import zstandard

from backups import store
from backups.checks import schema_version, table_counts
from backups.database import BackupError, Database, tool

INSERT = re.compile(rb"^INSERT INTO `([^`]+)` VALUES ?")
CREATE_TABLE = re.compile(rb"^CREATE TABLE `([^`]+)`")
# Quoted strings are blanked before counting "),(" so that text holding it is not a row.
STRING = re.compile(rb"'(?:[^'\\]|\\.)*'")
BINLOG_POSITION = re.compile(
    rb"^-- CHANGE MASTER TO MASTER_LOG_FILE='([^']+)', MASTER_LOG_POS=(\d+);"
)
GTID = re.compile(rb"^-- SET GLOBAL gtid_slave_pos='([^']*)';")
COMPLETED = b"-- Dump completed"
ZSTD_LEVEL = 6

Progress = Callable[[int], None]


def new_id(directory: Path, database: str) -> str:
    stamp = store.utcnow().strftime("%Y%m%dT%H%M%SZ")
    base = f"{stamp}-{Path(database).stem if '/' in database else database}"
    candidate, n = base, 1
    while list(directory.glob(f"{candidate}.*")):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def create(
    source: Database,
    directory: Path,
    *,
    recipients: Sequence[str] = (),
    progress: Progress | None = None,
) -> store.Backup:
    """Back up ``source`` into ``directory``; returns the backup once its manifest is written."""
    directory.mkdir(parents=True, exist_ok=True)
    started = store.utcnow()
    backup_id = new_id(directory, source.name)
    suffix = ".sqlite.zst" if source.kind == "sqlite" else ".sql.zst"
    data = directory / f"{backup_id}{suffix}"
    part = data.with_name(data.name + ".part")
    try:
        if source.kind == "sqlite":
            details = _sqlite(source, part, progress)
        else:
            details = _mariadb(source, part, progress)
        if recipients:
            data = data.with_name(data.name + ".age")
            part = _encrypt(part, data.with_name(data.name + ".part"), recipients)
        os.replace(part, data)
        store.fsync_dir(directory)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    manifest: dict[str, Any] = {
        "format": store.MANIFEST_FORMAT,
        "id": backup_id,
        "created_at": started.isoformat(),
        "finished_at": store.utcnow().isoformat(),
        "host": socket.gethostname(),
        "source": source.label,
        "kind": source.kind,
        "database": source.name,
        "file": data.name,
        "size": data.stat().st_size,
        "sha256": store.sha256_file(data),
        "compression": "zstd",
        "encrypted_to": list(recipients),
        **details,
    }
    manifest = store.sealed(manifest)
    store.write_json(store.manifest_path(directory, backup_id), manifest)
    return store.Backup(directory, manifest, None)


def _compressor(out: IO[bytes]) -> Any:
    # The frame's own checksum of the uncompressed bytes: a flip that lands before the file's
    # SHA-256 is taken (in memory, in the pipe) still fails the restore's decompression.
    compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_checksum=True)
    return compressor.stream_writer(out, closefd=False)


def _finish(f: IO[bytes]) -> None:
    f.flush()
    os.fsync(f.fileno())


def _sqlite(source: Database, part: Path, progress: Progress | None) -> dict[str, Any]:
    if not Path(source.name).is_file():
        raise BackupError(f"no SQLite database at {source.name}")
    with tempfile.TemporaryDirectory(dir=part.parent, prefix=".snapshot-") as tmp:
        snapshot = Path(tmp) / "snapshot.db"
        src = sqlite3.connect(f"file:{Path(source.name).resolve()}?mode=ro", uri=True)
        dst = sqlite3.connect(snapshot)
        try:
            # The online backup API copies a consistent snapshot while the shop keeps writing.
            src.backup(dst, pages=256)
        except sqlite3.DatabaseError as exc:
            if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
                # The shop's database is fine: the backup target has no room for the copy.
                raise BackupError(
                    f"No space left on device in {part.parent} for a snapshot of {source.label}"
                ) from None
            raise BackupError(f"{source.label}: {exc}") from None
        finally:
            dst.close()
            src.close()
        copy = Database("sqlite", str(snapshot))
        details = {"schema_version": schema_version(copy), "tables": table_counts(copy)}
        with snapshot.open("rb") as raw, store.private(part) as out:
            with _compressor(out) as z:
                while chunk := raw.read(store.CHUNK):
                    z.write(chunk)
                    if progress:
                        progress(len(chunk))
            _finish(out)
    details["binlog"] = None
    details["rows_total"] = sum(details["tables"].values())
    return details


def _mariadb(source: Database, part: Path, progress: Progress | None) -> dict[str, Any]:
    tool("mariadb", "mariadb-dump")
    if not source.name:
        raise BackupError("the database URL names no database: mysql://user@host/DATABASE")
    if not source.exists():
        raise BackupError(f"{source.label}: no such database")
    log_bin = source.sql("SELECT @@log_bin")[0][0] == "1"
    tables: dict[str, int] = {}
    binlog: dict[str, Any] | None = None
    schema: str | None = None
    completed = False
    inserting: str | None = None
    with (
        source.client_options() as opts,
        tempfile.TemporaryFile() as errors,
        store.private(part) as out,
    ):
        args = [
            "mariadb-dump",
            *opts,
            # One consistent snapshot of InnoDB without locking the shop out.
            "--single-transaction",
            "--quick",
            "--hex-blob",
            "--no-tablespaces",
            "--default-character-set=utf8mb4",
            # The binary-log position of that snapshot, where point-in-time replay starts.
            *(["--master-data=2", "--gtid"] if log_bin else []),
            source.name,
        ]
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=errors)
        assert proc.stdout is not None
        try:
            with _compressor(out) as z:
                for line in proc.stdout:
                    z.write(line)
                    if progress:
                        progress(len(line))
                    if inserting is None and line.startswith(b"INSERT"):
                        m = INSERT.match(line)
                        if m:
                            inserting = m.group(1).decode()
                            line = line[m.end() :]
                    if inserting is not None:
                        # MariaDB writes one row per line, older dumps all rows on one line.
                        rows = STRING.sub(b"''", line.strip())
                        if rows:
                            tables[inserting] = tables.get(inserting, 0) + rows.count(b"),(") + 1
                            if inserting == "alembic_version":
                                found = re.search(rb"\('([^']*)'\)", line)
                                schema = found.group(1).decode() if found else schema
                        if rows.endswith(b";"):
                            inserting = None
                    elif line.startswith(b"CREATE TABLE"):
                        m = CREATE_TABLE.match(line)
                        if m:
                            tables.setdefault(m.group(1).decode(), 0)
                    elif line.startswith(b"-- "):
                        if m := BINLOG_POSITION.match(line):
                            binlog = {"file": m.group(1).decode(), "position": int(m.group(2))}
                        elif (m := GTID.match(line)) and binlog is not None:
                            binlog["gtid"] = m.group(1).decode()
                        elif line.startswith(COMPLETED):
                            completed = True
            _finish(out)
        finally:
            if proc.poll() is None:
                proc.kill()
            code = proc.wait()
        if code != 0 or not completed:
            errors.seek(0)
            message = errors.read().decode(errors="replace").strip()
            raise BackupError(f"mariadb-dump of {source.label} failed: {message or f'exit {code}'}")
    return {
        "schema_version": schema,
        "tables": dict(sorted(tables.items())),
        "rows_total": sum(tables.values()),
        "binlog": binlog,
    }


def _encrypt(plain: Path, out: Path, recipients: Sequence[str]) -> Path:
    """age encryption to public keys: whoever holds the backup cannot read it without the key."""
    if not recipients:
        return plain
    from shutil import which

    if which("age") is None:
        raise BackupError("age is not installed (Debian: apt-get install age)")
    args = ["age", "--encrypt", "--output", str(out)]
    for recipient in recipients:
        args += ["--recipient", recipient]
    proc = subprocess.run([*args, str(plain)], capture_output=True, text=True)
    plain.unlink(missing_ok=True)
    if proc.returncode != 0:
        out.unlink(missing_ok=True)
        raise BackupError(f"age could not encrypt: {proc.stderr.strip()}")
    return out
