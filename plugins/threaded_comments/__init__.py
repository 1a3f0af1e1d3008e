"""Threaded comments and likes, read from content/comments/."""
