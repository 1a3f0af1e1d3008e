"""A program on a pseudo-terminal, driven as a person would: read the screen, type keys."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
from pathlib import Path

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
SHOWN = re.compile(r"Comment (\S+) \((\d+) of (\d+)\)")
PROMPT = "q quit >"


def _signals_as_from_a_shell() -> None:
    # A program a person starts in a terminal has Ctrl-C and hang-up at their defaults,
    # even when the tests run where they are ignored (a background job, nohup): Python
    # raises no KeyboardInterrupt for a SIGINT ignored when it started.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


class Terminal:
    """A child process on a pseudo-terminal: read what it shows, type answers."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path | None = None) -> None:
        self.master, slave = os.openpty()
        self.process = subprocess.Popen(
            argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=cwd,
            preexec_fn=_signals_as_from_a_shell,
        )
        os.close(slave)
        self.screen = ""
        self.seen = 0

    def expect(self, pattern: str | re.Pattern, timeout: float = 30) -> re.Match:
        """Wait for `pattern` in what is shown after the last match."""
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        while True:
            found = regex.search(self.screen, self.seen)
            if found:
                self.seen = found.end()
                return found
            ready, _, _ = select.select([self.master], [], [], timeout)
            chunk = b""
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # the child has gone: the terminal closes
                    chunk = b""
            if not chunk:
                raise AssertionError(f"never saw {regex.pattern!r} in:\n{self.screen}")
            self.screen += ANSI.sub("", chunk.decode("utf-8", "replace")).replace("\r", "")

    def type(self, text: str) -> None:
        os.write(self.master, f"{text}\n".encode())

    def close(self) -> int:
        code = self.process.wait(timeout=60)
        os.close(self.master)
        return code

    def interrupt(self) -> None:
        """Ctrl-C, as the terminal sends it: SIGINT to the program."""
        self.process.send_signal(signal.SIGINT)
