"""Use cases. Each owns its transaction and raises errors from services.errors."""
