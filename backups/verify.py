"""A backup is good when it restores: checksum, restore into scratch, counts, schema, integrity."""

from __future__ import annotations

import secrets
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from backups import store
from backups.checks import integrity_problems, schema_version, table_counts
from backups.database import BackupError, Database
from backups.restore import load_into


def verify(
    backup: store.Backup,
    scratch_server: Database | None,
    *,
    identity: Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Check one backup and record the result beside it; returns the record."""
    started = time.monotonic()
    problems: list[str] = []
    scratch_label = ""
    path = backup.path
    actual = ""
    if not path.is_file():
        problems.append(f"{path.name} is missing")
    else:
        size = path.stat().st_size
        actual = store.sha256_file(path)
        if size != backup.manifest["size"]:
            problems.append(
                f"{path.name} is {size} bytes, the manifest says {backup.manifest['size']}: "
                + ("truncated" if size < backup.manifest["size"] else "grown")
            )
        elif actual != backup.manifest["sha256"]:
            problems.append(f"{path.name}: SHA-256 mismatch, the file has changed since the backup")
    if not problems:
        try:
            scratch_label = _restore_and_check(backup, scratch_server, identity, progress, problems)
        except (BackupError, OSError) as exc:
            problems.append(str(exc))
    result = {
        "ok": not problems,
        "checked_at": store.utcnow().isoformat(),
        "sha256": actual,
        "problems": problems,
        "scratch": scratch_label,
        "seconds": round(time.monotonic() - started, 2),
    }
    store.record_verification(backup, result)
    return result


def _restore_and_check(
    backup: store.Backup,
    scratch_server: Database | None,
    identity: Path | None,
    progress: Callable[[int], None] | None,
    problems: list[str],
) -> str:
    with tempfile.TemporaryDirectory(prefix="shopd-verify-") as tmp:
        if backup.manifest["kind"] == "sqlite":
            scratch = Database("sqlite", str(Path(tmp) / "scratch.db"))
        else:
            if scratch_server is None or scratch_server.kind != "mysql":
                raise BackupError(
                    f"{backup.id} is a MariaDB dump: verifying it needs a MariaDB server for a "
                    "scratch database (--scratch mysql://user@host/)"
                )
            # Named after the server URL's database, so a user allowed only shopd_test_* or
            # shopd_verify_* databases can verify.
            base = (scratch_server.name or "shopd")[:40]
            scratch = scratch_server.named(f"{base}_verify_{secrets.token_hex(4)}")
        try:
            load_into(backup, scratch, identity=identity, progress=progress)
            _compare(backup.manifest, scratch, problems)
        finally:
            if scratch.kind == "mysql":
                scratch.drop()
        return scratch.label


def _compare(manifest: dict[str, Any], scratch: Database, problems: list[str]) -> None:
    counts = table_counts(scratch)
    expected: dict[str, int] = manifest["tables"]
    for table in sorted(set(expected) | set(counts)):
        want, got = expected.get(table), counts.get(table)
        if want is None:
            problems.append(f"table {table} is in the restore but not in the manifest")
        elif got is None:
            problems.append(f"table {table} is missing from the restore")
        elif want != got:
            problems.append(f"table {table}: {got} rows restored, the manifest says {want}")
    version = schema_version(scratch)
    if version != manifest.get("schema_version"):
        problems.append(
            f"schema version {version}, the manifest says {manifest.get('schema_version')}"
        )
    problems.extend(integrity_problems(scratch))
