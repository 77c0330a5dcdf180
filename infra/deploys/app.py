"""App servers: shopd from wheels built here, a hardened systemd unit, health-checked."""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.hardware import Cpus
from pyinfra.facts.server import Command
from pyinfra.operations import server, systemd

from infra.deploys.checked import checked_file
from infra.deploys.db import APP_USER, DATABASE
from infra.deploys.release import HOME, install_release
from infra.secrets_file import load_secrets

APP_PORT = 8000


def workers() -> int:
    cpus = host.get_fact(Cpus) or 1
    return host.data.get("app_workers") or max(1, cpus)


@deploy("App")
def app() -> None:
    secrets = load_secrets(host.data.secrets_file)
    server.user(
        name="shopd system user",
        user="shopd",
        system=True,
        home="/var/lib/shopd",
        shell="/usr/sbin/nologin",
        ensure_home=True,
    )
    current = install_release()
    db_host = host.data.db_server_addresses[0]
    env = checked_file(
        "shopd.env",
        "shopd.env.j2",
        "/etc/shopd/shopd.env",
        check=None,
        mode="600",
        database_url=f"mysql+asyncmy://{APP_USER}:{secrets['db_app_password']}@{db_host}:3306/{DATABASE}",
        secret_key=secrets["secret_key"],
        trusted_proxies=",".join(["127.0.0.1", *host.data.app_server_addresses]),
    )
    if host.name == host.data.app_server_names[0]:  # migrations once per release, on one host
        with_env = f"set -a && . /etc/shopd/shopd.env && {HOME}/current/bin/shopctl"
        status = f"{with_env} db status >/dev/null 2>&1 && echo current || echo behind"
        server.shell(
            name="shopctl db upgrade",
            commands=[f"{with_env} db upgrade"],
            # Asked again at run time: the release may be new, or the last migration failed.
            _if=lambda: (
                current.did_change() or host.get_fact(Command, status, _sudo=True) != "current"
            ),
        )
    unit = checked_file(
        "shopd.service",
        "shopd.service.j2",
        "/etc/systemd/system/shopd.service",
        check="systemd-analyze verify {path} >/dev/null 2>&1 || systemd-analyze verify {path}",
        home=HOME,
        port=APP_PORT,
        workers=workers(),
    )
    # A rolling deploy restarts each app server in its turn even when nothing else changed.
    forced = str(host.data.get("restart", "")).lower() in ("yes", "true", "1")
    changed = lambda: forced or current.did_change() or env.did_change() or unit.did_change()  # noqa: E731
    systemd.service(
        name="shopd (re)started",
        service="shopd",
        running=True,
        enabled=True,
        restarted=True,
        daemon_reload=True,
        _if=changed,
    )
    systemd.service(name="shopd running", service="shopd", running=True, enabled=True)
    server.shell(
        name="shopd answers /readyz",
        commands=[
            f"for i in $(seq 60); do curl -fsS -o /dev/null http://127.0.0.1:{APP_PORT}/readyz && exit 0; sleep 1; done;"
            " journalctl -u shopd -n 30 --no-pager; exit 1"
        ],
        _if=changed,
    )
