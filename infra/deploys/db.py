"""The database server: MariaDB from Debian, LAN-only, least-privilege users, binlog for PITR."""

from __future__ import annotations

from pathlib import Path

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.hardware import Memory
from pyinfra.facts.server import Command
from pyinfra.operations import apt, files, server, systemd

from infra.deploys.checked import TEMPLATES, checked_file
from infra.secrets_file import load_secrets

DATABASE = "shopd"
APP_USER = "shopd_app"
BACKUP_USER = "shopd_backup"
REPL_USER = "shopd_repl"
FILES = Path(__file__).resolve().parent.parent / "files"
# What shopd needs at run time and for its migrations, and nothing more (no FILE, SUPER, GRANT).
APP_PRIVILEGES = (
    "SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, DROP, REFERENCES, "
    "CREATE TEMPORARY TABLES, LOCK TABLES"
)
BACKUP_PRIVILEGES = (
    "SELECT, SHOW VIEW, TRIGGER, LOCK TABLES, EVENT, RELOAD, PROCESS, BINLOG MONITOR"
)


def sizing() -> dict[str, int]:
    """Buffer pool and connections from the host's memory, unless the inventory sets them."""
    memory_mb = host.get_fact(Memory) or 1024
    pool = host.data.get("db_buffer_pool_mb") or max(128, memory_mb // 2)
    connections = host.data.get("db_max_connections") or min(500, max(100, memory_mb // 16))
    return {"buffer_pool_mb": int(pool), "max_connections": int(connections)}


def server_id() -> int:
    """Unique per server in a replication set: the last part of its LAN address."""
    return int(str(host.data.lan_address).rsplit(".", 1)[1])


def _mariadb(replica: bool) -> None:
    apt.packages(
        name="MariaDB server", packages=["mariadb-server", "mariadb-client"], cache_time=3600
    )
    files.directory(
        name="MariaDB log directory (binary and slow logs)",
        path="/var/log/mysql",
        user="mysql",
        group="adm",
        mode="2750",
    )
    checked_file(
        "MariaDB settings",
        "mariadb-shopd.cnf.j2",
        "/etc/mysql/mariadb.conf.d/90-shopd.cnf",
        # mariadbd parses the whole configuration and exits: a typo fails here, not at restart.
        check="cp {path} /etc/mysql/mariadb.conf.d/99-shopd-check.cnf"
        " && mariadbd --help --verbose >/dev/null 2>&1; rc=$?;"
        " rm -f /etc/mysql/mariadb.conf.d/99-shopd-check.cnf; test $rc = 0",
        restart="mariadb",
        bind_address=host.data.lan_address,
        server_id=server_id(),
        replica=replica,
        **sizing(),
    )
    systemd.service(name="MariaDB running", service="mariadb", running=True, enabled=True)


@deploy("Database")
def database() -> None:
    secrets = load_secrets(host.data.secrets_file)
    _mariadb(replica=False)
    grants = checked_file(
        "MariaDB users and grants",
        "mariadb-users.sql.j2",
        "/etc/mysql/shopd-users.sql",
        check=None,
        mode="600",
        database=DATABASE,
        app_user=APP_USER,
        backup_user=BACKUP_USER,
        app_privileges=APP_PRIVILEGES,
        backup_privileges=BACKUP_PRIVILEGES,
        app_hosts=host.data.app_server_addresses,
        repl_user=REPL_USER,
        replicas=host.data.db_replica_addresses,
        secrets=secrets,
    )
    # The file goes in on stdin: the passwords never appear in a process list.
    server.shell(
        name="MariaDB: apply users and grants",
        commands=["mariadb --batch < /etc/mysql/shopd-users.sql"],
        _if=grants.did_change,
    )


@deploy("Database replica")
def replica() -> None:
    """A GTID replica of the primary, read-only, with its health checked every minute."""
    secrets = load_secrets(host.data.secrets_file)
    _mariadb(replica=True)
    source = checked_file(
        "replica: source",
        "mariadb-replica.sql.j2",
        "/etc/mysql/shopd-replica.sql",
        check=None,
        mode="600",
        primary=host.data.db_server_addresses[0],
        repl_user=REPL_USER,
        secrets=secrets,
    )
    replicating = "mariadb -N -e 'SHOW SLAVE STATUS' | grep -c . || true"
    server.shell(
        name="replica: replicate from the primary (GTID)",
        commands=["mariadb --batch < /etc/mysql/shopd-replica.sql"],
        _if=lambda: source.did_change() or host.get_fact(Command, replicating, _sudo=True) == "0",
    )
    files.put(
        name="replica: health check",
        src=str(FILES / "shopd-replication-check"),
        dest="/usr/local/sbin/shopd-replication-check",
        mode="755",
    )
    units = [
        files.template(
            name=f"replica: {unit}",
            src=str(TEMPLATES / f"{unit}.j2"),
            dest=f"/etc/systemd/system/{unit}",
            max_lag=int(host.data.get("db_max_replica_lag", 300)),
        )
        for unit in ("shopd-replication-check.service", "shopd-replication-check.timer")
    ]
    systemd.service(
        name="replica: health check every minute",
        service="shopd-replication-check.timer",
        running=True,
        enabled=True,
        daemon_reload=True,
        restarted=True,
        _if=lambda: any(u.did_change() for u in units),
    )
    systemd.service(
        name="replica: health check timer on",
        service="shopd-replication-check.timer",
        running=True,
        enabled=True,
    )
