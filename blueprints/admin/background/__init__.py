"""Background work: the worker's jobs, with retry and cancel, and its schedule."""
