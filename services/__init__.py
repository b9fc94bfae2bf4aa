"""Use cases, in wings by domain. Each owns its transaction and raises the errors of
services/core/errors.py. A wing imports only the core and the wings below it:
core < mail < staff < subscriptions < courses < privacy < data < console < worker
(tests/test_architecture.py checks it)."""
