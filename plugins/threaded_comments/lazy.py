"""What templates get of a post's comments before the comments are ready.

The build attaches these when Pelican has read the posts; the comments themselves may
still be on their way from the reading process (a first build) or sit in the cache as one
blob (a rebuild). A template that prints or walks them gets them then, and a build whose
templates never look never pays for them.
"""

from __future__ import annotations

from collections import UserString
from collections.abc import Callable, Iterator, Sequence

from .reader import Comment


class LazyThread(Sequence[Comment]):
    """`article.comments`: the top-level comments, threaded on first use.

    This project's templates place the pre-built HTML instead, so on most builds nothing
    looks, and the comments stay in the cache's blob instead of becoming objects.
    """

    def __init__(self, load: Callable[[], list[Comment]]) -> None:
        self._load: Callable[[], list[Comment]] | None = load
        self._top_level: list[Comment] = []

    def _comments(self) -> list[Comment]:
        if self._load is not None:
            self._top_level, self._load = self._load(), None
        return self._top_level

    def __getitem__(self, index):  # type: ignore[override]  # int or slice, as list's
        return self._comments()[index]

    def __len__(self) -> int:
        return len(self._comments())

    def __iter__(self) -> Iterator[Comment]:
        return iter(self._comments())

    def __repr__(self) -> str:
        return f"LazyThread({self._comments()!r})"


class LazyHTML(UserString):
    """`article.comments_html`: the thread's HTML, fetched when a template prints it.

    A string in every way a template can use one (printed, tested, measured, joined);
    `__html__` tells an autoescaping template that it is markup already.
    """

    def __init__(self, load: Callable[[], str]) -> None:  # no super(): `data` is lazy
        self._load: Callable[[], str] | None = load
        self._html = ""

    @property  # type: ignore[override]  # UserString's methods all read self.data
    def data(self) -> str:
        if self._load is not None:
            self._html, self._load = self._load(), None
        return self._html

    def __html__(self) -> str:
        return self.data
