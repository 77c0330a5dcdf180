"""Promotions: flash sales (more campaigns to come), and the price floor they all respect."""
