"""Avatars without Gravatar: the `identicon` Jinja filter. See identicons.py."""

from .identicons import identicon_svg, register

__all__ = ["identicon_svg", "register"]
