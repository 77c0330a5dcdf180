"""The package proxy lab hosts install from: tinyproxy on the machine's admin address.

Hosts have no route out; apt on them talks to this proxy only, and the proxy forwards only to
Debian's archive — which is also how an air-gapped shop runs. (apt-cacher-ng was tried first:
with several hosts refreshing the same index at once it left one apt waiting forever.)
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

from infra.lab import system
from infra.lab import topology as topo
from infra.lab.system import LabError, processes_with, state_dir, terminate

ALLOWED_HOSTS = ("deb.debian.org",)


def _dir() -> Path:
    return state_dir() / "apt-proxy"


def _conf() -> Path:
    return _dir() / "tinyproxy.conf"


def start() -> int:
    _dir().mkdir(parents=True, exist_ok=True)
    allowed = _dir() / "allowed"
    allowed.write_text("".join(f"^{h.replace('.', chr(92) + '.')}$\n" for h in ALLOWED_HOSTS))
    _conf().write_text(
        "\n".join(
            [
                f"Port {topo.APT_PROXY_PORT}",
                f"Listen {topo.CONTROL_ADMIN.ip}",
                f"Allow {topo.ADMIN_NET}",
                f'Filter "{allowed}"',
                "FilterDefaultDeny Yes",
                "FilterURLs Off",
                "FilterType ere",
                "ConnectPort 443",
                "Timeout 600",
                "MaxClients 100",
                "LogLevel Connect",
                "User nobody",
                "Group nogroup",
            ]
        )
        + "\n"
    )
    log = open(_dir() / "proxy.log", "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(
        [system.find_tool("tinyproxy") or "tinyproxy", "-d", "-c", str(_conf())],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
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


def running() -> bool:
    return bool(processes_with("tinyproxy", str(_conf())))


def stop() -> list[str]:
    pids = list(processes_with("tinyproxy", str(_conf())))
    terminate(pids, 5, "tinyproxy", str(_conf()))
    return [f"package proxy (pid {pid})" for pid in pids]
