"""Backups that are verified by restoring them, pulled off-host over SSH. Built by issue 9."""
