"""Employees, enrolment links, four-eyes recovery and server-side sessions."""
