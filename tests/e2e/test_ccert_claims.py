"""RLY013's claim on a running Postfix: with ``smtpd_tls_ask_ccert = no`` smtpd never asks a
client for its certificate, so ``permit_tls_clientcerts`` never matches, not even for a
client whose certificate is listed in ``relay_clientcerts`` (runtime.toml cannot present a
client certificate).

The certificates are made by the test with the openssl command; the expected texts are
Postfix 3.7's (smtpd_check.c, permit_tls_clientcerts(); smtpd_check_reject()).
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
import subprocess
from pathlib import Path

import pytest
from conftest import invoke
from harness import Sandbox
from harness.fixtures import ScratchPostfixFactory
from harness.postfix import stock_master_cf

from pfconf.cli.pflint import cli as pflint

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _certificate(directory: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate and its key, made with openssl: (key, certificate)."""
    key, cert = directory / f"{name}.key", directory / f"{name}.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", f"/CN={name}", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return key, cert


def _fingerprint(cert: Path) -> str:
    """The certificate's SHA-256 fingerprint as Postfix writes it (tls_fprint.c: upper-case
    hex pairs joined by colons); sha256 is smtpd_tls_fingerprint_digest's default at
    compatibility level 3.6 and later."""
    der = ssl.PEM_cert_to_DER_cert(cert.read_text())
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def _main_cf(tmp_path: Path, ask_ccert: bool) -> tuple[str, Path, Path]:
    server_key, server_cert = _certificate(tmp_path, "mail.example.com")
    client_key, client_cert = _certificate(tmp_path, "client.example.org")
    main_cf = (
        "compatibility_level = 3.7\n"
        "myhostname = mail.example.com\n"
        "mynetworks = 127.0.0.0/8\n"
        "alias_maps =\n"
        "smtpd_tls_security_level = may\n"
        f"smtpd_tls_chain_files = {server_key}, {server_cert}\n"
        + ("smtpd_tls_ask_ccert = yes\n" if ask_ccert else "")
        + "smtpd_relay_restrictions = permit_mynetworks, permit_tls_clientcerts,\n"
        "    reject_unauth_destination\n"
        # the client's own certificate is listed: it would be allowed to relay if asked
        f"relay_clientcerts = inline:{{ {_fingerprint(client_cert)}=client.example.org }}\n"
    )
    return main_cf, client_key, client_cert


def _reported(tmp_path: Path, main_cf: str, status: int) -> str:
    config = tmp_path / "linted"
    config.mkdir()
    (config / "main.cf").write_text(main_cf)
    (config / "master.cf").write_text(stock_master_cf())
    return str(invoke(pflint, ["--select", "RLY013", config], status).output)


def _relay_reply(postfix, source: str, key: Path, cert: Path) -> tuple[int, bytes]:  # type: ignore[no-untyped-def]
    """RCPT TO a foreign domain after STARTTLS, with the client's certificate offered."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.load_cert_chain(cert, key)
    client = postfix.client(source=source, timeout=10)
    try:
        client.ehlo("client.example.org")
        # starttls() sends smtplib's _host as the TLS server name; the harness connected by
        # address, which leaves it empty
        client._host = "mail.example.com"
        client.starttls(context=context)
        client.ehlo("client.example.org")
        client.mail("sender@example.org")
        return client.rcpt("user@example.net")
    finally:
        try:
            client.quit()
        except smtplib.SMTPException:
            pass


def test_client_certificates_are_never_asked_for(
    tmp_path: Path, sandbox: Sandbox, scratch_postfix: ScratchPostfixFactory
) -> None:
    main_cf, key, cert = _main_cf(tmp_path, ask_ccert=False)
    assert "RLY013" in _reported(tmp_path, main_cf, 1)
    postfix = scratch_postfix(main_cf)
    code, text = _relay_reply(postfix, sandbox.foreign_address, key, cert)
    assert (code, b"Relay access denied" in text) == (554, True), (code, text)
    postfix.wait_for_log(r"postfix/smtpd\[\d+\]: warning: permit_tls_clientcerts is requested, "
                         r'but "smtpd_tls_ask_ccert = no"')  # fmt: skip


def test_with_ask_ccert_the_listed_client_relays(
    tmp_path: Path, sandbox: Sandbox, scratch_postfix: ScratchPostfixFactory
) -> None:
    """The quiet side: the same client and table, with smtpd_tls_ask_ccert = yes."""
    main_cf, key, cert = _main_cf(tmp_path, ask_ccert=True)
    assert "RLY013" not in _reported(tmp_path, main_cf, 0)
    postfix = scratch_postfix(main_cf)
    code, text = _relay_reply(postfix, sandbox.foreign_address, key, cert)
    assert code == 250, text
