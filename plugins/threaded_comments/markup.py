"""The HTML of a thread and of the comment form, built once per post as one string.

A thread of twenty comments through a Jinja macro costs more than the rest of a post's
page; plain string building keeps a thousand-post site's build close to its cost without
comments (see benchmarks/comments_build.py). The partial templates place these strings.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from html import escape
from typing import Any

from .reader import Comment

AKISMET_PRIVACY_URL = "https://akismet.com/privacy/"


def likes_text(likes: int) -> str:
    """WordPress's wording: nothing at 0, "Liked by 1 person", "Liked by N people"."""
    if likes <= 0:
        return ""
    return "Liked by 1 person" if likes == 1 else f"Liked by {likes} people"


# Stand-ins for a comment's id and author in the per-post reply form, cut out per post.
_ID = "\x00id\x00"
_AUTHOR = "\x00author\x00"


def comment_form(post: str, action: str) -> str:
    """The "Leave a Reply" form (the contract H4's intake and comment-intake.js rely on)."""
    return (
        f'<form id="commentform" class="comment-form" method="post" action="{escape(action)}">'
        '<p class="comment-notes">Comments are moderated: yours appears here once the author'
        " has read it. Your email address is never published. Fields marked (required) must"
        " be filled in.</p>"
        '<p class="comment-form-author"><label for="author">Name (required)</label> '
        '<input id="author" name="author" type="text" required autocomplete="name"></p>'
        '<p class="comment-form-email"><label for="email">Email (required, never published)'
        '</label> <input id="email" name="email" type="email" required autocomplete="email"></p>'
        '<p class="comment-form-url"><label for="website">Website</label> '
        '<input id="website" name="website" type="url" autocomplete="url"></p>'
        '<p class="comment-form-comment"><label for="comment">Comment (required)</label> '
        '<textarea id="comment" name="comment" rows="6" required></textarea></p>'
        # A trap for robots: people never see or reach it, so anything in it marks spam.
        '<p class="comment-form-subject" aria-hidden="true"><label for="subject">Leave this'
        ' field empty</label> <input id="subject" name="subject" type="text" tabindex="-1"'
        ' autocomplete="off"></p>'
        '<p class="comment-privacy">Comments are checked for spam by Akismet; see '
        f'<a href="{AKISMET_PRIVACY_URL}">Akismet privacy notice</a>.</p>'
        f'<input type="hidden" name="post" value="{escape(post)}">'
        '<input type="hidden" name="replyto" value="">'
        '<p class="form-submit"><button type="submit">Post Comment</button></p>'
        "</form>"
    )


def reply_form(post: str, action: str, parent_id: str, parent_author: str) -> str:
    """The small no-JavaScript form for replying to one comment.

    Many share a page, so fields sit inside their labels instead of needing ids.
    """
    parent = escape(parent_id)
    return (
        f'<form class="comment-form reply-form" method="post" action="{escape(action)}">'
        f'<p class="comment-replying-to">Replying to {escape(parent_author)} (<a href="#comment-'
        f'{parent}">their comment</a>). Replies are moderated; your email is never published.'
        "</p>"
        '<label>Name (required) <input name="author" required autocomplete="name"></label>'
        '<label>Email (required, never published) <input name="email" type="email" required'
        ' autocomplete="email"></label>'
        '<label>Website <input name="website" type="url" autocomplete="url"></label>'
        '<label>Comment (required) <textarea name="comment" rows="5" required></textarea></label>'
        '<label class="comment-form-subject" aria-hidden="true">Leave this field empty'
        ' <input name="subject" tabindex="-1" autocomplete="off"></label>'
        '<p class="comment-privacy">Checked for spam by Akismet; see '
        f'<a href="{AKISMET_PRIVACY_URL}">Akismet privacy notice</a>.</p>'
        f'<input type="hidden" name="post" value="{escape(post)}">'
        f'<input type="hidden" name="replyto" value="{parent}">'
        '<button type="submit">Post Comment</button></form>'
    )


