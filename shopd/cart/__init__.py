"""The cart area."""
