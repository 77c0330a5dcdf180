"""``requirements.lock``: every package a release installs, pinned and with its hashes.

The control machine downloads exactly these files (``pip --require-hashes``) to build the
release's wheels, and the hosts install them the same way, so a deploy installs what was
reviewed and audited, never what PyPI serves that day. ``./run lock`` writes it again after a
change of ``pyproject.toml``; ``./run audit`` looks its pins up in the advisory databases.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")


def pins(text: str) -> dict[str, tuple[str, int]]:
    """Package name → (version, number of hashes) of each ``name==version`` entry."""
    found: dict[str, tuple[str, int]] = {}
    name = ""
    for line in text.splitlines():
        if match := _PIN.match(line):
            name = canonicalize_name(match.group(1))
            found[name] = (match.group(2), 0)
        elif name and line.strip().startswith("--hash=sha256:"):
            version, hashes = found[name]
            found[name] = (version, hashes + 1)
    return found


def problems(root: Path = ROOT) -> list[str]:
    """What makes the lock unfit for ``pyproject.toml``'s dependencies (empty when it fits)."""
    lock = root / LOCK.name
    if not lock.exists():
        return [f"{lock.name} is missing"]
    locked = pins(lock.read_text())
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    found: list[str] = []
    for spec in project["dependencies"]:
        need = Requirement(spec)
        name = canonicalize_name(need.name)
        if name not in locked:
            found.append(f"{need.name} is not pinned")
        elif not need.specifier.contains(locked[name][0], prereleases=True):
            found.append(f"{need.name}=={locked[name][0]} does not meet {need.specifier}")
    found += [f"{name}=={v} has no hash" for name, (v, hashes) in locked.items() if not hashes]
    return found


def check(root: Path = ROOT) -> Path:
    """The lock, or an error that says how to make it fit."""
    if found := problems(root):
        raise RuntimeError(
            f"{LOCK.name} does not fit pyproject.toml ({'; '.join(found)}): run ./run lock"
        )
    return root / LOCK.name
