"""Submitted best practices and werkbezoek offers, and their moderation (issue 6)."""
