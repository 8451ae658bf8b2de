"""What Postfix makes of the files behind lookup tables, read from their bytes.

Pure functions over bytes the Host read: cidr table lines as dict_cidr_open() parses them,
a database client configuration's settings, dynamicmaps.cf entries, and the warnings postmap
prints about a table's lines.  Nothing here touches the host.
"""

from __future__ import annotations

import re
import socket

import attrs

from ..kb import Version
from ..values import ISSPACE, alldig


@attrs.frozen
class LineProblem:
    """A line of a table file Postfix complains about: its number (the first physical line
    of the logical line), what is wrong in our words, and whether Postfix skips the line
    (``skipped``) or only warns."""

    line: int
    message: str
    skipped: bool = True


def logical_lines(data: bytes) -> list[tuple[int, str]]:
    """The logical lines of a table file as util/readlline.c, readllines() reads them:
    blank lines and lines whose first non-blank character is ``#`` are dropped, a line that
    starts with white space continues the one before (joined without the newline), and each
    logical line comes with the number of its first physical line.  Bytes are read as Latin-1 (one character each)."""
    text = data.decode("latin-1")
    physical = text.split("\n")
    if physical and physical[-1] == "":
        physical.pop()
    found: list[tuple[int, str]] = []
    for number, line in enumerate(physical, start=1):
        stripped = line.strip(ISSPACE)
        if not stripped or stripped.startswith("#"):
            continue
        if line[:1] in ISSPACE and found:
            first, text_so_far = found[-1]
            found[-1] = (first, text_so_far + line)
            continue
        found.append((number, line))
    # a logical line that still starts with white space (continuation text before any
    # line) is dropped with a warning by readllines()
    return [(n, text) for n, text in found if text[:1] not in ISSPACE]


# -- cidr tables (util/dict_cidr.c, util/cidr_match.c) --------------------------------------


def _family(pattern: str) -> int:
    """CIDR_MATCH_ADDR_FAMILY(): IPv6 when the pattern has a colon."""
    return socket.AF_INET6 if ":" in pattern else socket.AF_INET


def _pton(family: int, text: str) -> bytes | None:
    """inet_pton() of the C library, as cidr_match_parse() calls it."""
    try:
        return socket.inet_pton(family, text)
    except (OSError, ValueError):
        return None


def cidr_pattern_problem(pattern: str) -> str | None:
    """What util/cidr_match.c, cidr_match_parse() refuses in an address pattern
    (``192.0.2.0/24``, ``[2001:db8::]/32``, ``192.0.2.1``); None when it parses."""
    if pattern.startswith("["):
        inner = pattern[1:]
        close = inner.find("]")
        if close < 0:
            return f"{pattern!r} has no closing ']'"
        after = inner[close + 1 :]
        address = inner[:close]
        if after and not after.startswith("/"):
            return f"{pattern!r} has text after the ']'"
        pattern = address + after
    address, slash, mask = pattern.partition("/")
    family = _family(address)
    bits = 128 if family == socket.AF_INET6 else 32
    if slash:
        if not alldig(mask):
            return f"{pattern!r}: the prefix length {mask!r} is not a number"
        if int(mask) > bits:
            return f"{pattern!r}: the prefix length {mask} is longer than {bits} bits"
        network = _pton(family, address)
        if network is None:
            return f"{pattern!r}: {address!r} is not an IP{'v6' if bits == 128 else 'v4'} network"
        length = int(mask)
        value = int.from_bytes(network, "big")
        host_bits = (1 << (bits - length)) - 1 if length < bits else 0
        if value & host_bits:
            clean = (value & ~host_bits).to_bytes(len(network), "big")
            shown = socket.inet_ntop(family, clean)
            return (
                f"{pattern!r} has bits set beyond the prefix length (Postfix suggests "
                f"{shown}/{length})"
            )
        return None
    if _pton(family, address) is None:
        return f"{pattern!r} is not an IP address or network"
    return None


def cidr_problems(data: bytes, version: Version) -> list[LineProblem]:
    """The lines of a cidr table that util/dict_cidr.c, dict_cidr_open() skips with "cidr
    map FILE, line N: ...: skipping this rule", and the IF without ENDIF it warns about.
    ``IF``/``ENDIF`` and ``!`` exist from Postfix 3.2; before, such a line is an address
    pattern like any other (and fails as one)."""
    found: list[LineProblem] = []
    conditions = version[:2] >= (3, 2)
    open_ifs: list[int] = []
    for number, line in logical_lines(data):
        problem = _cidr_rule(line, conditions, len(open_ifs))
        if problem is not None:
            found.append(LineProblem(number, problem))
            continue
        word = line.lstrip(ISSPACE)
        if conditions and _keyword(word, "IF"):
            open_ifs.append(number)
        elif conditions and _keyword(word, "ENDIF"):
            open_ifs.pop()
    for number in open_ifs:
        found.append(LineProblem(number, "IF has no matching ENDIF", skipped=False))
    return sorted(found, key=lambda p: p.line)


def _keyword(text: str, word: str) -> bool:
    """``strncasecmp(p, word, n) == 0 && !ISALNUM(p[n])``."""
    head = text[: len(word)]
    rest = text[len(word) : len(word) + 1]
    return head.upper() == word and not (rest.isascii() and rest.isalnum())


