"""pyinfra deploy entry point: ``pyinfra inventory.py deploy.py`` (or ``shopctl deploy``).

Every host gets the base and its host firewall; routers get DHCP, DNS and NAT on top; db
servers MariaDB; app servers shopd, nginx in front of all app servers, and the staff login.
"""

from pyinfra import host
from pyinfra.operations import files

from infra.deploys.app import app
from infra.deploys.base import base
from infra.deploys.db import database
from infra.deploys.firewall import firewall
from infra.deploys.proxy import proxy
from infra.deploys.router import router
from infra.deploys.staff import staff

base()
firewall()
if "routers" in host.groups:
    router()
if "db_servers" in host.groups:
    database()


def barrier(title: str) -> None:
    """An operation every host runs at the same place: pyinfra orders operations per host only,
    so without it app servers would migrate before the database server has its users."""
    files.directory(name=f"— {title} —", path="/var/lib/shopd-deploy", mode="755")


barrier("network and database ready")
if "app_servers" in host.groups:
    app()
    proxy()
    staff()
