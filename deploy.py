"""pyinfra deploy entry point: ``pyinfra inventory.py deploy.py`` (or ``shopctl deploy``).

Every host gets the base and its host firewall; routers get DHCP, DNS and NAT on top; db
servers MariaDB and nightly backups; app servers shopd, nginx in front of all app servers, and the staff login.
"""

from pyinfra import host
from pyinfra.operations import files

from infra.deploys.app import app
from infra.deploys.backup import backups
from infra.deploys.base import base
from infra.deploys.checked import as_list
from infra.deploys.db import database, replica
from infra.deploys.firewall import firewall
from infra.deploys.proxy import proxy
from infra.deploys.router import router
from infra.deploys.staff import staff

# ``--data only=proxy`` (a rolling deploy draining a host) runs just those roles.
only = set(as_list(host.data.get("only", "")))


def wanted(role: str, group: str) -> bool:
    return group in host.groups and (not only or role in only)


if not only:
    base()
    firewall()
if wanted("router", "routers"):
    router()
if wanted("db", "db_servers"):
    database()


def barrier(title: str) -> None:
    """An operation every host runs at the same place: pyinfra orders operations per host only,
    so without it app servers would migrate before the database server has its users."""
    files.directory(name=f"— {title} —", path="/var/lib/shopd-deploy", mode="755")


barrier("network and database ready")
if wanted("db", "db_replicas"):
    replica()
if wanted("backup", "db_servers"):
    backups()
if wanted("app", "app_servers"):
    app()
if wanted("proxy", "app_servers"):
    proxy()
if wanted("staff", "app_servers"):
    staff()
