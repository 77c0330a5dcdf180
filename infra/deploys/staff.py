"""The ``staff`` login on app servers: its SSH session runs the TUI and nothing else."""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import server

from infra.deploys.app import APP_PORT, HOME
from infra.deploys.checked import checked_file


@deploy("Staff login")
def staff() -> None:
    keys = list(host.data.get("staff_keys", []))
    server.user(
        name="staff user",
        user="staff",
        shell="/bin/sh",
        home="/home/staff",
        ensure_home=True,
        public_keys=keys,
        delete_keys=True,
    )
    checked_file(
        "sshd: staff runs only the TUI",
        "sshd-staff.conf.j2",
        "/etc/ssh/sshd_config.d/20-shopd-staff.conf",
        check="printf 'Include /etc/ssh/sshd_config\\nInclude {path}\\n' > {path}.test"
        " && sshd -t -f {path}.test; rc=$?; rm -f {path}.test; test $rc = 0",
        reload="ssh",
        command=f"{HOME}/current/bin/shopctl tui --url http://127.0.0.1:{APP_PORT}",
    )
