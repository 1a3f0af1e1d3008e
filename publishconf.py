"""Pelican settings for publishing: `invoke publish` and `invoke deploy` use this file."""

import os
import sys
from pathlib import Path

sys.path.append(str(Path(__file__).parent))

from pelicanconf import *  # noqa: F403

# The live site's address. `invoke publish` and `invoke deploy` refuse this placeholder:
# put your domain here, or set BETWEEN_SESSIONS_SITEURL.
SITEURL = os.environ.get("BETWEEN_SESSIONS_SITEURL", "https://between-sessions.example.org")
FEED_DOMAIN = SITEURL
RELATIVE_URLS = False
# Apart from the preview's output/, so `invoke serve` never shows the live site's links.
OUTPUT_PATH = "output-publish"
DELETE_OUTPUT_DIRECTORY = True
# Pelican's content cache, apart from the preview's (a cache made with other settings is
# thrown away whole): a rebuild after moderation reads only what changed.
CACHE_PATH = "cache-publish"

# Where `invoke deploy` sends OUTPUT_PATH with rsync: "user@host:/var/www/between-sessions"
# over SSH, or a local folder. BETWEEN_SESSIONS_DEPLOY_TARGET overrides it.
DEPLOY_TARGET = ""

# Drafts (imported from WordPress or not) are previewed locally but never published.
DRAFT_SAVE_AS = ""
DRAFT_PAGE_SAVE_AS = ""
