"""Every host: admin users with keys, hardened sshd, time sync, security upgrades, sysctl, journald."""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.server import Command
from pyinfra.operations import apt, files, server

from infra.deploys.checked import checked_file


def in_container() -> bool:
    """Kernel settings belong to the machine's kernel when the host is a container (the lab)."""
    return (
        host.get_fact(Command, "systemd-detect-virt --container --quiet && echo yes || echo no")
        == "yes"
    )


@deploy("Base")
def base() -> None:
    apt_proxy = host.data.get("apt_proxy")
    files.put(
        name="apt: package proxy",
        src=_text(f'Acquire::http::Proxy "{apt_proxy}";\n' if apt_proxy else ""),
        dest="/etc/apt/apt.conf.d/01shopd-proxy",
    )
    apt.packages(
        name="base packages",
        packages=[
            "sudo",
            "unattended-upgrades",
            "systemd-timesyncd",
            "nftables",
            "openssh-server",
            "procps",
        ],
        update=True,
        cache_time=3600,
    )

    for admin in host.data.admins:
        server.user(
            name=f"admin user {admin['name']}",
            user=admin["name"],
            shell="/bin/bash",
            groups=["sudo"],
            public_keys=admin["keys"],
            delete_keys=True,
            ensure_home=True,
        )
    checked_file(
        "sudo for admins",
        "sudoers-admins.j2",
        "/etc/sudoers.d/shopd-admins",
        check="visudo -cf {path}",
        mode="440",
        admins=host.data.admins,
    )

    checked_file(
        "sshd hardening",
        "sshd-hardening.conf.j2",
        "/etc/ssh/sshd_config.d/10-shopd.conf",
        # sshd takes the first value it reads: test the staged file ahead of the full config.
        check="printf 'Include {path}\\nInclude /etc/ssh/sshd_config\\n' > {path}.test"
        " && sshd -t -f {path}.test; rc=$?; rm -f {path}.test; test $rc = 0",
        reload="ssh",
        admins=host.data.admins,
        # The staff login (deploys/staff.py) on app servers; it can only run the TUI.
        extra_ssh_users=["staff"] if "app_servers" in host.groups else [],
    )

    checked_file(
        "time sync",
        "timesyncd.conf.j2",
        "/etc/systemd/timesyncd.conf.d/shopd.conf",
        check=None,
        restart="systemd-timesyncd",
        ntp_servers=host.data.ntp_servers,
    )

    files.put(
        name="unattended security upgrades",
        src=_text(
            'APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "1";\n'
        ),
        dest="/etc/apt/apt.conf.d/20auto-upgrades",
    )

    net = checked_file(
        "sysctl: network hardening",
        "sysctl-net.conf.j2",
        "/etc/sysctl.d/90-shopd-net.conf",
        check=None,
        forwarding="routers" in host.groups,
    )
    server.shell(
        name="sysctl: apply network settings",
        commands=["sysctl -q -p /etc/sysctl.d/90-shopd-net.conf"],
        _if=net.did_change,
    )
    kernel = checked_file(
        "sysctl: kernel hardening",
        "sysctl-kernel.conf.j2",
        "/etc/sysctl.d/91-shopd-kernel.conf",
        check=None,
    )
    if not in_container():
        server.shell(
            name="sysctl: apply kernel settings",
            commands=["sysctl -q -p /etc/sysctl.d/91-shopd-kernel.conf"],
            _if=kernel.did_change,
        )

    checked_file(
        "journald limits",
        "journald.conf.j2",
        "/etc/systemd/journald.conf.d/shopd.conf",
        check=None,
        restart="systemd-journald",
    )


def _text(content: str):
    from io import StringIO

    return StringIO(content)
