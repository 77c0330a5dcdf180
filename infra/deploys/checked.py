"""Config files that replace the old one only after their own checker accepts them.

The new file is rendered to a staging path first; only when it changed is it checked and
installed, and the service restarted. A file the checker refuses is removed from staging, so
the next run tries again instead of thinking nothing changed.
"""

from __future__ import annotations

from pathlib import Path

from pyinfra.operations import files, server, systemd

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STAGING = "/var/lib/shopd-deploy/staged"


def as_list(value: object) -> list[str]:
    """``pyinfra --data key=…`` gives one string (maybe comma-separated); the inventory a list."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return [str(item) for item in value or []]  # type: ignore[attr-defined]


def staged_path(dest: str) -> str:
    return f"{STAGING}/{dest.strip('/').replace('/', '__')}"


def checked_file(
    title: str,
    template: str,
    dest: str,
    *,
    check: str | None,
    mode: str = "644",
    reload: str | None = None,
    restart: str | None = None,
    **context: object,
):
    """Render ``template`` to ``dest`` via staging; ``check`` gets the staged path as {path}."""
    staged = staged_path(dest)
    rendered = files.template(
        name=f"{title}: render",
        src=str(TEMPLATES / template),
        dest=staged,
        mode=mode,
        create_remote_dir=True,
        **context,
    )
    steps = [check.format(path=staged)] if check else []
    steps.append(f"install -D -m {mode} {staged} {dest}")
    # Any failure drops the staged file, so the next run tries again instead of seeing no change.
    server.shell(
        name=f"{title}: check and install",
        commands=[f"{{ {' && '.join(steps)}; }} || {{ rm -f {staged}; exit 1; }}"],
        _if=rendered.did_change,
    )
    if reload or restart:
        systemd.service(
            name=f"{title}: {'reload' if reload else 'restart'} {reload or restart}",
            service=reload or restart,
            reloaded=bool(reload),
            restarted=bool(restart),
            _if=rendered.did_change,
        )
    return rendered
