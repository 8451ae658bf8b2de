"""The live TLS-material rules (LIVE010-LIVE016) on certificates and keys each test makes
with cryptography: expired, mismatched, out of order, SHA-1, small RSA, readable keys.

Each rule has ``test_<code>_fires...`` and ``test_<code>_quiet...`` functions.
"""

from __future__ import annotations

import datetime
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import invoke
from oracle import require_postconf

if not os.environ.get("CI"):  # the test extras bring cryptography: under CI=1 it must be there
    pytest.importorskip("cryptography")

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from pfconf.cli.pflint import cli as pflint
from pfconf.lint import Finding, Options, lint

NOW = datetime.datetime.now(datetime.timezone.utc)


def make_key(bits: int | None = None):
    if bits is None:
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def make_cert(
    key,
    name="mail.example.com",
    *,
    days=365,
    start_days=-1,
    issuer=None,
    issuer_key=None,
    digest=None,
):
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer or subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW + datetime.timedelta(days=start_days))
        .not_valid_after(NOW + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
    )
    return builder.sign(issuer_key or key, digest or hashes.SHA256())


def key_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def cert_pem(cert) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


class Site:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.conf = root / "etc"
        self.conf.mkdir()

    def write(self, name: str, data: bytes, mode: int = 0o600) -> str:
        path = self.root / name
        path.write_bytes(data)
        path.chmod(mode)
        return str(path)

    def pair(self, name="mail.example.com", **kw) -> tuple[str, str]:
        key = make_key(kw.pop("bits", None))
        cert = make_cert(key, name, **kw)
        return self.write("cert.pem", cert_pem(cert)), self.write("key.pem", key_pem(key))

    def main(self, text: str) -> None:
        (self.conf / "main.cf").write_text(
            "myhostname = mail.example.com\nsmtpd_tls_security_level = may\n" + text,
            encoding="utf-8",
        )

    def lint(self, *codes: str, **options: int) -> list[Finding]:
        chosen = Options(select=codes, live=True, **options)  # type: ignore[arg-type]
        return lint([str(self.conf / "main.cf")], chosen).findings


@pytest.fixture
def site(tmp_path: Path) -> Site:
    require_postconf()
    return Site(tmp_path)


def _at(findings: list[Finding]) -> list[tuple[str, int, int, str]]:
    return [(f.code, f.line, f.column, f.severity) for f in findings]


def _uses(cert: str, key: str) -> str:
    return f"smtpd_tls_cert_file = {cert}\nsmtpd_tls_key_file = {key}\n"


# -- LIVE010 ------------------------------------------------------------------------------------


def test_live010_fires_on_a_missing_certificate_and_a_garbled_key(site):
    key = site.write(
        "key.pem", b"-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n"
    )
    site.main(_uses(str(site.root / "nothere.pem"), key))
    findings = site.lint("LIVE010")
    assert _at(findings) == [("LIVE010", 3, 23, "error"), ("LIVE010", 4, 22, "error")]
    assert "nothere.pem does not exist" in findings[0].message
    assert "PEM object number 1 (PRIVATE KEY) does not parse" in findings[1].message


def test_live010_fires_on_a_capath_that_is_a_file(site):
    cert, key = site.pair()
    site.main(_uses(cert, key) + f"smtpd_tls_CApath = {cert}\n")
    findings = site.lint("LIVE010")
    assert _at(findings) == [("LIVE010", 5, 20, "error")]
    assert "not a directory" in findings[0].message


def test_live010_quiet_on_good_files_and_when_tls_is_off(site):
    cert, key = site.pair()
    site.main(_uses(cert, key) + f"smtpd_tls_CAfile = {cert}\nsmtpd_tls_CApath = {site.root}\n")
    assert site.lint("LIVE010") == []
    # smtpd loads nothing at level none
    (site.conf / "main.cf").write_text(
        "smtpd_tls_security_level = none\nsmtpd_tls_cert_file = /nothere.pem\n", encoding="utf-8"
    )
    assert site.lint("LIVE010") == []


# -- LIVE011 ------------------------------------------------------------------------------------


def test_live011_fires_on_a_key_of_another_certificate(site):
    cert, _ = site.pair()
    other = site.write("other.pem", key_pem(make_key()))
    site.main(_uses(cert, other))
    findings = site.lint("LIVE011")
    assert _at(findings) == [("LIVE011", 4, 22, "error")]
    assert "does not match the certificate" in findings[0].message


def test_live011_quiet_on_a_matching_pair(site):
    site.main(_uses(*site.pair()))
    assert site.lint("LIVE011") == []


# -- LIVE012 ------------------------------------------------------------------------------------


def _chain(site: Site) -> tuple[bytes, bytes, bytes]:
    ca_key = make_key()
    ca = make_cert(ca_key, "Test CA")
    key = make_key()
    leaf = make_cert(key, issuer=ca.subject, issuer_key=ca_key)
    return key_pem(key), cert_pem(leaf), cert_pem(ca)


def test_live012_fires_on_certificates_before_their_key_and_issuer_first(site):
    key, leaf, ca = _chain(site)
    chain = site.write("chain.pem", leaf + ca + key)
    site.main(f"smtpd_tls_chain_files = {chain}\n")
    findings = site.lint("LIVE012")
    assert _at(findings) == [("LIVE012", 3, 25, "error")]
    assert "key not first" in findings[0].message

    site.write("chain.pem", key + ca + leaf)
    findings = site.lint("LIVE012")
    assert len(findings) == 1 and "leaf certificate must come first" in findings[0].message


