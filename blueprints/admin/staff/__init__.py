"""Signing in and out, one's own account, and (owners) the staff accounts."""
