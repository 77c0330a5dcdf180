"""The shop daemon's systemd unit as systemd itself rates it (``systemd-analyze security``,
offline, on the unit the deploy renders); the lab runs shopd under this very unit."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import jinja2

from tests.conftest import missing_prerequisite

ROOT = Path(__file__).resolve().parent.parent
# systemd's scale: 0 (locked down) to 10 (unprotected); the design asks for at most 2.0.
MOST = 2.0


def rendered_unit(tmp_path: Path) -> Path:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(ROOT / "infra" / "templates"))
    text = env.get_template("shopd.service.j2").render(home="/srv/shopd", port=8000, workers=2)
    unit = tmp_path / "shopd.service"
    unit.write_text(text)
    return unit


def exposure(unit: Path) -> float:
    done = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", "--no-pager", str(unit)],
        capture_output=True,
        text=True,
    )
    found = re.search(r"Overall exposure level for \S+: ([\d.]+)", done.stdout + done.stderr)
    assert found, done.stdout + done.stderr
    return float(found.group(1))


def test_the_shop_daemon_is_confined(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        missing_prerequisite("systemd-analyze (Debian package systemd)")
    unit = rendered_unit(tmp_path)
    score = exposure(unit)
    print(f"shopd.service exposure: {score}")
    assert score <= MOST, score
    # Whatever the score, these are the ones a compromised shop process must not have.
    text = unit.read_text()
    for setting in (
        "CapabilityBoundingSet=\n",
        "NoNewPrivileges=yes",
        "SystemCallFilter=@system-service",
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
        "ProtectSystem=strict",
    ):
        assert setting in text, setting
