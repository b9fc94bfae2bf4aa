"""Export and import of subscribers and enrolments."""
