"""Dated update notes that link a post to its follow-up."""

from .update_notes import register

__all__ = ["register"]
