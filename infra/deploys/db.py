"""The database server: MariaDB from Debian, LAN-only, least-privilege users, binlog for PITR."""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.hardware import Memory
from pyinfra.operations import apt, files, server, systemd

from infra.deploys.checked import checked_file
from infra.secrets_file import load_secrets

DATABASE = "shopd"
APP_USER = "shopd_app"
BACKUP_USER = "shopd_backup"
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


@deploy("Database")
def database() -> None:
    secrets = load_secrets(host.data.secrets_file)
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
        **sizing(),
    )
    systemd.service(name="MariaDB running", service="mariadb", running=True, enabled=True)
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
        secrets=secrets,
    )
    # The file goes in on stdin: the passwords never appear in a process list.
    server.shell(
        name="MariaDB: apply users and grants",
        commands=["mariadb --batch < /etc/mysql/shopd-users.sql"],
        _if=grants.did_change,
    )
