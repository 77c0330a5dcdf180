"""Locust profiles and the capacity search behind ``shopctl loadtest``. Built by issue 10."""
