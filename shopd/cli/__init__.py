"""``shopctl``: every command, with what only the command line needs (the demo's seed, the test
payment gateway, pre-flight checks, campaign readiness, report rendering, the terminal's look).

``shopd.cli:app`` is the entry point; ``python -m shopd.cli`` runs the same."""

from shopd.cli.main import app

__all__ = ["app"]