def _cidr_rule(line: str, conditions: bool, nesting: int) -> str | None:
    """dict_cidr_parse_rule(): why the line is skipped, or None."""
    p = line
    if conditions and _keyword(p, "IF"):
        p = p[2:].lstrip(ISSPACE + "!")
        if not p:
            return "IF without an address pattern"
        return cidr_pattern_problem(p.rstrip(ISSPACE))
    if conditions and _keyword(p, "ENDIF"):
        if p[5:].strip(ISSPACE):
            return "text after ENDIF"
        if nesting == 0:
            return "ENDIF without a matching IF"
        return None
    if conditions:
        p = p.lstrip(ISSPACE + "!")
    pattern, _, value = _split_key(p)
    if not pattern:
        return "no address pattern"
    if not conditions and not value:
        return "no lookup result after the pattern"
    problem = cidr_pattern_problem(pattern)
    if problem is not None:
        return problem
    if not value:
        return "no lookup result after the pattern"
    return None


def _split_key(text: str) -> tuple[str, str, str]:
    """The key up to the first white space, and the value after it, blanks trimmed."""
    end = 0
    while end < len(text) and text[end] not in ISSPACE:
        end += 1
    return text[:end], text[end : end + 1], text[end:].strip(ISSPACE)


# -- database client configurations (global/cfg_parser.c, util/dict_file.c) ------------------


def client_settings(data: bytes) -> dict[str, tuple[int, str]]:
    """The ``name = value`` settings of a database client configuration, as
    dict_load_file_xt() reads it (logical lines like main.cf's; the last definition wins),
    each with the line it starts on."""
    settings: dict[str, tuple[int, str]] = {}
    for number, line in logical_lines(data):
        name, equals, value = line.partition("=")
        if not equals:
            continue
        name = name.strip(ISSPACE)
        settings[name] = (number, " ".join(value.split()))
    return settings


#: A URI whose authority carries a password: ``scheme://user:password@host``.
_URI_PASSWORD = re.compile(r"^[A-Za-z][\w+.-]*://[^/@\s]*:[^/@\s]*@")


def secret_settings(data: bytes, names: tuple[str, ...]) -> list[tuple[str, int]]:
    """The settings among ``names`` that hold a secret (a non-empty value; for ``uri``, one
    with ``user:password@``), with their line."""
    found = []
    for name, (line, value) in client_settings(data).items():
        if name not in names or not value:
            continue
        if name == "uri" and not _URI_PASSWORD.match(value):
            continue
        found.append((name, line))
    return sorted(found, key=lambda item: item[1])


# -- dynamicmaps.cf (util/dynamicmaps.c, dymap_read_conf()) ---------------------------------


@attrs.frozen
class Plugin:
    """A table type registered in dynamicmaps.cf: its shared object (relative names are
    under shlib_directory) and the file and line that register it."""

    type: str
    library: str
    path: str
    line: int


def dynamic_maps(data: bytes, path: str, shlib_directory: str) -> list[Plugin]:
    """The entries of a dynamicmaps.cf file: ``type  library  open-function
    [mkmap-function]``, ``#`` lines and empty lines skipped; the first entry of a type wins
    (dymap_read_conf())."""
    found: list[Plugin] = []
    text = data.decode("latin-1")
    for number, line in enumerate(text.split("\n"), start=1):
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        if len(fields) not in (3, 4) or not fields[0][:1].isalnum():
            continue  # dymap_read_conf() stops the program here; postconf -m says so
        library = fields[1]
        if not library.startswith("/"):
            library = f"{shlib_directory.rstrip('/')}/{library}"
        found.append(Plugin(fields[0], library, path, number))
    return found


# -- postmap's warnings about a table's lines ----------------------------------------------


def postmap_warnings(stderr: str, table_type: str, name: str) -> list[LineProblem]:
    """The warnings postmap printed about the table's lines, each through msg_warn():
    ``TYPE map NAME, line N: text`` for regexp and pcre (util/dict_regexp.c, dict_pcre.c),
    ``NAME, line N: text`` for texthash (util/dict_thash.c).  ``skipped`` when the text
    says the line is dropped ("skipping this rule", "-- ignoring this line"; other warnings
    may drop the line too, in other words: "ignoring unrecognized request")."""
    if table_type == "texthash":
        prefix = re.escape(name)
    else:
        prefix = rf"{re.escape(table_type)} (?:map|file) {re.escape(name)}"
    pattern = re.compile(rf"(?:warning|fatal): {prefix}, line (\d+): (.*)$")
    found = []
    for line in stderr.splitlines():
        match = pattern.search(line)
        if match is None:
            continue
        text = match.group(2).strip()
        skipped = False
        for ending in ("skipping this rule", "-- ignoring this line"):
            if text.endswith(ending):
                text = text[: -len(ending)].rstrip(" :-")
                skipped = True
        problem = LineProblem(int(match.group(1)), text, skipped)
        # postmap -q may open a table more than once (once per lookup it tries)
        if problem not in found:
            found.append(problem)
    return found


def duplicate_key(problem: LineProblem) -> str | None:
    """The key of a texthash ``duplicate entry: "KEY"`` warning, else None."""
    match = re.fullmatch(r'duplicate entry: "(.*)"', problem.message)
    return match.group(1) if match else None
