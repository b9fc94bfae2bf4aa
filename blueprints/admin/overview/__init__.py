"""The console's overview: the dashboard, the outbox and the audit log."""
