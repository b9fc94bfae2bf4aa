"""The courses wing: the catalogue, enrolment into a seat or the waitlist, staff's course and
enrolment work, the .ics invitation."""
