"""Avatars without Gravatar: the `identicon` Jinja filter. See identicons.py."""

from .identicons import identicon_data_uri, register

__all__ = ["identicon_data_uri", "register"]
