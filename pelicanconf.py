"""Pelican settings for local work: `invoke build` and `invoke serve` use this file."""

AUTHOR = "Maren"
SITENAME = "Between Sessions"
SITESUBTITLE = "Notes from a long stretch of therapy"
SITEURL = ""

PATH = "content"
PAGE_PATHS = ["pages"]
STATIC_PATHS: list[str] = []
TIMEZONE = "Europe/London"
DEFAULT_LANG = "en"
DEFAULT_DATE_FORMAT = "%-d %B %Y"

THEME = "theme"
PLUGIN_PATHS = ["plugins"]
PLUGINS = ["update_notes", "threaded_comments", "unchanged_files"]

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

DEFAULT_PAGINATION = 5
PAGINATION_PATTERNS = (
    (1, "{url}", "{save_as}"),
    (2, "{base_name}/page/{number}/", "{base_name}/page/{number}/index.html"),
)

FEED_DOMAIN = "http://127.0.0.1:8000"
FEED_ALL_ATOM = "feeds/all.atom.xml"
CATEGORY_FEED_ATOM = "feeds/category/{slug}.atom.xml"
TAG_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
RSS_FEED_SUMMARY_ONLY = False

# Pelican's content cache makes an unchanged rebuild cheap.
CACHE_CONTENT = True
LOAD_CONTENT_CACHE = True

DELETE_OUTPUT_DIRECTORY = False

# Theme: the addresses of the pages the *_SAVE_AS settings above write, for the navigation.
INDEX_URL = ""
ARCHIVES_URL = "archives/"
CATEGORIES_URL = "categories/"
TAGS_URL = "tags/"

# Comment intake (`invoke serve`, `invoke intake`; see moderation/intake_settings.py for
# every key and its default). Relative paths start at this file's folder.
COMMENT_INTAKE = {
    "INBOX_PATH": "var/inbox.sqlite3",  # private, git-ignored; COMMENT_INTAKE_INBOX overrides
    "ALLOWED_ORIGIN": None,  # the site's origin when the intake runs on another (CORS)
    "MAX_BODY_BYTES": 64 * 1024,
    "COMMENT_RATE_LIMIT": (5, 600),  # comments per address per 10 minutes
    "LIKE_RATE_LIMIT": (60, 60),  # likes per address per minute
    "LIKE_SALT_DAYS": 7,  # a reader's likes are recognised for this long, then forgotten
    "SYNCHRONOUS": "FULL",  # with group commit: durable through power loss, and fast
}

# Moderation (`invoke moderate`; see moderation/moderate.py for the pipeline). Akismet's key
# and blog URL come from PYTHON_AKISMET_API_KEY / PYTHON_AKISMET_BLOG_URL, and AKISMET_API_URL
# points it at another host. Relative paths start at this file's folder.
MODERATION = {
    "MAX_LINKS": 2,  # more links than this: held for review
    "HOLD_FIRST_COMMENT": False,  # hold a new email's first comment (WordPress's setting)
    "HOLD_ALL": False,  # hold even what Akismet and the rules let through
    "PURGE_AFTER_DAYS": 30,  # then email, IP and user agent are forgotten
    "BLOCKLIST_PATH": "var/blocklist.txt",  # words, emails, address ranges; one a line
    "AKISMET_CONCURRENCY": 32,  # comment-checks in flight at once
    "AKISMET_RETRIES": 3,  # on network error, timeout or 5xx, with backoff
    "AKISMET_BACKOFF": 0.5,  # seconds before the first retry; doubles each time
    "AKISMET_TIMEOUT": 5.0,  # seconds; PYTHON_AKISMET_TIMEOUT overrides
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
