"""The operator's tools come in extras (``pyproject.toml``), which an app server does not install.

A command that needs one asks :func:`need_extra` first, so that without it the operator reads
one line naming the extra to install, not a traceback ending in ``ModuleNotFoundError``. The
modules are only looked for, not imported: ``shopctl --help`` and every command's ``--help``
work with no extra installed.
"""

from __future__ import annotations

import importlib.util

import typer
from rich.markup import escape

from shopd.cli.terminal import err

# The modules each extra brings, by the names they are imported under.
EXTRAS: dict[str, tuple[str, ...]] = {
    "ops": ("pyinfra", "fabric"),
    "loadtest": ("locust", "psutil", "matplotlib"),
    "reports": ("matplotlib",),
}


def missing(extra: str) -> list[str]:
    """The modules of ``extra`` that cannot be imported here."""
    found = []
    for module in EXTRAS[extra]:
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):  # a parent package that fails to import, or a stub
            spec = None
        if spec is None:
            found.append(module)
    return found


def need_extra(extra: str, command: str) -> None:
    """Stop ``shopctl <command>`` with one red line unless ``extra`` is installed."""
    if not missing(extra):
        return
    # soft_wrap: one line however narrow the terminal, so a log keeps it whole.
    install = escape(f"pip install 'shopd[{extra}]'")
    err.print(
        f"[bold red]error:[/] shopctl {command} needs the {extra} extra → {install}",
        soft_wrap=True,
        highlight=False,
    )
    raise typer.Exit(1)
