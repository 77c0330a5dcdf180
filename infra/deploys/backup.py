"""Nightly backups on the database server: a systemd timer runs ``shopctl backup create``
with verification by restore and retention, and leaves a metric for monitoring."""

from __future__ import annotations

import shlex

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import apt, files, systemd

from backups.remote import REMOTE_DIR
from infra.deploys.checked import checked_file
from infra.deploys.db import BACKUP_USER, DATABASE
from infra.deploys.release import HOME, install_release
from infra.secrets_file import load_secrets

# Debian's prometheus-node-exporter reads *.prom files from here (textfile collector).
METRICS_DIR = "/var/lib/prometheus/node-exporter"


@deploy("Backups")
def backups() -> None:
    secrets = load_secrets(host.data.secrets_file)
    current = install_release()
    encrypt_to = list(host.data.get("backup_encrypt_to", []))
    if encrypt_to:
        apt.packages(name="age (backup encryption)", packages=["age"], cache_time=3600)
    files.directory(name="backup directory", path=REMOTE_DIR, user="root", mode="700")
    files.directory(name="metrics directory", path=METRICS_DIR, mode="755")
    url = f"mysql://{BACKUP_USER}:{secrets['db_backup_password']}@localhost/{DATABASE}"
    env = checked_file(
        "backup.env",
        "shopd-backup.env.j2",
        "/etc/shopd/backup.env",
        check=None,
        mode="600",
        database_url=url,
        directory=REMOTE_DIR,
    )
    service = checked_file(
        "shopd-backup.service",
        "shopd-backup.service.j2",
        "/etc/systemd/system/shopd-backup.service",
        check="systemd-analyze verify {path} >/dev/null 2>&1 || systemd-analyze verify {path}",
        home=HOME,
        directory=REMOTE_DIR,
        metrics=f"{METRICS_DIR}/shopd_backup.prom",
        metrics_dir=METRICS_DIR,
        encrypt_to=encrypt_to,
        # Encrypted backups are verified where the key is: on the machine that pulls them.
        verify="" if encrypt_to else "--verify ",
    )
    on_calendar = str(host.data.get("backup_on_calendar", "*-*-* 02:30:00"))
    timer = checked_file(
        "shopd-backup.timer",
        "shopd-backup.timer.j2",
        "/etc/systemd/system/shopd-backup.timer",
        check=f"systemd-analyze calendar {shlex.quote(on_calendar)} >/dev/null",
        on_calendar=on_calendar,
    )
    systemd.service(
        name="nightly backup timer",
        service="shopd-backup.timer",
        running=True,
        enabled=True,
        daemon_reload=True,
        _if=lambda: (
            current.did_change() or env.did_change() or service.did_change() or timer.did_change()
        ),
    )
    systemd.service(
        name="nightly backup timer enabled",
        service="shopd-backup.timer",
        running=True,
        enabled=True,
    )
