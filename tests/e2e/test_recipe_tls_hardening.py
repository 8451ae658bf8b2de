"""``pfedit apply tls-hardening`` proven on a running Postfix: a client limited to TLS 1.0 is
refused where TLS is mandatory (submission, port 587) and still served where it is
opportunistic (port 25).

The starting point is Debian's default configuration (tests/harness/recipes.py) with the
submission service of the stock master.cf's example enabled, its TLS settings only
(``smtpd_tls_security_level=encrypt``; no SASL, which this test does not need).  Postfix
3.7's defaults let TLS 1.0 in everywhere (smtpd_tls_protocols and
smtpd_tls_mandatory_protocols are both ">=TLSv1", postconf -d), and its server runs at
OpenSSL security level 0 ("backwards compatible security as a base for opportunistic TLS",
tls_server.c, tls_server_init()), so a TLS 1.0 handshake can succeed; the client here lowers
its own security level to 0 to offer it.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest
from conftest import invoke
from harness.fixtures import MailFactory
from harness.recipes import DEBIAN, FOREIGN, HELO, Mail, make_config, relay
from harness.tls import Certificates

from pfconf.cli.pfedit import cli as pfedit

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    # the point of the test is a client that only speaks TLS 1.0
    pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1 is deprecated:DeprecationWarning"),
]


def tls10(certificates: Certificates) -> ssl.SSLContext:
    """A client that speaks TLS 1.0 and nothing else, still checking the certificate."""
    context = certificates.client_context(ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1)
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    return context


def starttls_with(running: Mail, client: Any, context: ssl.SSLContext) -> str | None:
    """STARTTLS with ``context``: the TLS version agreed, or None when the handshake failed
    (the server accepted STARTTLS, then refused what the client offered)."""
    try:
        code, _ = client.starttls(context=context)
    except ssl.SSLError as exc:
        client.transcript.note(f"TLS handshake failed: {exc.reason}")
        client.close()
        return None
    assert code == 220
    client.ehlo(HELO)
    return str(client.sock.version())


def test_a_tls_10_client_is_refused_only_where_tls_is_mandatory(
    tmp_path: Path, certificates: Certificates, mail_server: MailFactory
) -> None:
    config = make_config(DEBIAN, tmp_path / "config", certificates)
    invoke(pfedit, ["-c", config, "service", "add", "submission inet n - y - - smtpd"], 0)
    invoke(pfedit, ["-c", config, "service", "set", "submission/inet",
                    "syslog_name=postfix/submission", "smtpd_tls_security_level=encrypt"], 0)  # fmt: skip

    before = mail_server(config, sasl=False)
    name = "debian with submission, before tls-hardening"
    for service, port in (("smtp", 25), ("submission", 587)):
        with before.session(f"{name}: port {port}, a TLS 1.0 client", service) as client:
            assert starttls_with(before, client, tls10(certificates)) == "TLSv1"
            # the session goes on: MAIL is accepted, over TLS 1.0
            assert client.mail("alice@example.org")[0] == 250

    invoke(pfedit, ["-c", config, "apply", "tls-hardening"], 0)
    after = mail_server(config, sasl=False)
    name = "debian with submission, after tls-hardening"
    with after.session(f"{name}: port 25, a TLS 1.0 client") as client:
        assert starttls_with(after, client, tls10(certificates)) == "TLSv1"
        assert relay(client, "root@mail.example.com")[0] == 250
    with after.session(f"{name}: port 587, a TLS 1.0 client", "submission") as client:
        assert starttls_with(after, client, tls10(certificates)) is None
    after.postfix.wait_for_log(r"postfix/submission/smtpd\[\d+\]: SSL_accept error from "
                               r"unknown\[198\.51\.100\.10\]")  # fmt: skip
    with after.session(f"{name}: port 587, the same client without TLS", "submission") as client:
        assert client.docmd("MAIL", "FROM:<alice@example.org>") == (
            530, b"5.7.0 Must issue a STARTTLS command first",
        )  # fmt: skip
    with after.session(f"{name}: port 587, a TLS 1.2 client", "submission") as client:
        context = certificates.client_context(ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2)
        assert starttls_with(after, client, context) == "TLSv1.2"
        code, text = relay(client, FOREIGN)
        assert code == 454 and b"Relay access denied" in text  # TLS alone is no licence
