"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives, over real TLS.

`with SmtpServer(tmp_path) as smtp:` starts it with STARTTLS (or `implicit_tls=True` for
SMTPS) and a login, under a self-signed certificate made for 127.0.0.1 by openssl.
`smtp.environment()` is what the blog's sender needs: the SMTP URL, and SSL_CERT_FILE
naming that certificate as the one to trust. `smtp.messages` holds every message received,
parsed; `wait_for(n)` waits until n have arrived. `stop()` and `start()` take it down and
up again on the same port, as a mail server that is down for a while.
"""

from __future__ import annotations

import email
import email.policy
import subprocess
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support.intake import free_port

USER = "blog"
PASSWORD = "letter-box-7"


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1, valid for a day; returns (certificate, key)."""
    certificate, key = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes"),
            *("-keyout", str(key), "-out", str(certificate), "-days", "1"),
            *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    return certificate, key


@dataclass(frozen=True)
class Received:
    """One message as the server took it: the envelope and the parsed message."""

    mail_from: str
    recipients: list[str]
    message: EmailMessage

    @property
    def text(self) -> str:
        body = self.message.get_body(preferencelist=("plain",)).get_content()
        return body.replace("\r\n", "\n")


class _Keeper:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
        if address in self.server.refuse:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.server.lock:
            self.server.messages.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), message)
            )
            hang_up = self.server.hang_ups > 0
            self.server.hang_ups -= hang_up
        if hang_up:
            # Taken, but the sender never hears so: the connection drops before the 250.
            server.transport.close()
        return "250 OK"


class SmtpServer:
    def __init__(self, folder: Path, implicit_tls: bool = False) -> None:
        import ssl

        self.implicit_tls = implicit_tls
        self.certificate, key = self_signed_certificate(folder)
        self.tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.tls.load_cert_chain(self.certificate, key)
        self.port = free_port()
        self.messages: list[Received] = []
        self.logins: list[str] = []
        self.refuse: set[str] = set()
        # How many of the next messages are kept with no "250" sent back (the line drops).
        self.hang_ups = 0
        self.lock = threading.Lock()
        self._controller: Controller | None = None

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode(),
            auth_data.password.decode(),
        ) == (USER, PASSWORD)
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok)

    def start(self) -> None:
        options: dict = {"authenticator": self._authenticate}
        if self.implicit_tls:
            # aiosmtpd only counts STARTTLS as TLS for AUTH; this connection is TLS throughout.
            options.update(ssl_context=self.tls, auth_require_tls=False)
        else:
            options.update(tls_context=self.tls, require_starttls=True, auth_require_tls=True)
        self._controller = Controller(
            _Keeper(self), hostname="127.0.0.1", port=self.port, **options
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        scheme = "smtps" if self.implicit_tls else "smtp"
        return f"{scheme}://{USER}@127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        """The blog's mail settings for this server (the password apart, as it may be)."""
        return {
            "BETWEEN_SESSIONS_SMTP_URL": self.url,
            "BETWEEN_SESSIONS_SMTP_PASSWORD": PASSWORD,
            "SSL_CERT_FILE": str(self.certificate),
        }

    def wait_for(self, count: int, timeout: float = 30) -> list[Received]:
        """Wait until at least `count` messages have arrived; returns them all."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.05)
        raise AssertionError(f"{count} mail(s) expected, {len(self.messages)} arrived")
