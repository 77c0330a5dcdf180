"""The backup directory: data files, their manifests and verification records.

A backup exists only once its manifest does. Data is written to ``*.part`` and renamed, the
manifest is written last and renamed into place, so a backup killed halfway never lists as good.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from backups.database import BackupError

MANIFEST_FORMAT = 1
# The manifest's checksum of itself (``sealed``), and what every manifest holds.
SEAL = "manifest_sha256"
REQUIRED = ("id", "created_at", "file", "size", "sha256", "kind", "tables")
CHUNK = 1 << 20


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Atomically: a reader sees the old file or the new one, never half of one."""
    tmp = path.with_name(path.name + ".part")
    with private(tmp, "w") as f:
        json.dump(data, f, indent=2, ensure_ascii=False)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def private(path: Path, mode: str = "wb") -> IO[Any]:
    """A new file only its owner can read: backups hold customers' names and addresses."""
    return open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), mode)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class Backup:
    directory: Path
    manifest: dict[str, Any]
    verification: dict[str, Any] | None

    @property
    def id(self) -> str:
        return str(self.manifest["id"])

    @property
    def path(self) -> Path:
        return self.directory / self.manifest["file"]

    @property
    def created_at(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.manifest["created_at"])

    @property
    def verified(self) -> bool:
        """Verified, and the file has not been rewritten since."""
        v = self.verification
        return bool(v and v.get("ok") and v.get("sha256") == self.manifest["sha256"])

    @property
    def status(self) -> str:
        if self.verification is None:
            return "unverified"
        return "verified" if self.verified else "FAILED"


def manifest_path(directory: Path, backup_id: str) -> Path:
    return directory / f"{backup_id}.manifest.json"


def verification_path(directory: Path, backup_id: str) -> Path:
    return directory / f"{backup_id}.verify.json"


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _digest(manifest: dict[str, Any]) -> str:
    body = {k: v for k, v in manifest.items() if k != SEAL}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def sealed(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest with a checksum of its own content, so that damage to it is named rather
    than the backup silently missing from list, verify, prune and the metrics."""
    return {**manifest, SEAL: _digest(manifest)}


def manifest_problem(manifest: Any) -> str | None:
    """What is wrong with a parsed manifest, or None."""
    if not isinstance(manifest, dict):
        return "not a JSON object"
    if manifest.get("format") != MANIFEST_FORMAT:
        return f"unknown format {manifest.get('format')!r}"
    missing = [k for k in REQUIRED if k not in manifest]
    if missing:
        return "lacks " + ", ".join(missing)
    # Manifests written before the seal existed have none; any written since must match it.
    if SEAL in manifest and manifest[SEAL] != _digest(manifest):
        return "its checksum does not match its content (edited or damaged)"
    return None


@dataclass
class Damaged:
    """A manifest that cannot be trusted: its backup is named, never silently skipped."""

    path: Path
    problem: str


def load(directory: Path) -> list[Backup]:
    """Every complete backup in the directory, oldest first."""
    return scan(directory)[0]


def scan(directory: Path) -> tuple[list[Backup], list[Damaged]]:
    """The directory's backups, oldest first, and its damaged manifests."""
    if not directory.is_dir():
        return [], []
    found, damaged = [], []
    for path in sorted(directory.glob("*.manifest.json")):
        try:
            manifest = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            damaged.append(Damaged(path, f"unreadable: {exc}"))
            continue
        if problem := manifest_problem(manifest):
            damaged.append(Damaged(path, problem))
            continue
        found.append(
            Backup(directory, manifest, _read(verification_path(directory, manifest["id"])))
        )
    return sorted(found, key=lambda b: (b.manifest["created_at"], b.id)), damaged


def partial_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.part")) if directory.is_dir() else []


def find(directory: Path, ref: str) -> Backup:
    """A backup by id, unique id prefix, or ``latest``."""
    backups = load(directory)
    if not backups:
        raise BackupError(f"no backups in {directory}")
    if ref == "latest":
        return backups[-1]
    matches = [b for b in backups if b.id == ref] or [b for b in backups if b.id.startswith(ref)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise BackupError(f"no backup {ref!r} in {directory} (shopctl backup list shows them)")
    raise BackupError(f"{ref!r} matches {len(matches)} backups; give more of the id")


def record_verification(backup: Backup, result: dict[str, Any]) -> None:
    write_json(verification_path(backup.directory, backup.id), result)
    backup.verification = result


def remove(backup: Backup) -> None:
    # The manifest goes first: from then on the backup is gone, even if unlinking the data fails.
    manifest_path(backup.directory, backup.id).unlink(missing_ok=True)
    verification_path(backup.directory, backup.id).unlink(missing_ok=True)
    backup.path.unlink(missing_ok=True)
