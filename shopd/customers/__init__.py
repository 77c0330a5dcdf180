"""The customers area."""
