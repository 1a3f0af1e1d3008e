"""Serve the intake with uvicorn: alone (production), or with the built site on one port.

`invoke serve` and `invoke intake` call `serve()`. The same is reachable without invoke,
which is how tests point a server at another project folder:

    python -m moderation.intake.server --settings COPY/pelicanconf.py --port 8123 [--intake-only]

The inbox is COMMENT_INTAKE["INBOX_PATH"] relative to that settings file's folder, unless
the environment variable COMMENT_INTAKE_INBOX names another file (moderation.settings).
"""

from __future__ import annotations

import argparse
import logging
import re
from html import escape
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope
from threaded_comments import likes_text

from moderation.intake.app import Intake, app_around, create_app
from moderation.intake.slow_clients import with_header_timeout
from moderation.intake.targets import TargetsUnavailableError
from moderation.settings import ProjectSettings, load_settings

log = logging.getLogger(__name__)

# The opening tag of a comment's like count, found by what the page's script finds it by
# (class comment-likes and the comment's data-comment-id), whatever the attributes' order.
LIKES_OPENING = re.compile(
    r'<(?P<tag>[a-z][a-z0-9]*)(?=[^>]*\bclass="(?:[^"]*\s)?comment-likes[\s"])[^>]*'
    r'\bdata-comment-id="(?P<id>[^"]+)"[^>]*>'
)


def with_live_likes(html: str, counts: dict[str, int]) -> str:
    """The page with each like count element's text made `likes_text` of its live count."""
    pieces, position = [], 0
    for opening in LIKES_OPENING.finditer(html):
        count = counts.get(opening["id"])
        if count is None or opening.start() < position:
            continue
        closing = html.find(f"</{opening['tag']}>", opening.end())
        if closing < 0:
            break
        pieces += [html[position : opening.end()], escape(likes_text(count))]
        position = closing
    return "".join(pieces) + html[position:]


def livereload_script(port: int) -> str:
    """The tag that connects a page to the livereload server on `port` (`invoke livereload`)."""
    return f'<script src="http://127.0.0.1:{port}/livereload.js?port={port}"></script>'


class SiteFiles(StaticFiles):
    """The built site, with each post page's like counts brought up to the inbox's.

    A static page only knows the likes of its last build; this lets a reader without
    JavaScript see her like counted at once when the site is served by `invoke serve`.
    Under `invoke livereload` every page also gets the livereload script.
    """

    def __init__(self, intake: Intake, directory: Path, livereload_port: int | None) -> None:
        super().__init__(directory=directory, html=True)
        self.intake = intake
        self.livereload_port = livereload_port

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if not isinstance(response, FileResponse) or response.status_code != 200:
            return response
        try:
            post = self.intake.targets.post_at(scope["path"])
        except TargetsUnavailableError:
            post = None
        live_likes = post is not None and bool(post.comments)
        reloading = bool(self.livereload_port) and response.media_type == "text/html"
        if not (live_likes or reloading):
            return response
        html = Path(response.path).read_text(encoding="utf-8")
        if post is not None and live_likes:
            html = with_live_likes(html, await self.intake.like_counts(post))
        if self.livereload_port and reloading:
            html = html.replace("</body>", livereload_script(self.livereload_port) + "</body>", 1)
        return HTMLResponse(html, headers={"Cache-Control": "no-cache"})


def site_app(
    settings: ProjectSettings, port: int | None = None, livereload_port: int | None = None
) -> Starlette:
    """The built site and the intake on one app: what `invoke serve` runs on `port` (and,
    with the livereload script in every page, `invoke livereload`)."""
    intake = Intake(settings, port)
    site = Mount("/", app=SiteFiles(intake, settings.output_dir, livereload_port))
    return app_around(intake, [*intake.routes(), site], [])


def server_config(
    app: Starlette, settings: ProjectSettings, port: int, intake_only: bool
) -> uvicorn.Config:
    """uvicorn's settings for the intake on 127.0.0.1:`port`."""
    options = settings.intake
    return uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        # Behind a reverse proxy the reader's address arrives in X-Forwarded-For; the
        # proxy must overwrite that header, never pass on a client's own (README).
        proxy_headers=intake_only,
        forwarded_allow_ips=options.forwarded_allow_ips,
        # Slow or too many clients must not hold the intake (COMMENT_INTAKE, README).
        http=with_header_timeout(options.header_timeout),
        timeout_keep_alive=options.keep_alive_timeout,
        h11_max_incomplete_event_size=options.max_header_bytes,
        limit_concurrency=options.max_connections,
        # No access log: it would keep every reader's address, which the inbox avoids.
        access_log=False,
        log_level="info",
    )


def serve(settings: ProjectSettings, port: int = 8000, intake_only: bool = False) -> None:
    """Run uvicorn on 127.0.0.1:`port` until interrupted."""
    app = create_app(settings, port) if intake_only else site_app(settings, port)
    log.info("intake: inbox at %s", settings.inbox)
    uvicorn.Server(server_config(app, settings, port, intake_only)).run()


def livereload_server(settings: ProjectSettings, port: int, livereload_port: int) -> uvicorn.Server:
    """The site and the intake on `port`, each page reloading through `livereload_port`;
    not started (`invoke livereload` runs it beside the livereload watcher)."""
    log.info("intake: inbox at %s", settings.inbox)
    return uvicorn.Server(
        server_config(site_app(settings, port, livereload_port), settings, port, intake_only=False)
    )


def main(argv: list[str] | None = None) -> None:
    """Command line: see the module's docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--settings", type=Path, default=Path("pelicanconf.py"))
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--intake-only", action="store_true")
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    serve(load_settings(arguments.settings), arguments.port, arguments.intake_only)


if __name__ == "__main__":
    main()
