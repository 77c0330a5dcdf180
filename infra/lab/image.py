"""The Debian 12 root file system every lab host boots from, made once by debootstrap and cached.

Only what a freshly installed server has goes in: systemd, sshd, sudo and an ``ops`` admin
user as an installer would create it. Everything a deploy installs (nftables, dnsmasq, …) is
left out, so the deploys really install it, through the lab's package proxy.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from infra.lab.system import LabError, cache_dir, run

SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
PACKAGES = (
    "systemd",
    "systemd-sysv",
    "dbus",
    "openssh-server",
    "sudo",
    "iproute2",
    "iputils-ping",
    "ca-certificates",
    "python3",
    "netcat-openbsd",
)
ADMIN_USER = "ops"
SOURCES = f"""\
deb http://deb.debian.org/debian {SUITE} main
deb http://deb.debian.org/debian {SUITE}-updates main
deb http://deb.debian.org/debian-security {SUITE}-security main
"""


def image_key() -> str:
    recipe = "\n".join([SUITE, MIRROR, *PACKAGES, ADMIN_USER, SOURCES, "v2"])
    return hashlib.sha256(recipe.encode()).hexdigest()[:12]


def image_path() -> Path:
    return cache_dir() / f"rootfs-{SUITE}-{image_key()}"


def ensure_image(log: Path) -> tuple[Path, bool]:
    """The cached root file system, building it first when missing. Returns (path, built)."""
    target = image_path()
    if (target / "etc" / "shopd-lab-image").exists():
        return target, False
    partial = target.with_name(target.name + ".partial")
    # A build that died halfway is never used: it is thrown away and made again.
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    proc = run(
        [
            "debootstrap",
            "--variant=minbase",
            f"--include={','.join(PACKAGES)}",
            SUITE,
            str(partial),
            MIRROR,
        ],
        check=False,
        timeout=1800,
    )
    log.write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        raise LabError(f"debootstrap failed (see {log})", "check that deb.debian.org is reachable")
    _finish(partial)
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    for stale in target.parent.glob(f"rootfs-{SUITE}-*"):
        if stale != target:  # images of an older recipe
            shutil.rmtree(stale, ignore_errors=True)
    return target, True


def _finish(root: Path) -> None:
    (root / "etc/apt/sources.list").write_text(SOURCES)
    # Every host gets its own keys and machine id when it is made.
    for key in (root / "etc/ssh").glob("ssh_host_*"):
        key.unlink()
    (root / "etc/machine-id").write_text("")
    run(["chroot", str(root), "useradd", "--create-home", "--shell", "/bin/bash", ADMIN_USER])
    sudoers = root / "etc/sudoers.d/ops"
    sudoers.write_text(f"{ADMIN_USER} ALL=(ALL) NOPASSWD: ALL\n")
    sudoers.chmod(0o440)
    # Containers have no consoles to log in on, and no fstab to remount.
    for unit in ("getty@tty1.service", "console-getty.service", "systemd-remount-fs.service"):
        (root / "etc/systemd/system" / unit).unlink(missing_ok=True)
        (root / "etc/systemd/system" / unit).symlink_to("/dev/null")
    (root / "etc/shopd-lab-image").write_text(image_key() + "\n")
