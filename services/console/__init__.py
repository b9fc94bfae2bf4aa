"""The console wing: what the staff console shows and does across wings (dashboard, subscriber
records, embed snippets, demo data, retention)."""
