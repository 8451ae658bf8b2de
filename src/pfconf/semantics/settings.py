"""Single settings as the Postfix function that reads each one parses it: known_tcp_ports,
maillog_file_permissions, header texts, tls_dane_digests.  Each reader returns what
Postfix keeps and, for what it drops, the reason in Postfix's words.
"""

from __future__ import annotations

import attrs

from ..values import split_list

#: What the readers below return for each piece of a value: its text and, when Postfix
#: ignores it, why.


@attrs.frozen
class Piece:
    text: str
    problem: str | None = None


def known_tcp_ports(value: str) -> tuple[Piece, ...]:
    """global/config_known_tcp_ports.c config_known_tcp_ports() with util/known_tcp_ports.c
    add_known_tcp_port(): associations split at commas, each ``name [= name...] = port``.
    A problem marks an association Postfix warns about (it keeps the names it could add)."""
    result: list[Piece] = []
    names: set[str] = set()
    for token in split_list(value, ",", parens="\0\0"):
        association = token.text
        fields = f" {association} ".split("=")
        if len(fields) == 1:
            result.append(Piece(association, 'is not in "name = value" form'))
            continue
        problem = None
        port_words = fields[-1].split()
        if not port_words:
            problem = 'missing port value after "="'
        elif len(port_words) > 1:
            problem = "whitespace in port number"
        else:
            port = port_words[0]
            for field in fields[:-1]:
                words = field.split()
                if not words:
                    found = 'missing service name before "="'
                elif len(words) > 1:
                    found = "whitespace in service name"
                elif words[0].isdigit():
                    found = "numerical service name"
                elif not port.isdigit():
                    found = "non-numerical service port"
                elif len(port) > 5 or (len(port) == 5 and port > "65535"):
                    found = "port number out of range"
                elif words[0] in names:
                    found = "duplicate service name"
                else:
                    names.add(words[0])
                    continue
                problem = problem or found
        result.append(Piece(association, problem))
    return tuple(result)


#: util/logwriter.c set_logwriter_create_perms(): the modes it accepts (leading zeros
#: dropped, compared without case).
LOG_FILE_MODES = ("644", "640", "600")


def log_file_mode_problem(value: str) -> str | None:
    if value.lstrip("0").lower() in LOG_FILE_MODES:
        return None
    return "not one of 0600, 0640, 0644"


def header_problem(text: str) -> str | None:
    """global/is_header.c is_header(): a name of printable ASCII, optional blanks, then
    ``:``; None when ``text`` starts that way."""
    state = "init"
    for ch in text:
        if ch in (" ", "\t"):
            if state == "init":
                return 'need "headername: headervalue"'
            state = "space"
        elif ch == ":":
            return None if state != "init" else 'need "headername: headervalue"'
        elif not ch.isascii() or not ch.isprintable() or state == "space":
            return 'need "headername: headervalue"'
        else:
            state = "char"
    return 'need "headername: headervalue"'


def dane_digests(value: str) -> tuple[Piece, ...]:
    """tls/tls_dane.c tls_dane_digest_init() (Postfix 3.6 and later): ``name[=number]``
    entries; matching types 1 and 2 are sha256 and sha512 only, a name without a number
    must be one of those two, 0 and 255 are reserved, a type may appear once.  Whether
    OpenSSL knows a digest is the host's business."""
    result: list[Piece] = []
    used: set[int] = set()
    for token in split_list(value, parens="\0\0"):
        name, equals, code = token.text.partition("=")
        number: int | None = None
        problem = None
        if equals and code:
            if not code.isdigit() or int(code) >= 255:
                problem = "invalid matching type number"
            elif int(code) == 0:
                problem = "reserved matching type number"
            else:
                number = int(code)
        if problem is None and not name:
            result.append(Piece(token.text))  # an empty name disables the type
            continue
        if problem is None and number is None:
            lowered = name.lower()
            if lowered == "sha256":
                number = 1
            elif lowered == "sha512":
                number = 2
            else:
                problem = "a digest other than sha256 and sha512 needs an explicit number"
        if problem is None and number == 1 and name.lower() != "sha256":
            problem = "matching type 1 can only be sha256"
        if problem is None and number == 2 and name.lower() != "sha512":
            problem = "matching type 2 can only be sha512"
        if problem is None and number is not None:
            if number in used:
                problem = f"matching type {number} specified more than once"
            used.add(number)
        result.append(Piece(token.text, problem))
    return tuple(result)


#: global/rfc2047_code.c: RFC 2047 "especials", not allowed in a charset name.
RFC2047_ESPECIALS = '()<>@,;:\\"/[]?.='


#: rfc2047_encode() refuses a charset name longer than ENC_WORD_MAX_LEN / 2, 75 / 2 in C:
#: 37 characters (global/rfc2047_code.c), from the patch releases that added the check
#: (postfix-3.12-20260413, backported to 3.10.9 and 3.11.2).
CHARSET_MAX_LENGTH = 75 // 2
_CHARSET_LENGTH_SINCE: dict[tuple[int, ...], int] = {(3, 10): 9, (3, 11): 2}


def _charset_length_checked(version: tuple[int, ...]) -> bool:
    """Whether Postfix ``version`` has the length check; a version without a patch number
    stands for the newest patch release of it, as elsewhere in the knowledge base."""
    if version[:2] > (3, 11):
        return True
    since = _CHARSET_LENGTH_SINCE.get(version[:2])
    return since is not None and (len(version) < 3 or version[2] >= since)


def charset_problem(name: str, version: tuple[int, ...] = (3, 12)) -> str | None:
    """rfc2047_encode() (global/rfc2047_code.c, Postfix 3.10 and later) on the charset name
    in Postfix ``version``: not empty, not longer than 37 characters (from 3.10.9 and
    3.11.2), printable ASCII, no blank, none of the RFC 2047 especials; in that order."""
    if not name:
        return "empty charset name"
    if len(name.encode("utf-8", "surrogateescape")) > CHARSET_MAX_LENGTH and (
        _charset_length_checked(version)
    ):
        return f"unreasonable charset name (more than {CHARSET_MAX_LENGTH} characters)"
    for ch in name:
        if not ch.isascii() or not ch.isprintable() or ch == " " or ch in RFC2047_ESPECIALS:
            return f"invalid character 0x{ord(ch):x} in charset name"
    return None
