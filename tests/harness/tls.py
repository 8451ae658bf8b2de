"""Certificates for end-to-end tests: a private CA and a server certificate it signed, made
with the ``cryptography`` library, and the client TLS contexts that trust only that CA.

Every file is written 0600, as a real server key is: Postfix reads them as root before it
drops privileges.  Nothing here is fit for anything but a test (short-lived, throwaway keys).
"""

from __future__ import annotations

import datetime
import os
import ssl
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    # imported where certificates are made: the harness loads (and the tests that need no
    # certificate run) without the library
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import rsa

#: The name the server certificate is for, and the name a test client expects.
SERVER_NAME = "mail.example.com"


@attrs.frozen
class Certificates:
    """A CA and a server certificate for ``hostname`` (PEM files, each 0600)."""

    ca: Path
    cert: Path
    key: Path
    hostname: str

    def client_context(
        self,
        minimum: ssl.TLSVersion | None = None,
        maximum: ssl.TLSVersion | None = None,
    ) -> ssl.SSLContext:
        """A client context that trusts this CA alone and checks the server's name; TLS
        versions limited to ``minimum``..``maximum`` when given."""
        context = ssl.create_default_context(cafile=str(self.ca))
        if minimum is not None:
            context.minimum_version = minimum
        if maximum is not None:
            context.maximum_version = maximum
        return context


def _key() -> rsa.RSAPrivateKey:
    from cryptography.hazmat.primitives.asymmetric import rsa

    # RSA rather than ECDSA: every TLS version and cipher a test client may be limited to
    # can use it.
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _key_usage(*uses: str) -> x509.KeyUsage:
    from cryptography import x509

    flags = (
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
        "encipher_only",
        "decipher_only",
    )
    return x509.KeyUsage(**{flag: flag in uses for flag in flags})


def _write(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def make_certificates(directory: Path, hostname: str = SERVER_NAME) -> Certificates:
    """A new CA (``ca.pem``) and a certificate for ``hostname`` (``server.pem``, its key in
    ``server.key``) in ``directory``, which must not hold them yet."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=2)

    ca_key = _key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pfconf test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage("key_cert_sign", "crl_sign"), critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )

    server_key = _key()
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(_key_usage("digital_signature", "key_encipherment"), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )

    found = Certificates(
        ca=directory / "ca.pem",
        cert=directory / "server.pem",
        key=directory / "server.key",
        hostname=hostname,
    )
    _write(found.ca, ca_cert.public_bytes(serialization.Encoding.PEM))
    _write(found.cert, server_cert.public_bytes(serialization.Encoding.PEM))
    _write(
        found.key,
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    return found
