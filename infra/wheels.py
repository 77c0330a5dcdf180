"""Wheels for the app servers, built on the control machine: app servers never reach PyPI.

The dependencies are the files ``requirements.lock`` pins, checked against its hashes; shopd's
own wheel is built from the source. The lock travels with the wheels, so the hosts install
with ``--require-hashes`` too. Built once per source state (cached under var/wheels); the
release id is a digest of what the wheels contain, not of the zip files, so rebuilding the
same source is the same release and a second deploy changes nothing.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

from infra import lockfile

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "requirements.lock", "shopd", "tui", "infra", "loadtest", "backups")


def source_digest(root: Path = ROOT) -> str:
    digest = hashlib.sha256()
    for entry in SOURCES:
        base = root / entry
        paths = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
        for path in paths:
            if "__pycache__" in path.parts:
                continue
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def release_id(wheel_dir: Path) -> str:
    digest = hashlib.sha256()
    for wheel in sorted(wheel_dir.glob("*.whl")):
        with zipfile.ZipFile(wheel) as archive:
            for name in sorted(archive.namelist()):
                if not name.endswith(".dist-info/RECORD"):
                    digest.update(name.encode() + b"\0" + archive.read(name))
    return digest.hexdigest()[:12]


_lock = threading.Lock()  # pyinfra prepares hosts concurrently (gevent patches this lock)
_built: dict[Path, tuple[Path, str]] = {}


def ensure_wheels(root: Path = ROOT) -> tuple[Path, str]:
    with _lock:
        if root not in _built:
            _built[root] = _ensure_wheels(root)
        return _built[root]


def _ensure_wheels(root: Path) -> tuple[Path, str]:
    cache = root / "var" / "wheels"
    target = cache / source_digest(root)[:16]
    if not (target / ".complete").exists():
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        lock = lockfile.check(root)
        pip = [sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(partial)]
        for args in (["--require-hashes", "-r", str(lock)], ["--no-deps", str(root)]):
            build = subprocess.run([*pip, *args], capture_output=True, text=True)
            if build.returncode != 0:  # setuptools chatters on success; only a failure is shown
                raise RuntimeError(f"building the wheels failed:\n{build.stdout}{build.stderr}")
        shutil.copy(lock, partial / lockfile.LOCK.name)
        (partial / ".complete").write_text("")
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)
        for stale in cache.iterdir():  # keep the cache to the last few builds
            if stale != target and stale.stat().st_mtime < target.stat().st_mtime - 7 * 86400:
                shutil.rmtree(stale, ignore_errors=True)
    return target, release_id(target)
