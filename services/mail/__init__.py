"""The mail wing: the outbox (mail written in the caller's transaction), building and sending it,
and staff's view of it."""
