"""Mailing lists and their welcome mail."""
