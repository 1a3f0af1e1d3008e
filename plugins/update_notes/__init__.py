"""Dated update notes that link a post to its follow-up."""
