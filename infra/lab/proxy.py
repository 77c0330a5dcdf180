"""The package proxy lab hosts install from: apt-cacher-ng on the machine's admin address.

Hosts have no route out; apt on them talks to this proxy only, which is also how an air-gapped
shop would run. Its cache outlives the lab, so a second ``lab up`` and deploy download nothing.
"""

from __future__ import annotations

import socket
import subprocess
import time

from infra.lab import topology as topo
from infra.lab.system import LabError, cache_dir, find_tool, processes_with, state_dir, terminate


def _dir():
    return state_dir() / "apt-proxy"


def start() -> int:
    conf = _dir() / "conf"
    conf.mkdir(parents=True, exist_ok=True)
    cache = cache_dir() / "apt"
    cache.mkdir(parents=True, exist_ok=True)
    # An own config directory: Debian's default one remaps deb.debian.org to mirror lists
    # this machine may not reach; the lab only wants plain caching of what is asked for.
    (conf / "acng.conf").write_text(
        "\n".join(
            [
                "ForeGround: 1",
                f"BindAddress: {topo.CONTROL_ADMIN.ip}",
                f"Port: {topo.APT_PROXY_PORT}",
                f"CacheDir: {cache}",
                f"LogDir: {_dir()}",
                f"SocketPath: {_dir() / 'acng.socket'}",
                "ExThreshold: 30",
            ]
        )
        + "\n"
    )
    log = open(_dir() / "proxy.log", "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(
        [find_tool("apt-cacher-ng") or "apt-cacher-ng", "-c", str(conf)],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    (_dir() / "pid").write_text(f"{proc.pid}\n")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise LabError(f"the package proxy exited at start (see {_dir() / 'proxy.log'})")
        if answers():
            return proc.pid
        time.sleep(0.2)
    raise LabError("the package proxy did not start listening within 15 s")


def answers() -> bool:
    try:
        with socket.create_connection((str(topo.CONTROL_ADMIN.ip), topo.APT_PROXY_PORT), 1):
            return True
    except OSError:
        return False


def stop() -> list[str]:
    marker = str(_dir() / "conf")
    pids = list(processes_with("apt-cacher-ng", marker))
    terminate(pids, 5, "apt-cacher-ng", marker)
    return [f"package proxy (pid {pid})" for pid in pids]


def running() -> bool:
    return bool(processes_with("apt-cacher-ng", str(_dir() / "conf")))
