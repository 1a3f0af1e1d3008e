"""Pelican settings for local work: `invoke build` and `invoke serve` use this file."""

import os

AUTHOR = "Maren"
SITENAME = "Between Sessions"
SITESUBTITLE = "Notes from a long stretch of therapy"
SITEURL = ""

PATH = "content"
PAGE_PATHS = ["pages"]
# Images the WordPress import copied (`invoke import-wordpress FILE --download-media`).
STATIC_PATHS = ["images"]
TIMEZONE = "Europe/London"
DEFAULT_LANG = "en"
DEFAULT_DATE_FORMAT = "%-d %B %Y"

THEME = "theme"
PLUGIN_PATHS = ["plugins"]
PLUGINS = [
    "update_notes",
    "threaded_comments",
    "unchanged_files",
    # Issue 15: what readers look for, as on WordPress.
    "identicons",
    "site_search",
    "sitemap_dates",  # pelican-sitemap, with lastmod dates that only change with the site
    "template_cache",  # Jinja's compiled templates kept between builds
]

# WordPress-style permalinks, so links from the old blog keep their shape.
ARTICLE_URL = "{date:%Y}/{date:%m}/{slug}/"
ARTICLE_SAVE_AS = "{date:%Y}/{date:%m}/{slug}/index.html"
PAGE_URL = "{slug}/"
PAGE_SAVE_AS = "{slug}/index.html"
CATEGORY_URL = "category/{slug}/"
CATEGORY_SAVE_AS = "category/{slug}/index.html"
TAG_URL = "tag/{slug}/"
TAG_SAVE_AS = "tag/{slug}/index.html"
AUTHOR_SAVE_AS = ""
AUTHORS_SAVE_AS = ""
ARCHIVES_SAVE_AS = "archives/index.html"
YEAR_ARCHIVE_URL = "{date:%Y}/"
YEAR_ARCHIVE_SAVE_AS = "{date:%Y}/index.html"
MONTH_ARCHIVE_URL = "{date:%Y}/{date:%m}/"
MONTH_ARCHIVE_SAVE_AS = "{date:%Y}/{date:%m}/index.html"
CATEGORIES_SAVE_AS = "categories/index.html"
TAGS_SAVE_AS = "tags/index.html"
# Issue 15: the shell the comment intake's own pages are filled into (moderation.intake.pages).
# robots.txt is a theme template too (it names the sitemap once SITEURL is absolute).
DIRECT_TEMPLATES = ["index", "tags", "categories", "archives", "intake_page", "robots"]
INTAKE_PAGE_SAVE_AS = "intake-page.html"
ROBOTS_SAVE_AS = "robots.txt"

DEFAULT_PAGINATION = 5
PAGINATION_PATTERNS = (
    (1, "{url}", "{save_as}"),
    (2, "{base_name}/page/{number}/", "{base_name}/page/{number}/index.html"),
)

FEED_DOMAIN = "http://127.0.0.1:8000"
FEED_ALL_ATOM = "feeds/all.atom.xml"
FEED_ALL_RSS = "feeds/all.rss.xml"  # beside Atom: some readers and WordPress habits want RSS
CATEGORY_FEED_ATOM = "feeds/category/{slug}.atom.xml"
TAG_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
RSS_FEED_SUMMARY_ONLY = False

# sitemap.xml (pelican-sitemap, through plugins/sitemap_dates): posts, pages and lists,
# not the intake's shell or robots.txt.
SITEMAP = {"format": "xml", "exclude": [r"^intake-page\.html$", r"^robots\.txt$"]}
SEARCH_INDEX_SAVE_AS = "search.json"  # plugins/site_search, read by theme/js/search.js

# Avatars (plugins/identicons) are keyed with this, so the same name draws another picture
# on another site. Set your own in the environment; changing it needs `invoke rebuild`.
IDENTICON_SECRET = os.environ.get("IDENTICON_SECRET", "between-sessions-local-avatars")

# Pelican's content cache makes an unchanged rebuild cheap.
CACHE_CONTENT = True
LOAD_CONTENT_CACHE = True

DELETE_OUTPUT_DIRECTORY = False

# Theme: the addresses of the pages the *_SAVE_AS settings above write, for the navigation.
INDEX_URL = ""
ARCHIVES_URL = "archives/"
CATEGORIES_URL = "categories/"
TAGS_URL = "tags/"

# The comment tools' settings, read by moderation/settings.py, which holds every key of
# COMMENT_INTAKE and MODERATION with its default and meaning; an unknown key is refused.
# Only the private files are named here. Relative paths start at this file's folder.

# Comment intake (`invoke serve`, `invoke intake`): rate limits, body size, CORS origin, ...
COMMENT_INTAKE = {
    "INBOX_PATH": "var/inbox.sqlite3",  # private, git-ignored; COMMENT_INTAKE_INBOX overrides
}

# Moderation (`invoke moderate`): link limit, holds, purge, Akismet's concurrency and
# timeouts. Akismet's key and blog URL come from PYTHON_AKISMET_API_KEY /
# PYTHON_AKISMET_BLOG_URL, and AKISMET_API_URL points it at another host.
MODERATION = {
    "BLOCKLIST_PATH": "var/blocklist.txt",  # words, emails, address ranges; one a line
}

# Threaded comments (plugins/threaded_comments): content/comments/<post-slug>/<id>.md.
THREADED_COMMENTS = {
    "PATH": "comments",
    "MAX_DEPTH": 5,  # deeper replies show at this depth, "in reply to NAME"
    "ORDER": "oldest",  # or "newest", within each level of a thread
    "CLOSE_AFTER_DAYS": None,  # a number closes comments on older posts
    "FORM_ACTION": "/api/comments",
    "LIKES_ACTION": "/api/likes",
}

# Mail (issue 14): SMTP comes from the environment, BETWEEN_SESSIONS_SMTP_URL
# (smtp://user@host:587 with STARTTLS, or smtps://host:465) and BETWEEN_SESSIONS_SMTP_PASSWORD;
# without it nothing is sent. BETWEEN_SESSIONS_AUTHOR_EMAIL overrides AUTHOR_EMAIL.
NOTIFY = {
    "AUTHOR_EMAIL": None,  # where waiting comments are announced
    "FROM": "Between Sessions <blog@between-sessions.example.org>",
    "DIGEST_MINUTES": 60,  # at most one digest of waiting comments this often
    "INTAKE_URL": None,  # where links in readers' mail point; None: SITEURL
    "REPLY_BOX": None,  # the form's reply-mail box; None: shown when mail is on at the build
}

# Shown at once to a reader whose comment uses crisis language (issue 14). Set the helpline
# of the country most of your readers live in: see README, "A reader in crisis".
CARE = {
    "RESOURCES": [
        {"name": "If you are in danger now, call your local emergency number."},
        {"name": "NATIONAL HELPLINE: set its name, phone and url here"},
    ],
}
