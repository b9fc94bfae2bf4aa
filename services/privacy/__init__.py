"""The privacy wing: what Roster holds about an address, readers' own requests, erasure and its tombstones."""
