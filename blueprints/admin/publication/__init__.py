"""The publication's name, site, logo, colour, sender and postal address (owners only)."""
