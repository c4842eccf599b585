"""Volunteer sign-ups, double opt-in, the coordinator pipeline and AVG self-service (issue 4)."""
