"""Meetings, registrations with waitlist, and what feeds and invitations need (issue 5)."""
