"""The worker: one process that delivers mail, runs jobs and keeps the schedule (`flask worker`).
It may import every other wing; none imports it."""
