"""Running the machine's tools for the lab, and the checks that say what is missing."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

# Debian package that provides each tool the lab runs on the machine.
TOOLS = {
    "debootstrap": "debootstrap",
    "systemd-nspawn": "systemd-container",
    "ip": "iproute2",
    "nft": "nftables",
    "tinyproxy": "tinyproxy",
    "ssh-keygen": "openssh-client",
    "busybox": "busybox",
}


class LabError(RuntimeError):
    """Something the lab needs is missing or a step failed; the message says which."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


def state_dir() -> Path:
    return Path(os.environ.get("SHOPD_LAB_DIR", "/var/lib/shopd-lab"))


def cache_dir() -> Path:
    return Path(os.environ.get("SHOPD_LAB_CACHE", "/var/cache/shopd-lab"))


def find_tool(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/bin:/bin")


def missing_packages() -> list[str]:
    """The Debian packages of the lab's tools that this machine lacks."""
    return sorted({pkg for tool, pkg in TOOLS.items() if find_tool(tool) is None})


def install_packages(packages: Sequence[str]) -> None:
    """``apt-get install`` them (root): what ``shopctl lab up --install`` does."""
    if not shutil.which("apt-get"):
        raise LabError(f"no apt-get to install {' '.join(packages)}", "install them by hand")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for args in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *packages]):
        proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=1800)
        if proc.returncode != 0:
            detail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            raise LabError(f"{' '.join(args[:2])} failed: {' / '.join(detail)}")


def missing_prerequisites() -> list[str]:
    """Human-readable problems; empty when the lab can run here."""
    problems = []
    if os.geteuid() != 0:
        problems.append("the lab needs root (network namespaces, mounts, systemd-nspawn)")
    missing = missing_packages()
    if missing:
        problems.append(f"missing Debian packages: {' '.join(missing)}")
    if "overlay" not in Path("/proc/filesystems").read_text():
        problems.append("the kernel has no overlay file system (modprobe overlay)")
    return problems


def run(
    args: Sequence[str], *, check: bool = True, input: str | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    tool = find_tool(args[0])
    if tool is None:
        package = TOOLS.get(args[0], args[0])
        raise LabError(f"{args[0]} is not installed", f"apt-get install {package}")
    proc = subprocess.run(
        [tool, *args[1:]], capture_output=True, text=True, input=input, timeout=timeout
    )
    if check and proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise LabError(f"{' '.join(args)} failed: {' / '.join(detail) or proc.returncode}")
    return proc


def in_namespace(
    namespace: str, args: Sequence[str], **kwargs: object
) -> subprocess.CompletedProcess[str]:
    return run(["ip", "netns", "exec", namespace, *args], **kwargs)  # type: ignore[arg-type]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def processes_with(*needles: str) -> dict[int, str]:
    """Processes whose command line holds every needle: how the lab finds what it started,
    also when the PID files went with a crash."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            cmd = _cmdline(int(entry.name))
            if cmd and all(n in cmd for n in needles):
                found[int(entry.name)] = cmd
    return found


def terminate(pids: Sequence[int], timeout: float, *needle: str) -> None:
    """SIGTERM, wait, then SIGKILL what is left; a PID is only signalled while its command
    line still holds the needles, so a reused PID is never hit."""

    def ours(pid: int) -> bool:
        cmd = _cmdline(pid)
        return bool(cmd) and all(n in cmd for n in needle)

    def send(pid: int, sig: signal.Signals) -> None:
        if ours(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)

    for pid in pids:
        send(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(ours(p) for p in pids):
        time.sleep(0.2)
    for pid in pids:
        send(pid, signal.SIGKILL)
