"""The command line's consoles and its one way of failing: a red line and a hint, no traceback."""

from __future__ import annotations

import typer
from rich.console import Console

console = Console()
err = Console(stderr=True)


def fail(message: str, hint: str = "", code: int = 1) -> typer.Exit:
    body = f"[bold red]error:[/] {message}"
    if hint:
        body += f"\n[dim]→ {hint}[/]"
    err.print(body)
    return typer.Exit(code)
