"""Readers of TLS material for ``pflint --live``: PEM files as Postfix's TLS library loads them.

Pure functions of bytes already read by the Host.  The parsing itself is the ``cryptography``
package's, imported only when a live TLS check runs (the ``live`` extra): without it,
:func:`available` is False and the TLS checks are skipped with a note.  The order rules of a
``*_tls_chain_files`` file follow ``src/tls/tls_certkey.c`` (``load_pem_bio()``,
``load_pem_object()``, ``load_pkey()``, ``load_cert()``).
"""

from __future__ import annotations

import base64
import binascii
import re
import warnings
from typing import Any

import attrs

_PEM = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END \1-----", re.DOTALL)

#: The PEM labels load_pem_object() takes as certificates and as private keys; others are
#: skipped with "ignoring PEM type".
CERTIFICATE_LABELS = frozenset({"CERTIFICATE", "TRUSTED CERTIFICATE", "X509 CERTIFICATE"})
KEY_LABELS = frozenset(
    {"PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "DSA PRIVATE KEY", "ENCRYPTED PRIVATE KEY"}
)


def available() -> bool:
    """Whether the ``cryptography`` package can be imported (``pip install pfconf[live]``)."""
    try:
        import cryptography.x509  # noqa: F401
    except ImportError:
        return False
    return True


@attrs.frozen
class PemObject:
    """One PEM object of a file, numbered from 1 as Postfix's messages number them:
    ``kind`` is ``certificate``, ``key`` or ``other``; ``value`` the parsed certificate or
    private key, None with a ``problem`` when it does not parse."""

    number: int
    label: str
    kind: str
    value: Any = None
    problem: str | None = None


def read_pem(data: bytes) -> tuple[PemObject, ...]:
    """Every PEM object in ``data``, parsed."""
    objects = []
    for number, match in enumerate(_PEM.finditer(data), start=1):
        label = match.group(1).decode("ascii")
        if label in CERTIFICATE_LABELS:
            kind = "certificate"
        elif label in KEY_LABELS:
            kind = "key"
        else:
            objects.append(PemObject(number, label, "other"))
            continue
        block = match.group(0)
        try:
            # cryptography warns about certificates it will refuse one day (a root of the
            # system's CA bundle with a negative serial number): OpenSSL, which Postfix uses,
            # loads them, and a warning on pflint's standard error helps nobody
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                value = _load(label, kind, block, match.group(2))
        except (ValueError, TypeError, binascii.Error) as exc:
            objects.append(PemObject(number, label, kind, problem=_words(exc)))
            continue
        objects.append(PemObject(number, label, kind, value))
    return tuple(objects)


def _load(label: str, kind: str, block: bytes, body: bytes) -> Any:
    """The certificate or key of one PEM block (``body``: its base64 text)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    if label == "ENCRYPTED PRIVATE KEY":
        raise ValueError("the key is encrypted, and Postfix has no passphrase for it")
    if kind == "certificate":
        if label != "CERTIFICATE":
            return x509.load_der_x509_certificate(base64.b64decode(body, validate=False))
        return x509.load_pem_x509_certificate(block)
    return serialization.load_pem_private_key(block, password=None)


def _words(exc: Exception) -> str:
    text = str(exc).split("\n")[0].strip() or type(exc).__name__
    return text[:200]


def _public_der(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return bytes(
        key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def key_matches(key: Any, certificate: Any) -> bool:
    """SSL_CTX_check_private_key()'s question: is the certificate's public key the key's?"""
    try:
        return _public_der(key.public_key()) == _public_der(certificate.public_key())
    except (ValueError, TypeError, AttributeError):
        return False


def chain_problem(objects: tuple[PemObject, ...]) -> str | None:
    """Why load_pem_bio() refuses a chain file's objects (keys and certificates in the
    order key, its leaf certificate, that certificate's issuers, then the next key...), or
    None.  Objects that do not parse are left to the parse check."""
    usable = [o for o in objects if o.kind in ("key", "certificate") and o.problem is None]
    if not usable:
        return "holds no PEM private key or certificate"
    if usable[0].kind != "key":
        return (
            f"the first object (PEM object number {usable[0].number}) is a certificate: "
            "each private key must come before its certificates (key not first)"
        )
    for i, obj in enumerate(usable):
        if obj.kind != "key":
            continue
        following = usable[i + 1] if i + 1 < len(usable) else None
        if following is None or following.kind != "certificate":
            return f"no certificate follows the private key (PEM object number {obj.number})"
        if not key_matches(obj.value, following.value):
            return (
                f"the private key (PEM object number {obj.number}) does not match the "
                f"certificate right after it (number {following.number}): the leaf "
                "certificate must come first after its key"
            )
    return None


def dns_names(certificate: Any) -> tuple[str, ...]:
    """The certificate's DNS names: its subjectAltName dNSNames, else its common names."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        names = extension.value.get_values_for_type(x509.DNSName)
        if names:
            return tuple(str(n) for n in names)
    except (x509.ExtensionNotFound, ValueError):
        pass
    try:
        attributes = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    except ValueError:
        return ()
    return tuple(str(a.value) for a in attributes)


def name_matches(hostname: str, pattern: str) -> bool:
    """A DNS name against a certificate name, case-insensitively; ``*.`` stands for exactly
    one leftmost label (RFC 6125, section 6.4.3)."""
    host = hostname.lower().rstrip(".")
    name = pattern.lower().rstrip(".")
    if name.startswith("*."):
        head, _, rest = host.partition(".")
        return bool(head) and rest == name[2:]
    return host == name


def rsa_bits(key: Any) -> int | None:
    """The size of an RSA public or private key; None for other key types."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    if isinstance(key, (rsa.RSAPublicKey, rsa.RSAPrivateKey)):
        return int(key.key_size)
    return None


def signature_hash(certificate: Any) -> str | None:
    """The name of the hash the certificate's signature uses (``sha1``), when known."""
    try:
        algorithm = certificate.signature_hash_algorithm
    except Exception:  # noqa: BLE001 - an algorithm cryptography does not know
        return None
    return str(algorithm.name) if algorithm is not None else None


def not_after(certificate: Any) -> float:
    """The end of the certificate's validity, in seconds since the epoch."""
    when = getattr(certificate, "not_valid_after_utc", None)
    if when is None:  # cryptography < 42
        import datetime

        when = certificate.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    return float(when.timestamp())