def test_live012_quiet_on_key_leaf_issuer_across_two_files(site):
    key, leaf, ca = _chain(site)
    first = site.write("key.pem", key)
    second = site.write("chain.pem", leaf + ca)
    site.main(f"smtpd_tls_chain_files = {first}, {second}\n")
    assert site.lint("LIVE012") == []


# -- LIVE013 ------------------------------------------------------------------------------------


def test_live013_fires_on_expired_and_expiring(site):
    site.main(_uses(*site.pair(days=-2, start_days=-30)))
    findings = site.lint("LIVE013")
    assert _at(findings) == [("LIVE013", 3, 23, "error")]
    assert "expired on" in findings[0].message
    site.main(_uses(*site.pair(days=10)))
    findings = site.lint("LIVE013")
    assert _at(findings) == [("LIVE013", 3, 23, "warning")]
    assert "within 30 days" in findings[0].message


def test_live013_quiet_on_a_certificate_valid_for_long(site):
    site.main(_uses(*site.pair(days=90)))
    assert site.lint("LIVE013") == []


def test_live013_warns_within_the_days_chosen(site):
    site.main(_uses(*site.pair(days=90)))
    findings = site.lint("LIVE013", certificate_expiry_days=100)
    assert [f.severity for f in findings] == ["warning"]
    assert "within 100 days" in findings[0].message
    site.main(_uses(*site.pair(days=10)))
    assert site.lint("LIVE013", certificate_expiry_days=0) == []


def test_live013_days_from_the_command_line_and_the_settings_file(site):
    site.main(_uses(*site.pair(days=50)))
    conf = str(site.conf)
    args = ["--live", "--isolated", "--select", "LIVE013", conf]
    assert invoke(pflint, args, 0).output == ""
    out = invoke(pflint, ["--certificate-expiry-days", "60", *args], 1).output
    assert "LIVE013 warning" in out and "within 60 days" in out
    (site.conf / ".pflint.toml").write_text("certificate-expiry-days = 60\n")
    args.remove("--isolated")
    assert "within 60 days" in invoke(pflint, args, 1).output
    # the command line wins over the settings file
    assert invoke(pflint, ["--certificate-expiry-days", "5", *args], 0).output == ""
    (site.conf / ".pflint.toml").write_text("certificate-expiry-days = -1\n")
    assert "certificate-expiry-days must be a whole number >= 0" in (invoke(pflint, args, 2).output)


# -- LIVE014 ------------------------------------------------------------------------------------


def test_live014_fires_when_the_certificate_names_another_host(site):
    site.main(_uses(*site.pair("www.example.com")))
    findings = site.lint("LIVE014")
    assert _at(findings) == [("LIVE014", 3, 23, "warning")]
    assert "www.example.com" in findings[0].message


def test_live014_quiet_on_a_wildcard_of_one_label(site):
    site.main(_uses(*site.pair("*.example.com")))
    assert site.lint("LIVE014") == []


# -- LIVE015 ------------------------------------------------------------------------------------


def test_live015_fires_on_small_rsa_and_sha1(site):
    site.main(_uses(*site.pair(bits=1024)))
    findings = site.lint("LIVE015")
    assert _at(findings) == [("LIVE015", 3, 23, "warning")]
    assert "1024-bit RSA key" in findings[0].message

    # cryptography refuses to sign with SHA-1; the openssl command still does
    openssl = shutil.which("openssl")
    if openssl is None:
        # .ci/run installs openssl: under CI=1 this part must run
        if os.environ.get("CI"):
            pytest.fail("no openssl command to sign with SHA-1")
        pytest.skip("no openssl command to sign with SHA-1")
    ca_key = make_key(2048)
    ca_cert = site.write("ca.pem", cert_pem(make_cert(ca_key, "Test CA")))
    ca_keyfile = site.write("ca.key", key_pem(ca_key))
    key = make_key(2048)
    site.write("key.pem", key_pem(key))
    csr = site.root / "leaf.csr"
    subprocess.run(
        [
            openssl,
            "req",
            "-new",
            "-key",
            str(site.root / "key.pem"),
            "-subj",
            "/CN=mail.example.com",
            "-out",
            str(csr),
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            openssl,
            "x509",
            "-req",
            "-in",
            str(csr),
            "-CA",
            ca_cert,
            "-CAkey",
            ca_keyfile,
            "-CAcreateserial",
            "-sha1",
            "-days",
            "30",
            "-out",
            str(site.root / "cert.pem"),
        ],
        check=True,
        capture_output=True,
    )
    findings = site.lint("LIVE015")
    assert len(findings) == 1 and "signed with SHA-1" in findings[0].message


def test_live015_quiet_on_rsa_2048_sha256(site):
    site.main(_uses(*site.pair(bits=2048)))
    assert site.lint("LIVE015") == []


# -- LIVE016 ------------------------------------------------------------------------------------


def test_live016_fires_on_a_world_readable_key(site):
    cert, key = site.pair()
    Path(key).chmod(0o644)
    site.main(_uses(cert, key))
    findings = site.lint("LIVE016")
    assert _at(findings) == [("LIVE016", 4, 22, "warning")]
    assert "mode 0644" in findings[0].message


def test_live016_quiet_on_a_key_of_mode_0600(site):
    site.main(_uses(*site.pair()))
    assert site.lint("LIVE016") == []
