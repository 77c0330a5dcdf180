"""shopd — a self-hosted online shop."""

__version__ = "0.1.0"
