"""WordPress images as files: with --download-media the export's attachments are copied
into content/images/ and the post shows the copy; without it, or when the old host does
not answer, the image stays linked where it was and the summary lists it."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from moderation.importers.wordpress import import_wordpress
from tests.support.intake import free_port
from tests.support.moderation import make_project
from tests.support.site import PROJECT_ROOT, read_html, run_pelican

EXPORT = PROJECT_ROOT / "tests" / "fixtures" / "wordpress" / "export.xml"
OLD_HOST = "https://betweensessions.files.wordpress.com"
IMAGE_PATH = "/2016/03/bench.jpg"
# A tiny JPEG-typed body is enough: the importer copies bytes, it does not decode them.
IMAGE_BYTES = b"\xff\xd8\xff\xe0" + b"bench" * 100 + b"\xff\xd9"


class OldBlog(BaseHTTPRequestHandler):
    """The old blog's uploads folder, on loopback."""

    def do_GET(self) -> None:
        if self.path == IMAGE_PATH:
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(IMAGE_BYTES)))
            self.end_headers()
            self.wfile.write(IMAGE_BYTES)
        else:
            self.send_error(404)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def old_blog() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), OldBlog)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def export_served_from(tmp_path: Path, host: str) -> Path:
    """The fixture export with its uploads on `host` instead of WordPress.com."""
    export = tmp_path / "export.xml"
    export.write_text(EXPORT.read_text(encoding="utf-8").replace(OLD_HOST, host))
    return export


def test_download_media_copies_the_image_and_the_post_shows_the_copy(
    tmp_path: Path, old_blog: str
) -> None:
    project = make_project(tmp_path / "project")
    content = tmp_path / "content"
    summary = import_wordpress(
        export_served_from(tmp_path, old_blog), project, content_dir=content, download_media=True
    )
    copy = content / "images" / "2016" / "03" / "bench.jpg"
    assert copy.read_bytes() == IMAGE_BYTES
    assert "  images: 1 copied into content/images/" in summary.lines()
    post = next(
        p for p in content.glob("*.md") if "{static}/images/2016/03/bench.jpg" in p.read_text()
    )

    output = tmp_path / "output"
    built = run_pelican(content, output)
    assert built.returncode == 0, built.stdout + built.stderr
    assert (output / "images" / "2016" / "03" / "bench.jpg").read_bytes() == IMAGE_BYTES
    slug = post.stem
    page = read_html(next(output.glob(f"*/*/{slug}/index.html")))
    image = page.select_one(".post-content img")
    assert image["src"] == "/images/2016/03/bench.jpg"
    assert image["alt"] == "The bench outside the clinic"
    assert old_blog not in str(page)


def test_without_the_option_images_stay_linked_and_are_listed(
    tmp_path: Path, old_blog: str
) -> None:
    project = make_project(tmp_path / "project")
    content = tmp_path / "content"
    summary = import_wordpress(export_served_from(tmp_path, old_blog), project, content_dir=content)
    lines = summary.lines()
    assert not (content / "images").exists()
    assert "Images still linked where they were on WordPress:" in lines
    assert f"  {old_blog}{IMAGE_PATH}" in lines
    assert "  (run the import again with --download-media to copy them)" in lines
    assert any(f"({old_blog}{IMAGE_PATH})" in p.read_text() for p in content.glob("*.md"))


def test_an_unreachable_host_keeps_the_link_and_says_why(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project")
    content = tmp_path / "content"
    gone = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    summary = import_wordpress(
        export_served_from(tmp_path, gone), project, content_dir=content, download_media=True
    )
    (line,) = [line for line in summary.lines() if IMAGE_PATH in line]
    assert line.startswith(f"  {gone}{IMAGE_PATH} (not copied: ")
    assert not (content / "images").exists()
    assert any(f"({gone}{IMAGE_PATH})" in p.read_text() for p in content.glob("*.md"))


def test_the_invoke_task_takes_the_option(tmp_path: Path, old_blog: str) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "invoke",
            "import-wordpress",
            str(export_served_from(tmp_path, old_blog)),
            "--content",
            str(tmp_path / "content"),
            "--download-media",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "images: 1 copied into content/images/" in result.stdout
    assert (tmp_path / "content" / "images" / "2016" / "03" / "bench.jpg").exists()
