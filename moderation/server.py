"""Serve the intake with uvicorn: alone (production), or with the built site on one port.

`invoke serve` and `invoke intake` call `serve()`. The same is reachable without invoke,
which is how tests point a server at another project folder:

    python -m moderation.server --settings /some/copy/pelicanconf.py --port 8123 [--intake-only]

The inbox is COMMENT_INTAKE["INBOX_PATH"] relative to that settings file's folder, unless
the environment variable COMMENT_INTAKE_INBOX names another file.
"""

from __future__ import annotations

import argparse
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from html import escape
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope
from threaded_comments.markup import likes_text

from moderation.intake import Intake, create_app
from moderation.intake_settings import IntakeSettings, intake_settings, output_dir
from moderation.targets import TargetsUnavailableError

log = logging.getLogger(__name__)

# The like count element as the comments partial writes it (DESIGN: the form contract).
LIKES_ELEMENT = re.compile(
    r'(<p class="comment-likes" data-comment-id="(?P<id>[^"]+)"[^>]*>)(?P<text>.*?)(</p>)',
    re.DOTALL,
)


class SiteFiles(StaticFiles):
    """The built site, with each post page's like counts brought up to the inbox's.

    A static page only knows the likes of its last build; this lets a reader without
    JavaScript see her like counted at once when the site is served by `invoke serve`.
    """

    def __init__(self, intake: Intake, directory: Path) -> None:
        super().__init__(directory=directory, html=True)
        self.intake = intake

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if not isinstance(response, FileResponse) or response.status_code != 200:
            return response
        try:
            post = self.intake.targets.post_at(scope["path"])
        except TargetsUnavailableError:
            return response
        if post is None or not post.comments:
            return response
        counts = await self.intake.like_counts(post)
        html = Path(response.path).read_text(encoding="utf-8")

        def live(match: re.Match[str]) -> str:
            count = counts.get(match["id"])
            if count is None:
                return match[0]
            return f"{match[1]}{escape(likes_text(count))}{match[4]}"

        return HTMLResponse(LIKES_ELEMENT.sub(live, html), headers={"Cache-Control": "no-cache"})


def site_app(settings: IntakeSettings, site_dir: Path) -> Starlette:
    """The built site and the intake on one app: what `invoke serve` runs."""
    intake = Intake(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        intake.close()

    app = Starlette(
        routes=[*intake.routes(), Mount("/", app=SiteFiles(intake, site_dir))], lifespan=lifespan
    )
    app.state.intake = intake
    return app


def serve(settings_file: Path, port: int = 8000, intake_only: bool = False) -> None:
    """Run uvicorn on 127.0.0.1:`port` until interrupted."""
    settings = intake_settings(settings_file)
    app = create_app(settings) if intake_only else site_app(settings, output_dir(settings_file))
    log.info("intake: inbox at %s", settings.inbox_path)
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        # Behind a reverse proxy the reader's address arrives in X-Forwarded-For.
        proxy_headers=intake_only,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        # No access log: it would keep every reader's address, which the inbox avoids.
        access_log=False,
        log_level="info",
    )


def main(argv: list[str] | None = None) -> None:
    """Command line: see the module's docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--settings", type=Path, default=Path("pelicanconf.py"))
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--intake-only", action="store_true")
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    serve(arguments.settings.resolve(), arguments.port, arguments.intake_only)


if __name__ == "__main__":
    main()
