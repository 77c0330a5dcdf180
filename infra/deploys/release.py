"""The shop's release on a host: a virtualenv built from the wheels made on the control machine,
its dependencies installed against the hashes of ``requirements.lock``.

App servers run shopd from it; db servers run ``shopctl backup`` from the same release.
"""

from __future__ import annotations

from pyinfra import host
from pyinfra.api.operation import OperationMeta
from pyinfra.facts.server import Command
from pyinfra.operations import apt, files, server

from infra.lockfile import LOCK
from infra.wheels import ensure_wheels

HOME = "/opt/shopd"


def install_release() -> OperationMeta:
    """Ship the wheels, build ``releases/<id>`` once, point ``current`` at it; returns that link."""
    wheel_dir, release = ensure_wheels()
    apt.packages(name="release packages", packages=["python3-venv", "curl"], cache_time=3600)
    wheel_dir_on_host = f"{HOME}/wheels/{release}"
    wheels = files.sync(name="wheels", src=str(wheel_dir), dest=wheel_dir_on_host, delete=True)
    venv = f"{HOME}/releases/{release}"
    server.shell(
        name=f"release {release}: virtualenv from the shipped wheels",
        commands=[
            f"rm -rf {venv} && python3 -m venv {venv}"
            f" && {venv}/bin/pip install --quiet --no-index --find-links {wheel_dir_on_host}"
            f" --require-hashes -r {wheel_dir_on_host}/{LOCK.name}"
            f" && {venv}/bin/pip install --quiet --no-index --find-links {wheel_dir_on_host}"
            " --no-deps shopd"
            f" || {{ rm -rf {venv}; exit 1; }}"
        ],
        _if=lambda: (
            wheels.did_change()
            or host.get_fact(Command, f"test -x {venv}/bin/shopctl && echo y || echo n") != "y"
        ),
    )
    current = files.link(name="current release", path=f"{HOME}/current", target=venv)
    return current
