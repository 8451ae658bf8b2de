"""TLS values as Postfix's TLS library reads them: fingerprints, cipher exclusions, SNI names,
the OpenSSL configuration file.  Each reader follows one function of src/tls (named in its
docstring); what OpenSSL itself accepts (digest and cipher names) is the host's business.
"""

from __future__ import annotations

import attrs

from ..values import split_list

#: EVP_MAX_MD_SIZE: the widest digest OpenSSL computes, in bytes.
MAX_DIGEST_SIZE = 64


@attrs.frozen
class Fingerprint:
    """One value of ``*_tls_fingerprint_cert_match`` and whether it can ever match."""

    text: str
    usable: bool


def _hex_decodes(text: str) -> bool:
    """util/hex_code.c hex_decode_opt() with HEX_DECODE_FLAG_ALLOW_COLON: pairs of hex
    digits, a single ``:`` allowed between pairs (not first, not last)."""
    digits = "0123456789abcdefABCDEF"
    i, n = 0, len(text)
    while i < n:
        if n - i < 2 or text[i] not in digits or text[i + 1] not in digits:
            return False
        if n - i > 4 and text[i + 2] == ":":
            i += 1
        i += 2
    return True


def fingerprints(value: str) -> tuple[Fingerprint, ...]:
    """The fingerprints of a cert_match value as tls_dane_add_fpt_digests() (tls_dane.c,
    Postfix 3.6 and later) reads them: split at commas and blanks; a value longer than
    three characters per digest byte, or not hex (colons allowed), is "malformed" and
    skipped."""
    result = []
    for token in split_list(value, parens="\0\0"):
        text = token.text
        usable = len(text) <= 3 * MAX_DIGEST_SIZE and _hex_decodes(text)
        result.append(Fingerprint(text, usable))
    return tuple(result)


def cipher_exclusions(value: str) -> tuple[str, ...]:
    """The words of a ``*_exclude_ciphers`` value as tls_set_ciphers() (tls_misc.c) splits
    them: at commas, blanks and colons."""
    return tuple(t.text for t in split_list(value, ", \t\r\n:", parens="\0\0"))


def match_names(value: str) -> tuple[str, ...]:
    """The names of ``*_tls_verify_cert_match``/``*_tls_secure_cert_match`` as
    policy_create() (smtp_tls_policy.c) splits them: at commas, blanks and colons."""
    return tuple(t.text for t in split_list(value, ", \t\r\n:", parens="\0\0"))


def bad_exclusion(word: str) -> bool:
    """tls_set_ciphers() refuses an exclusion that starts with ``!``, ``+``, ``-`` or ``@``
    ("invalid unary '!+-@' in cipher exclusion"), and with it the whole TLS session."""
    return word[:1] in ("!", "+", "-", "@")


def config_file_problem(value: str) -> str | None:
    """tls_library_init() (tls_misc.c): ``default``, ``none`` or an absolute path; anything
    else (empty included) disables TLS support in every program."""
    if value in ("default", "none") or value.startswith("/"):
        return None
    return "is not an absolute pathname"
