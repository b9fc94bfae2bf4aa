"""The staff wing: accounts with Argon2id passwords and lockout, sessions kept on the server, API tokens."""
