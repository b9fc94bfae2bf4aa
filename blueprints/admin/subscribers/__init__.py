"""Subscribers: search, one record, and what staff do to them."""
