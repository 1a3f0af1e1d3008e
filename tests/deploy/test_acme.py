"""deploy/Caddyfile gets its certificate the way a live blog does: by ACME, for the domain in
SITE_ADDRESS, with no step of the author's.

Let's Encrypt cannot reach a loopback address, so Pebble (Debian's `pebble`, Let's
Encrypt's own test server for the same protocol) stands in for it, told to take every
domain as proven (PEBBLE_VA_ALWAYS_VALID: no DNS points blog.example.org here). The test
adds only what points Caddy at Pebble and off ports 80 and 443; the site block is the
shipped one. A reader then reaches https://blog.example.org (resolved to loopback) with a
certificate Pebble's root vouches for, and http:// is sent to https://.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.deploy import DEPLOY, listening, require_tool
from tests.support.intake import free_port

DOMAIN = "blog.example.org"


@contextmanager
def pebble(work: Path) -> Iterator[tuple[str, Path, str]]:
    """Pebble on loopback; yields its directory URL, the certificate of its own HTTPS (which
    Caddy must trust to talk to it) and its management URL."""
    binary = require_tool("/usr/bin/pebble", "pebble")
    require_tool("/usr/bin/openssl", "openssl")
    certificate, key = work / "pebble-cert.pem", work / "pebble-key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(certificate), "-days", "2",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True,
    )  # fmt: skip
    port, management = free_port(), free_port()
    config = work / "pebble.json"
    config.write_text(
        json.dumps(
            {
                "pebble": {
                    "listenAddress": f"127.0.0.1:{port}",
                    "managementListenAddress": f"127.0.0.1:{management}",
                    "certificate": str(certificate),
                    "privateKey": str(key),
                    # Unused: every domain counts as proven. Free ports all the same.
                    "httpPort": free_port(),
                    "tlsPort": free_port(),
                    "ocspResponderURL": "",
                    "externalAccountBindingRequired": False,
                }
            }
        )
    )
    env = {**os.environ, "PEBBLE_VA_ALWAYS_VALID": "1", "PEBBLE_VA_NOSLEEP": "1"}
    log = work / "pebble.log"
    with log.open("w", encoding="utf-8") as output:
        process = subprocess.Popen(
            [binary, "-config", str(config)], env=env, stdout=output, stderr=subprocess.STDOUT
        )
    with listening(process, port, lambda: log.read_text(encoding="utf-8")):
        yield f"https://127.0.0.1:{port}/dir", certificate, f"https://127.0.0.1:{management}"


def caddyfile_for(
    work: Path, directory: str, pebble_certificate: Path, ports: dict[str, int]
) -> Path:
    """The shipped Caddyfile, its global options pointing ACME at Pebble instead of Let's
    Encrypt and moving ports 80 and 443 to free ones."""
    shipped = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    admin_line = "\tadmin {$CADDY_ADMIN:localhost:2019}\n"
    assert admin_line in shipped, "the Caddyfile's global options moved"
    added = (
        f"\tacme_ca {directory}\n\tacme_ca_root {pebble_certificate}\n"
        f"\thttp_port {ports['http']}\n\thttps_port {ports['https']}\n\tskip_install_trust\n"
    )
    path = work / "Caddyfile"
    path.write_text(shipped.replace(admin_line, admin_line + added), encoding="utf-8")
    return path


def test_caddy_gets_its_certificate_by_acme_and_sends_http_to_https(tmp_path: Path) -> None:
    caddy = require_tool("/usr/bin/caddy")
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<h1>Between Sessions</h1>\n", encoding="utf-8")
    ports = {"http": free_port(), "https": free_port()}
    with pebble(tmp_path) as (directory, pebble_certificate, management):
        env = {
            **os.environ,
            "SITE_ADDRESS": DOMAIN,
            "SITE_ROOT": str(site),
            "INTAKE_PORT": str(free_port()),
            "CADDY_ADMIN": f"127.0.0.1:{free_port()}",
            "HOME": str(tmp_path),
            "XDG_DATA_HOME": str(tmp_path / "data"),
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
        }
        config = caddyfile_for(tmp_path, directory, pebble_certificate, ports)
        log = tmp_path / "caddy.log"
        with log.open("w", encoding="utf-8") as output:
            process = subprocess.Popen(
                [caddy, "run", "--config", str(config), "--adapter", "caddyfile"],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        with listening(process, ports["https"], lambda: log.read_text(encoding="utf-8")):
            # The root Pebble made at its start: what a browser trusts in Let's Encrypt's.
            root = tmp_path / "pebble-root.pem"
            pebble_trusted = ssl.create_default_context(cafile=str(pebble_certificate))
            root.write_text(httpx.get(f"{management}/roots/0", verify=pebble_trusted).text)
            trusted = ssl.create_default_context(cafile=str(root))
            page = _fetch_when_issued(f"https://127.0.0.1:{ports['https']}/", trusted)
            assert "Between Sessions" in page.text
            assert "certificate obtained successfully" in log.read_text(encoding="utf-8")

            plain = httpx.get(
                f"http://127.0.0.1:{ports['http']}/",
                headers={"Host": DOMAIN},
                follow_redirects=False,
            )
            assert plain.status_code == 308
            assert plain.headers["location"].startswith(f"https://{DOMAIN}")


def _fetch_when_issued(url: str, trusted: ssl.SSLContext) -> httpx.Response:
    """GET `url` as https://blog.example.org (its name in the TLS handshake and the Host
    header), trusting only `trusted`; Caddy listens before its certificate is issued, so
    until then the handshake fails."""
    deadline = time.monotonic() + 60
    while True:
        try:
            with httpx.Client(verify=trusted) as client:
                answer = client.get(
                    url, headers={"Host": DOMAIN}, extensions={"sni_hostname": DOMAIN}
                )
            answer.raise_for_status()
            return answer
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
