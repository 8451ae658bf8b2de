"""What Postfix sees inside a parameter value: list items, $name references, lookup tables,
host names, addresses and host:port.

Each helper mirrors the Postfix routine named in its docstring and reports offsets into the
text it was given, so callers can map a finding back to a file position.  Nothing here reads
files or knows parameter names.
"""

from __future__ import annotations

import functools
import re

import attrs

#: Postfix's list separators (CHARS_COMMA_SP in sys_defs.h): note that \v and \f are not.
LIST_SEPARATORS = ", \t\r\n"
#: Postfix's word separators (CHARS_SPACE).
BLANKS = " \t\r\n"
#: What C's isspace() accepts; Python's str.isspace() accepts more.
ISSPACE = " \t\n\v\f\r"


@attrs.frozen
class Token:
    """One item of a split value: its text and where it sits in the value (``start``/``end``)."""

    text: str
    start: int
    end: int


def split_list(text: str, separators: str = LIST_SEPARATORS, parens: str = "{}") -> list[Token]:
    """Split a value into items as Postfix's mystrtokq() does.

    Items are separated by commas and/or blanks; a ``{`` opens a group in which separators do
    not split, closed by the matching ``}`` (the braces stay in the item).  A ``}`` outside a
    group is an ordinary character.
    """
    open_paren, close_paren = parens[0], parens[1]
    if open_paren not in text:
        # No group to track: items are the runs between separators (a regex scans them in C;
        # the loop below costs a microsecond a character, and values can be megabytes).
        return [Token(m.group(), m.start(), m.end()) for m in _runs(separators).finditer(text)]
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in separators:
            i += 1
        if i >= n:
            break
        start, level = i, 0
        while i < n:
            ch = text[i]
            if ch == open_paren:
                level += 1
            elif level > 0 and ch == close_paren:
                level -= 1
            elif level == 0 and ch in separators:
                break
            i += 1
        tokens.append(Token(text[start:i], start, i))
    return tokens


@functools.cache
def _runs(separators: str) -> re.Pattern[str]:
    return re.compile(f"[^{re.escape(separators)}]+")


def strip_braces(item: str) -> str | None:
    """The text inside ``{ ... }`` with blanks trimmed (Postfix's extpar() with STRIP), or None.

    Returns None when ``item`` is not a complete, balanced group: callers keep it as it is.
    """
    if not item.startswith("{"):
        return None
    level = 0
    for index, ch in enumerate(item):
        if ch == "{":
            level += 1
        elif ch == "}":
            level -= 1
            if level == 0:
                if index != len(item) - 1:
                    return None
                return item[1:index].strip(ISSPACE)
    return None


# ---------------------------------------------------------------------------------------------
# $name references


@attrs.frozen
class Reference:
    """A parameter reference in a value.

    ``name`` is the referenced parameter; ``start``/``end`` cover the whole construct
    (``$name``, ``${name?value}``, ...); ``name_start``/``name_end`` cover the name only.
    ``form`` is one of ``"$name"``, ``"${name}"``, ``"$(name)"``, ``"${name?value}"``,
    ``"${name:value}"``; references inside a 3.x relational expression
    (``${{$a} == {b} ? {x} : {y}}``) are reported with the form of their own construct.
    """

    name: str
    start: int
    end: int
    name_start: int
    name_end: int
    form: str


def _is_name_char(ch: str) -> bool:
    return ch == "_" or (ch.isascii() and ch.isalnum())


def _skip_space(text: str, i: int, end: int) -> int:
    while i < end and text[i] in ISSPACE:
        i += 1
    return i


#: Postfix's mac_expand() stops with "unreasonable macro call nesting" (and the program that
#: expands the value with "fatal: macro processing error") beyond this many levels.  Each piece
#: of a value, text or ``$...``, is one call; each ``${...}`` or ``$(...)`` around it adds a
#: level, and so does a ``$name``, whose value is expanded one level further down.  The
#: operands of a relational expression (``${{$a} == {b} ? ...}``) are expanded afresh, from
#: level 0, as Postfix 3.x does.
MAX_NESTING = 100

#: A piece of a value still to walk: text[start:end] at this Postfix nesting level, inside
#: the outermost ``$...`` at (start, end) (None at the top of the value).
_Region = tuple[int, int, int, tuple[int, int] | None]


