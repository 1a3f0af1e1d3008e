"""Site search built at build time: a small JSON index the theme's search.js reads.

See site_search.py. Settings: SEARCH_INDEX_SAVE_AS (default "search.json").
"""

from .site_search import register

__all__ = ["register"]
