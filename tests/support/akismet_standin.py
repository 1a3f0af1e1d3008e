"""A stand-in for Akismet: a real HTTP server on 127.0.0.1 speaking REST API 1.1.

It answers as the documentation says Akismet does, including its test values:
- POST /1.1/verify-key: "valid" for a key in `keys`, else "invalid";
- POST /1.1/comment-check: "invalid" (with X-akismet-debug-help) for a bad key;
  comment_author `akismet-guaranteed-spam` -> "true" (plus `X-akismet-pro-tip: discard`
  when the content contains `discard_marker`); user_role `administrator` -> "false";
  anything else "false";
- POST /1.1/submit-spam and /1.1/submit-ham: "Thanks for making the web a better place."
It can answer 503 to the next `fail_next` requests (or all, with `fail_always`), and wait
`delay` seconds before each answer. Every request is recorded in `requests`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

VALID_KEY = "standin-key"
BLOG_URL = "http://127.0.0.1:8000/"
THANKS = "Thanks for making the web a better place."


@dataclass(frozen=True)
class Recorded:
    """One request as the stand-in received it."""

    endpoint: str
    form: dict[str, str]
    headers: dict[str, str]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Many concurrent clients connect at once; the default backlog of 5 drops SYNs.
    request_queue_size = 256


class AkismetStandIn:
    """Start with `with AkismetStandIn() as akismet:`; `akismet.url` is the API base URL."""

    def __init__(self, keys: tuple[str, ...] = (VALID_KEY,), delay: float = 0.0) -> None:
        self.keys = keys
        self.delay = delay
        self.fail_next = 0
        self.fail_always = False
        self.discard_marker = "[blatant]"
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def environment(self, key: str = VALID_KEY) -> dict[str, str]:
        """The variables that point `invoke moderate` at this stand-in."""
        return {
            "PYTHON_AKISMET_API_KEY": key,
            "PYTHON_AKISMET_BLOG_URL": BLOG_URL,
            "AKISMET_API_URL": self.url,
            "AKISMET_IS_TEST": "1",
        }

    def calls(self, endpoint: str) -> list[Recorded]:
        """The recorded requests to one endpoint, e.g. "comment-check"."""
        with self._lock:
            return [request for request in self.requests if request.endpoint == endpoint]

    def __enter__(self) -> AkismetStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, endpoint: str, form: dict[str, str]) -> tuple[int, str, dict[str, str]]:
        with self._lock:
            if self.fail_always or self.fail_next > 0:
                self.fail_next = max(self.fail_next - 1, 0)
                return 503, "Service Unavailable", {}
        if endpoint == "verify-key":
            return 200, "valid" if form.get("key") in self.keys else "invalid", {}
        if form.get("api_key") not in self.keys:
            return 200, "invalid", {"X-akismet-debug-help": "We were unable to parse your key."}
        if endpoint == "comment-check":
            if form.get("user_role") == "administrator":
                return 200, "false", {}
            if form.get("comment_author") == "akismet-guaranteed-spam":
                if self.discard_marker in form.get("comment_content", ""):
                    return 200, "true", {"X-akismet-pro-tip": "discard"}
                return 200, "true", {}
            return 200, "false", {}
        if endpoint in ("submit-spam", "submit-ham"):
            return 200, THANKS, {}
        return 404, "unknown endpoint", {}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out at once

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = dict(parse_qsl(self.rfile.read(length).decode("utf-8")))
                endpoint = self.path.rstrip("/").rsplit("/", 1)[-1]
                with standin._lock:
                    standin.requests.append(Recorded(endpoint, form, dict(self.headers)))
                if standin.delay:
                    time.sleep(standin.delay)
                status, text, headers = standin._answer(endpoint, form)
                payload = text.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                pass  # tests read `requests`, not stderr

        return Handler


def main() -> None:
    """Serve the stand-in in its own process (the benchmark does, so that the stand-in's
    work does not share a GIL with the client it measures); prints its URL."""
    import argparse

    parser = argparse.ArgumentParser(description="Akismet stand-in on 127.0.0.1")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    arguments = parser.parse_args()
    with AkismetStandIn(delay=arguments.delay) as standin:
        print(standin.url, flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
