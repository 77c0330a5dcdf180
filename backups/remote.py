"""Off-host copies over SSH (Fabric): run the db host's backup unit, pull its backups, check them.

Files are read with ``sudo cat`` over the SSH channel, so backups stay readable by root alone on
the db host; every copy is checked against the manifest's SHA-256 before it counts as pulled.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fabric import Connection
from invoke.exceptions import UnexpectedExit

from backups import store
from backups.database import BackupError

REMOTE_DIR = "/var/backups/shopd"
UNIT = "shopd-backup.service"
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")


@dataclass
class Pulled:
    host: str
    backup_id: str
    size: int
    outcome: str  # pulled | present | failed
    detail: str = ""


def run_backup_unit(conn: Connection) -> None:
    """The nightly unit, started now: the same command, environment and checks as the timer's."""
    try:
        conn.sudo(f"systemctl start {UNIT}", hide=True)
    except UnexpectedExit:
        journal = conn.sudo(f"journalctl -u {UNIT} -n 15 --no-pager -o cat", hide=True, warn=True)
        raise BackupError(f"{UNIT} failed on {conn.host}:\n{journal.stdout.strip()}") from None


def _sudo_read(conn: Connection, command: str, sink: Callable[[bytes], None]) -> None:
    conn.open()
    assert conn.client is not None
    _, stdout, stderr = conn.client.exec_command(f"sudo -n {command}")
    while chunk := stdout.read(store.CHUNK):
        sink(chunk)
    if stdout.channel.recv_exit_status() != 0:
        raise BackupError(
            f"{conn.host}: {command}: {stderr.read().decode(errors='replace').strip()}"
        )


def remote_manifests(conn: Connection, remote_dir: str = REMOTE_DIR) -> list[dict[str, Any]]:
    """The host's sound manifests, oldest first."""
    return remote_listing(conn, remote_dir)[0]


def remote_listing(
    conn: Connection, remote_dir: str = REMOTE_DIR
) -> tuple[list[dict[str, Any]], list[store.Damaged]]:
    """The host's manifests, oldest first, and the damaged ones by name."""
    chunks: list[bytes] = []
    _sudo_read(conn, listing_command(remote_dir), chunks.append)
    return parse_listing(b"".join(chunks))


def listing_command(remote_dir: str) -> str:
    """A shell command printing each manifest as its name, a newline, its bytes and a NUL: one
    torn file is one damaged manifest, not a parse error that hides every manifest after it."""
    quoted = shlex.quote(remote_dir)
    each = 'for f; do printf "%s\\n" "${f##*/}"; cat "$f"; printf "\\000"; done'
    script = (
        f"test -d {quoted} || exit 0; find {quoted} -maxdepth 1 -name '*.manifest.json' "
        f"-exec sh -c {shlex.quote(each)} _ {{}} +"
    )
    return f"sh -c {shlex.quote(script)}"


def parse_listing(blob: bytes) -> tuple[list[dict[str, Any]], list[store.Damaged]]:
    found: list[dict[str, Any]] = []
    damaged: list[store.Damaged] = []
    for record in blob.split(b"\0"):
        if not record.strip():
            continue
        name, _, body = record.partition(b"\n")
        where = Path(name.decode(errors="replace"))
        try:
            manifest = json.loads(body)
        except ValueError as exc:
            damaged.append(store.Damaged(where, f"unreadable: {exc}"))
            continue
        if problem := store.manifest_problem(manifest):
            damaged.append(store.Damaged(where, problem))
            continue
        found.append(manifest)
    return sorted(found, key=lambda m: m["created_at"]), damaged


def pull(
    conn: Connection,
    host: str,
    local_dir: Path,
    *,
    remote_dir: str = REMOTE_DIR,
    progress: Callable[[int], None] | None = None,
) -> list[Pulled]:
    """Copy the host's backups that are not here yet into ``local_dir/<host>``."""
    target = local_dir / host
    target.mkdir(parents=True, exist_ok=True)
    have = {b.id: b for b in store.load(target)}
    manifests, damaged = remote_listing(conn, remote_dir)
    results = [
        Pulled(host, d.path.name.removesuffix(".manifest.json"), 0, "failed", d.problem)
        for d in damaged
    ]
    for manifest in manifests:
        backup_id, size = str(manifest.get("id")), int(manifest.get("size", 0))
        if not (SAFE_NAME.match(backup_id) and SAFE_NAME.match(str(manifest.get("file")))):
            # A manifest names the file to write here: never a path out of the directory.
            results.append(Pulled(host, backup_id, size, "failed", "unsafe name in manifest"))
            continue
        local = have.get(backup_id)
        if local and local.path.is_file() and local.manifest["sha256"] == manifest["sha256"]:
            results.append(Pulled(host, backup_id, size, "present"))
            if progress:
                progress(size)
            continue
        data = target / manifest["file"]
        remote_file = shlex.quote(f"{remote_dir}/{manifest['file']}")
        part = data.with_name(data.name + ".part")
        try:
            if _download(conn, remote_file, part, progress) != manifest["sha256"]:
                raise BackupError("SHA-256 after transfer differs from the manifest")
            os.replace(part, data)
            store.write_json(
                store.manifest_path(target, backup_id),
                store.sealed({**manifest, "pulled_from": host}),
            )
            results.append(Pulled(host, backup_id, size, "pulled"))
        except BackupError as exc:
            part.unlink(missing_ok=True)
            results.append(Pulled(host, backup_id, size, "failed", str(exc)))
    return results


def _download(
    conn: Connection, remote_file: str, part: Path, progress: Callable[[int], None] | None
) -> str:
    """Copy one file into ``part``; returns the SHA-256 of what arrived."""
    digest = hashlib.sha256()
    with store.private(part) as out:

        def sink(chunk: bytes) -> None:
            out.write(chunk)
            digest.update(chunk)
            if progress:
                progress(len(chunk))

        _sudo_read(conn, f"cat -- {remote_file}", sink)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest()