class _Scan:
    """One walk over a value: its references, and where it nests too deeply for Postfix.

    The walk keeps the pieces still to visit on a list rather than on Python's call stack,
    so that any depth of nesting costs memory in proportion to the value, never a
    RecursionError; brackets are matched once for the whole value, so that deep nesting
    costs no more than one pass per bracket.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.found: list[Reference] = []
        self.too_deep: tuple[int, int] | None = None
        self._closing: dict[int, int] | None = None

    def closing(self, i: int, end: int) -> int:
        """Index just after the bracket that closes the one at ``i`` before ``end``, or -1
        (mac_parse() nesting: only brackets of the same kind count)."""
        if self._closing is None:
            self._closing = {}
            waiting: dict[str, list[int]] = {"{": [], "(": []}
            for match in re.finditer(r"[{}()]", self.text):
                ch, at = match.group(), match.start()
                if ch in waiting:
                    waiting[ch].append(at)
                else:
                    opened = waiting["{" if ch == "}" else "("]
                    if opened:
                        self._closing[opened.pop()] = at
        close = self._closing.get(i, -1)
        return close + 1 if 0 <= close < end else -1

    def deep(self, outer: tuple[int, int] | None) -> None:
        if self.too_deep is None and outer is not None:
            self.too_deep = outer

    def walk(self) -> None:
        text = self.text
        todo: list[_Region] = [(0, len(text), 0, None)]
        while todo:
            i, end, level, outer = todo.pop()
            if level > MAX_NESTING:
                if i < end:
                    self.deep(outer)  # text or a reference here is one call too many
                continue
            while i < end:
                if text[i] != "$":
                    i += 1
                    continue
                if i + 1 < end and text[i + 1] == "$":
                    i += 2
                    continue
                start = i
                i += 1
                if i < end and text[i] in "{(":
                    stop = self.closing(i, end)
                    if stop < 0:
                        break  # truncated reference: Postfix gives up on the rest here
                    inner = outer or (start, stop)
                    parts = self._expression(start, i + 1, stop - 1, stop, text[i], level, inner)
                    # the rest of this piece after the inner ones, which come first in order
                    todo.append((stop, end, level, outer))
                    todo.extend((a, b, lev, inner) for a, b, lev in reversed(parts))
                    break
                j = i
                while j < end and _is_name_char(text[j]):
                    j += 1
                if j > i:
                    self.found.append(Reference(text[i:j], start, j, i, j, "$name"))
                    if level + 1 > MAX_NESTING:  # its value is expanded one level down
                        self.deep(outer or (start, j))
                i = j

    def _expression(
        self,
        start: int,
        i: int,
        close: int,
        stop: int,
        open_ch: str,
        level: int,
        outer: tuple[int, int],
    ) -> list[tuple[int, int, int]]:
        """The inside of ``${...}`` or ``$(...)`` spanning text[i:close], at ``level``, inside
        ``outer``: the references it makes, and the pieces inside it still to walk."""
        text = self.text
        j = _skip_space(text, i, close)
        if j < close and text[j] == "{":
            return self._relational(j, close, level)
        name_start = j
        while j < close and _is_name_char(text[j]):
            j += 1
        name_end = j
        k = _skip_space(text, j, close)
        if name_end == name_start:
            return []
        name = text[name_start:name_end]
        if k >= close:
            form = "${name}" if open_ch == "{" else "$(name)"
            self.found.append(Reference(name, start, stop, name_start, name_end, form))
            if level + 1 > MAX_NESTING:  # the value of name is expanded one level down
                self.deep(outer)
            return []
        if text[k] not in "?:":
            return []  # attribute name syntax error: Postfix warns and expands nothing
        form = "${name?value}" if text[k] == "?" else "${name:value}"
        self.found.append(Reference(name, start, stop, name_start, name_end, form))
        return self._results(k, close, level + 1)

    def _results(self, k: int, close: int, level: int) -> list[tuple[int, int, int]]:
        """The ``? value : value`` tail of a conditional, each value plain or in ``{ }``."""
        text = self.text
        parts = []
        while k < close and text[k] in "?:":
            after = k + 1
            k = _skip_space(text, after, close)
            if k < close and text[k] == "{":
                stop = self.closing(k, close)
                if stop < 0:
                    break
                parts.append((k + 1, stop - 1, level))
                k = _skip_space(text, stop, close)
            else:
                parts.append((after, close, level))  # blanks included: Postfix keeps them
                break
        return parts

    def _relational(self, j: int, close: int, level: int) -> list[tuple[int, int, int]]:
        """``{left} op {right} [? {a} : {b}]``, the 3.x expression form."""
        text = self.text
        stop = self.closing(j, close)
        if stop < 0:
            return []
        parts = [(j + 1, stop - 1, 0)]
        k = _skip_space(text, stop, close)
        while k < close and text[k] not in ISSPACE and text[k] != "{":
            k += 1  # the operator: ==, !=, <, <=level, ...
        k = _skip_space(text, k, close)
        if k < close and text[k] == "{":
            stop = self.closing(k, close)
            if stop < 0:
                return parts
            parts.append((k + 1, stop - 1, 0))
            k = _skip_space(text, stop, close)
        return parts + self._results(k, close, level + 1)


def find_references(text: str) -> list[Reference]:
    """Every parameter reference in ``text``, in order, as Postfix's mac_parse()/mac_expand() see them.

    ``$$`` is a literal dollar; a ``$`` followed by neither a name nor a bracket is no reference.
    Both branches of ``?`` / ``:`` and both operands of a relational expression are searched,
    down to Postfix's nesting limit (MAX_NESTING): Postfix expands nothing deeper.
    """
    scan = _Scan(text)
    scan.walk()
    return scan.found


def too_deep(text: str) -> tuple[int, int] | None:
    """The outermost ``$...`` of ``text`` that nests beyond MAX_NESTING, as (start, end), or None.

    Postfix warns "unreasonable macro call nesting" about such a value, and a program that
    expands it stops with "fatal: macro processing error".
    """
    scan = _Scan(text)
    scan.walk()
    return scan.too_deep


# ---------------------------------------------------------------------------------------------
# lookup tables

#: Table types whose name is a list of other tables or entries in ``{ }``.
COMPOSITE_TYPES = frozenset({"pipemap", "unionmap", "randmap"})
#: Table types whose name is ``{ }`` holding the table's own entries.
INLINE_TYPES = frozenset({"inline", "static", "texthash"})
#: Table types that wrap another table reference: ``proxy:hash:/etc/x``.
WRAPPER_TYPES = frozenset({"proxy"})


@attrs.frozen
class LookupTable:
    """A lookup-table reference such as ``hash:/etc/postfix/virtual``.

    ``type`` is the part before the first ``:``; ``name`` the rest as written.  For
    ``proxy:`` the wrapped table is in ``tables``; for ``pipemap:{a, b}`` and
    ``unionmap:{a, b}`` the member tables are; for ``inline:{k=v, ...}`` and
    ``static:{text}`` the entries (as written, braces stripped) are in ``entries``.
    ``start``/``end`` are offsets into the text that was parsed.
    """

    type: str
    name: str
    start: int
    end: int
    tables: tuple[LookupTable, ...] = ()
    entries: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return f"{self.type}:{self.name}"


def _table_type(text: str) -> int | None:
    colon = text.find(":")
    if colon <= 0:
        return None
    head = text[:colon]
    if not (head[0].isascii() and head[0].isalpha()):
        return None
    if not all(ch.isascii() and (ch.isalnum() or ch in "_-") for ch in head):
        return None
    return colon


#: Tables inside tables (``proxy:``, ``pipemap:{...}``) are read this many levels deep and no
#: deeper.  Postfix sets no limit, but real files nest two or three; the limit keeps Python's
#: stack, and the time spent on a crafted value (each level reads the rest of it again: 100
#: levels took 13 s on a 200 KB value), within bounds.
MAX_TABLE_NESTING = 10


def parse_table(text: str, offset: int = 0, *, depth: int = 0) -> LookupTable | None:
    """Parse one ``type:name`` reference; None if ``text`` does not have that shape.

    The tables inside a table more than MAX_TABLE_NESTING levels deep are left unread.
    """
    colon = _table_type(text)
    if colon is None:
        return None
    table_type = text[:colon].lower()
    name = text[colon + 1 :]
    end = offset + len(text)
    name_offset = offset + colon + 1
    inner_depth = depth + 1
    if table_type in WRAPPER_TYPES:
        if inner_depth > MAX_TABLE_NESTING:
            return LookupTable(table_type, name, offset, end)
        inner = parse_table(name, name_offset, depth=inner_depth)
        return LookupTable(table_type, name, offset, end, (inner,) if inner else ())
    inside = strip_braces(name)
    if inside is not None:
        inside_offset = name_offset + name.index(inside) if inside else name_offset + 1
        members = split_list(inside)
        if table_type in COMPOSITE_TYPES:
            if inner_depth > MAX_TABLE_NESTING:
                return LookupTable(table_type, name, offset, end)
            tables = tuple(
                t
                for t in (
                    parse_table(m.text, inside_offset + m.start, depth=inner_depth) for m in members
                )
                if t is not None
            )
            return LookupTable(table_type, name, offset, end, tables)
        entries = tuple(strip_braces(m.text) or m.text for m in members)
        if table_type == "static":
            entries = (inside,)
        return LookupTable(table_type, name, offset, end, entries=entries)
    return LookupTable(table_type, name, offset, end)


def find_tables(text: str) -> list[LookupTable]:
    """Every lookup-table reference among the items of a list value, in order."""
    tables = []
    for item in split_list(text):
        table = parse_table(item.text, item.start)
        if table is not None:
            tables.append(table)
    return tables


#: TLS protocol names as *_tls_protocols lists them, oldest first (postconf(5)).
TLS_PROTOCOLS = ("SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")


def enabled_protocols(value: str) -> set[str] | None:
    """The protocols a ``*_tls_protocols`` value leaves enabled, or None if it cannot be read.

    Separators are blanks, commas and colons.  ``!X`` excludes X; ``>=X`` and ``<=X`` bound
    the range (3.6 and later); a list of plain names enables only those names.
    """
    items = [i for i in re.split(r"[\s,:]+", value) if i]
    if not items:
        return set(TLS_PROTOCOLS)
    lowered = {p.lower(): p for p in TLS_PROTOCOLS}
    enabled = set(TLS_PROTOCOLS)
    positives = set()
    for item in items:
        if item.startswith((">=", "<=")):
            bound = lowered.get(item[2:].lower())
            if bound is None:
                return None
            index = TLS_PROTOCOLS.index(bound)
            keep = TLS_PROTOCOLS[index:] if item.startswith(">=") else TLS_PROTOCOLS[: index + 1]
            enabled &= set(keep)
        elif item.startswith("!"):
            name = lowered.get(item[1:].lower())
            if name is None:
                return None
            enabled.discard(name)
        else:
            name = lowered.get(item.lower())
            if name is None:
                return None
            positives.add(name)
    if positives:
        enabled &= positives
    return enabled


# ---------------------------------------------------------------------------------------------
# host names, addresses, host:port and compatibility levels

#: RFC 1035 limits as util/valid_hostname.h writes them.
VALID_HOSTNAME_LEN = 255
VALID_LABEL_LEN = 63


def hostname_problem(name: str) -> str | None:
    """Why valid_hostname() (util/valid_hostname.c, without DO_WILDCARD) refuses ``name``, in
    the words of its warning, or None when it accepts it.  Letters, digits, ``_`` and ``-``
    make a label (the underscore is allowed: "grr.." says the source); the checks run in
    Postfix's order on the UTF-8 bytes, so the first problem found is the one Postfix logs
    (a character as its byte's number: "invalid character 32(decimal)")."""
    if not name:
        return "empty hostname"
    data = name.encode("utf-8", "surrogateescape")
    label_length = 0
    non_numeric = False
    for index, byte in enumerate(data):
        ch = chr(byte)
        following = chr(data[index + 1]) if index + 1 < len(data) else ""
        if (ch.isascii() and ch.isalnum()) or ch == "_":
            label_length += 1
            if label_length > VALID_LABEL_LEN:
                return "hostname label too long"
            if not ch.isdigit():
                non_numeric = True
        elif ch == ".":
            if label_length == 0 or not following:
                return "misplaced delimiter"
            label_length = 0
        elif ch == "-":
            non_numeric = True
            label_length += 1
            if label_length == 1 or not following or following == ".":
                return "misplaced hyphen"
        else:
            return f"invalid character {byte}(decimal)"
    if not non_numeric:
        return "numeric hostname"
    if len(data) > VALID_HOSTNAME_LEN:
        return f"bad length {len(data)}"
    return None


def alldig(text: str) -> bool:
    """util/alldig.c: ``text`` is not empty and all ASCII digits (str.isdigit() also takes
    other scripts' digits and superscripts, which int() may refuse)."""
    return bool(text) and all("0" <= ch <= "9" for ch in text)


def valid_ipv4_hostaddr(addr: str) -> bool:
    """util/valid_hostname.c, valid_ipv4_hostaddr(): four dot-separated decimal octets of at
    most 255 (leading zeros allowed), and a first octet of 0 only in 0.0.0.0."""
    in_byte = False
    byte_count = byte_value = 0
    for index, ch in enumerate(addr):
        if "0" <= ch <= "9":
            if not in_byte:
                in_byte, byte_value = True, 0
                byte_count += 1
            byte_value = byte_value * 10 + ord(ch) - ord("0")
            if byte_value > 255:
                return False  # "invalid octet value"
        elif ch == ".":
            if not in_byte or index + 1 == len(addr):
                return False  # "misplaced dot"
            if byte_count == 1 and byte_value == 0 and addr.lstrip("0."):
                return False  # "bad initial octet value": 0.0.0.0 is allowed, 0.1.2.3 not
            in_byte = False
        else:
            return False  # "invalid character"
    return byte_count == 4


_HEX_DIGITS = "0123456789abcdefABCDEF"


def valid_ipv6_hostaddr(addr: str) -> bool:
    """util/valid_hostname.c, valid_ipv6_hostaddr(): hex fields of at most four digits
    between at least two and at most seven ``:``, one ``::`` at most, an IPv4 address in
    place of the last fields.  A syntax check only, as lax as Postfix's (``1:2:3`` passes);
    no scope (``%eth0``)."""
    null_field = field = length = 0
    index = 0
    end = len(addr)
    while True:
        if index == end:
            if field < 2:
                return False  # "too few `:'"
            return not (length == 0 and null_field != field - 1)  # "bad null last field"
        ch = addr[index]
        if ch == ".":
            if field < 2 or field > 6:
                return False  # "malformed IPv4-in-IPv6 address"
            return valid_ipv4_hostaddr(addr[index - length :])
        if ch == ":":
            following = addr[index + 1 : index + 2]
            if field == 0 and length == 0 and following.isascii() and following.isalnum():
                return False  # "bad null first field"
            field += 1
            if field > 7:
                return False  # "too many `:'"
            index += 1
            length = 0
            if addr[index : index + 1] == ":":
                if null_field > 0:
                    return False  # "too many `::'"
                null_field = field
            continue
        length = len(addr[index:]) - len(addr[index:].lstrip(_HEX_DIGITS))
        if length == 0 or length > 4:
            return False  # "invalid character" or "malformed IPv6 address"
        index += length


def valid_hostaddr(addr: str) -> bool:
    """util/valid_hostname.c, valid_hostaddr(): with a ``:`` an IPv6 address, else IPv4."""
    if not addr:
        return False
    return valid_ipv6_hostaddr(addr) if ":" in addr else valid_ipv4_hostaddr(addr)


def valid_utf8_hostname(name: str) -> bool:
    """util/valid_utf8_hostname.c, valid_utf8_hostname(): valid_hostname() for an ASCII name.

    Postfix takes a name with other characters only with SMTPUTF8 on, when IDNA (UTS 46,
    util/midna_domain.c) converts it to a name that passes valid_hostname().  pflint does
    not convert: it refuses only what no conversion repairs (an empty label between ASCII
    dots, an ASCII character valid_hostname() refuses, an all-ASCII label too long or with a
    hyphen at an end), so it never refuses a name Postfix would take."""
    if name.isascii():
        return hostname_problem(name) is None
    for label in name.split("."):
        if not label or any(ch.isascii() and not (ch.isalnum() or ch in "-_") for ch in label):
            return False
        if label.isascii() and (len(label) > VALID_LABEL_LEN or "-" in (label[0], label[-1])):
            return False
    return True


@attrs.frozen
class HostPort:
    """A host and a port as host_port() splits them: ``host`` without its brackets or
    ``IPv6:`` prefix (the caller's default host when none is written), ``port`` a service
    name or number (the caller's default when none is written), ``bracketed`` when the host
    was written as ``[host]``."""

    host: str
    port: str
    bracketed: bool = False


def host_port(
    text: str, default_host: str | None = None, default_service: str | None = None
) -> HostPort | str:
    """util/host_port.c, host_port(): ``text`` split into host and port, or the problem in
    Postfix's words ("missing service information", ...).

    Clients pass a default service and no default host (smtp_connect.c,
    smtp_parse_destination(): ``[host]:port``, ``[host]:``, ``[host]``, ``host:port``,
    ``host:``, ``host``); master passes the default host "" and no default service
    (master_ent.c, get_master_ent() for inet services: ``host:port``, ``:port``, ``port``).
    The last ``:`` splits an unbracketed text.  A written host must pass
    valid_utf8_hostname() or valid_hostaddr(), and a written port that starts with a digit
    must be all digits; a default is not checked."""
    host: str | None
    port: str | None
    host_written = port_written = True
    bracketed = text.startswith("[")
    if bracketed:
        inner = text[1:]
        ipv6 = inner[:5].lower() == "ipv6:"
        if ipv6:
            inner = inner[5:]
        host, close, rest = inner.partition("]")
        if not close:
            return 'missing "]"'
        if rest and rest[0] != ":":
            return 'garbage after "]"'
        if ipv6 and not valid_ipv6_hostaddr(host):
            return "malformed IPv6 address"
        port = rest[1:] or default_service
        port_written = bool(rest[1:])
    else:
        before, colon, after = text.rpartition(":")
        if colon:
            host = before or default_host
            port = after or default_service
            host_written, port_written = bool(before), bool(after)
        else:
            host = default_host if default_host is not None else (text or None)
            port = default_service if default_service is not None else (text or None)
            host_written, port_written = default_host is None, default_service is None
    if host is None:
        return "missing host information"
    if port is None:
        return "missing service information"
    if host_written and not valid_utf8_hostname(host) and not valid_hostaddr(host):
        return "valid hostname or network address required"
    if port_written and "0" <= port[0] <= "9" and not alldig(port):
        return "garbage after numerical service"
    return HostPort(host, port, bracketed)


def _strtol(text: str, start: int) -> tuple[int, int] | None:
    """C's strtol() in base 10 from ``start``: (value, position after it), or None when no
    digits follow (leading blanks and one sign are skipped, as strtol() does)."""
    i = start
    while i < len(text) and text[i] in ISSPACE:
        i += 1
    sign = 1
    if i < len(text) and text[i] in "+-":
        sign = -1 if text[i] == "-" else 1
        i += 1
    digits = i
    while i < len(text) and "0" <= text[i] <= "9":
        i += 1
    if i == digits:
        return None
    significant = text[digits:i].lstrip("0")
    if len(significant) > 19:
        # past LONG_MAX (strtol() clamps, with ERANGE), and beyond what int() converts
        return sign * 2**63, i
    return sign * int(significant or "0"), i


#: global/compat_level.c: a level is major[.minor[.patch]], minor and patch at most 1023
#: (10 bits each), major what a long holds after them.
_COMPAT_FIELD_MAX = (2**63 - 1 >> 20, 0x3FF, 0x3FF)


def compatibility_level(text: str) -> tuple[int, int, int] | None:
    """``text`` as compat_level_from_string() reads it (Postfix 3.6 and later), or None when
    Postfix says "malformed compatibility level syntax"."""
    fields: list[int] = []
    position = 0
    for index, limit in enumerate(_COMPAT_FIELD_MAX):
        found = _strtol(text, position)
        if found is None:
            return None
        value, position = found
        if not 0 <= value <= limit:
            return None
        fields.append(value)
        if position == len(text):
            return (fields + [0, 0])[0], (fields + [0, 0])[1], (fields + [0, 0])[2]
        if text[position] != "." or index == 2:
            return None
        position += 1
    return None