def _reply_form_pieces(post: str, action: str) -> tuple[str, str, str, str]:
    """The post's reply form, made once and cut where each comment's own parts go: its
    author, then its id twice. Joining pieces costs a tenth of replacing stand-ins."""
    form = reply_form(post, action, _ID, _AUTHOR)
    start, after_author = form.split(_AUTHOR)
    middle, following, end = after_author.split(_ID)
    return start, middle, following, end


def _comment_html(
    comment: Comment, out: list[str], post: str, options: dict[str, Any], timezone: tzinfo
) -> None:
    """Append one comment and its replies to `out`.

    `options` holds the settings, "open", "reply_form" (the post's reply form in four
    pieces, around the parent's author and twice its id) and "like_form" (the start of
    the post's like form, escaped once per post rather than once per comment).
    """
    cid = escape(comment.id)
    author = escape(comment.author)
    reply_start, reply_middle, reply_next, reply_end = options["reply_form"]
    if comment.website:
        name = (
            f'<a class="comment-author-name url" href="{escape(comment.website)}"'
            f' rel="nofollow ugc noopener">{author}</a>'
        )
    else:
        name = f'<span class="comment-author-name">{author}</span>'
    badge = ' <span class="comment-author-badge">Author</span>' if comment.is_author else ""
    when = comment.date.astimezone(timezone)
    classes = "comment by-author" if comment.is_author else "comment"
    out.append(
        f'<li class="comment-thread depth-{comment.depth}">'
        f'<article class="{classes}" id="comment-{cid}" data-comment-id="{cid}">'
        f'<footer class="comment-meta"><p class="comment-author">{name}{badge}</p>'
        f'<p class="comment-date"><a class="comment-permalink" href="#comment-{cid}">'
        f'<time datetime="{when.isoformat()}">{when.strftime(options["DATE_FORMAT"])}</time>'
        "</a></p>"
    )
    if comment.in_reply_to is not None:
        out.append(
            f'<p class="comment-in-reply-to">in reply to <a href="#comment-'
            f'{escape(comment.replyto or "")}">{escape(comment.in_reply_to)}</a></p>'
        )
    out.append(
        f'</footer><div class="comment-content">{comment.content}</div>'
        f'<p class="comment-likes" data-comment-id="{cid}">{likes_text(comment.likes)}</p>'
    )
    if options["open"]:
        out.append(
            f'{options["like_form"]}<input type="hidden" name="comment" value="{cid}">'
            '<button type="submit">Like</button></form> '
            f'<a class="comment-reply-link" href="?replyto={cid}#reply-{cid}"'
            f' data-replyto="{cid}" aria-label="Reply to {author}">Reply</a></div>'
            # Without JavaScript the Reply link lands here; CSS shows it as the :target.
            f'<div class="comment-reply-form" id="reply-{cid}">'
            f'<h3 class="comment-reply-title">Reply to {author}</h3>'
            f"{reply_start}{author}{reply_middle}{cid}{reply_next}{cid}{reply_end}</div>"
        )
    out.append("</article>")
    if comment.replies:
        out.append('<ol class="children">')
        for reply in comment.replies:
            _comment_html(reply, out, post, options, timezone)
        out.append("</ol>")
    out.append("</li>")


def thread_html(
    top_level: Sequence[Comment], post: str, options: dict[str, Any], timezone: tzinfo
) -> str:
    """The whole discussion of a post as an <ol class="comment-list">, or "" if none.

    `options` holds the plugin settings plus "open" (whether the post takes comments).
    """
    if not top_level:
        return ""
    out = ['<ol class="comment-list">']
    options = {
        **options,
        "reply_form": _reply_form_pieces(post, options["FORM_ACTION"]),
        "like_form": (
            f'<div class="comment-actions"><form class="like-form" method="post"'
            f' action="{escape(options["LIKES_ACTION"])}">'
            f'<input type="hidden" name="post" value="{escape(post)}">'
        ),
    }
    for comment in top_level:
        _comment_html(comment, out, post, options, timezone)
    out.append("</ol>")
    return "".join(out)
