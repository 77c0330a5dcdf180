"""SSH to the shop's hosts with Fabric, the way an operator does: key auth, known hosts enforced."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import paramiko
from fabric import Config, Connection


def connect(
    address: str,
    *,
    user: str,
    key: str | Path,
    known_hosts: str | Path | None = None,
    timeout: float = 5,
) -> Connection:
    conn = Connection(
        address,
        user=user,
        connect_timeout=timeout,
        # Commands never read our stdin: tests and timers have none to give.
        config=Config(overrides={"run": {"in_stream": False}}),
        connect_kwargs={
            "key_filename": str(Path(key).expanduser()),
            "look_for_keys": False,
            "allow_agent": False,
            "banner_timeout": timeout,
            "auth_timeout": timeout,
        },
    )
    if known_hosts is not None:
        # An unknown or changed host key is refused, never silently trusted.
        conn.client.load_host_keys(str(Path(known_hosts).expanduser()))
        conn.client.set_missing_host_key_policy(paramiko.RejectPolicy())
    return conn


def connect_host(host: Any) -> Connection:
    """``connect`` to an inventory host (pyinfra's) with the SSH settings its data names."""
    data = host.data
    return connect(
        data["ssh_hostname"],
        user=data.get("ssh_user", "root"),
        key=data.get("ssh_key", "~/.ssh/id_ed25519"),
        known_hosts=data.get("ssh_known_hosts_file", "~/.ssh/known_hosts"),
    )
