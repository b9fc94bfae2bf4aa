"""Courses, cohorts and their enrolments."""
