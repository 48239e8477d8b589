"""Hostile-input corpora and their runner (see README.md here)."""
