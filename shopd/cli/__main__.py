"""``python -m shopd.cli``: the demo starts its helpers (the payment gateway) this way."""

from shopd.cli.main import app

app()
