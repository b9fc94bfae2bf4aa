"""The data wing: exports and imports of subscribers and enrolments."""
