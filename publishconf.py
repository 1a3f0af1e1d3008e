"""Pelican settings for publishing: `invoke publish` uses this file."""

import sys
from pathlib import Path

sys.path.append(str(Path(__file__).parent))

from pelicanconf import *  # noqa: F403

SITEURL = "https://between-sessions.example.org"
FEED_DOMAIN = SITEURL
RELATIVE_URLS = False
DELETE_OUTPUT_DIRECTORY = True
CACHE_CONTENT = False
LOAD_CONTENT_CACHE = False

# Drafts (imported from WordPress or not) are previewed locally but never published.
DRAFT_SAVE_AS = ""
DRAFT_PAGE_SAVE_AS = ""
