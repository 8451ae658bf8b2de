"""What Postfix sees inside a parameter value: list items, $name references, lookup tables.

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


def _balanced(text: str, i: int, end: int, open_ch: str, close_ch: str) -> int:
    """Index just after the bracket that closes the one at ``i``, or -1 (mac_parse() nesting)."""
    level = 0
    while i < end:
        ch = text[i]
        if ch == open_ch:
            level += 1
        elif ch == close_ch:
            level -= 1
            if level == 0:
                return i + 1
        i += 1
    return -1


def find_references(text: str) -> list[Reference]:
    """Every parameter reference in ``text``, in order, as Postfix's mac_parse()/mac_expand() see them.

    ``$$`` is a literal dollar; a ``$`` followed by neither a name nor a bracket is no reference.
    Both branches of ``?`` / ``:`` and both operands of a relational expression are searched.
    """
    found: list[Reference] = []
    _scan(text, 0, len(text), found)
    return found


def _scan(text: str, i: int, end: int, found: list[Reference]) -> None:
    while i < end:
        ch = text[i]
        if ch != "$":
            i += 1
            continue
        if i + 1 < end and text[i + 1] == "$":
            i += 2
            continue
        start = i
        i += 1
        if i < end and text[i] in "{(":
            open_ch = text[i]
            close_ch = "}" if open_ch == "{" else ")"
            stop = _balanced(text, i, end, open_ch, close_ch)
            if stop < 0:
                return  # truncated reference: Postfix gives up on the rest of the value
            _expression(text, start, i + 1, stop - 1, stop, open_ch, found)
            i = stop
        else:
            j = i
            while j < end and _is_name_char(text[j]):
                j += 1
            if j > i:
                found.append(Reference(text[i:j], start, j, i, j, "$name"))
            i = j


def _expression(
    text: str, start: int, i: int, close: int, stop: int, open_ch: str, found: list[Reference]
) -> None:
    """The inside of ``${...}`` or ``$(...)`` spanning text[i:close]."""
    j = _skip_space(text, i, close)
    if j < close and text[j] == "{":
        _relational(text, j, close, found)
        return
    name_start = j
    while j < close and _is_name_char(text[j]):
        j += 1
    name_end = j
    k = _skip_space(text, j, close)
    if name_end == name_start:
        return
    if k >= close:
        form = "${name}" if open_ch == "{" else "$(name)"
        found.append(Reference(text[name_start:name_end], start, stop, name_start, name_end, form))
        return
    if text[k] not in "?:":
        return  # attribute name syntax error: Postfix warns and expands nothing
    form = "${name?value}" if text[k] == "?" else "${name:value}"
    found.append(Reference(text[name_start:name_end], start, stop, name_start, name_end, form))
    _results(text, k, close, found)


def _results(text: str, k: int, close: int, found: list[Reference]) -> None:
    """The ``? value : value`` tail of a conditional, each value plain or in ``{ }``."""
    while k < close and text[k] in "?:":
        k = _skip_space(text, k + 1, close)
        if k < close and text[k] == "{":
            stop = _balanced(text, k, close, "{", "}")
            if stop < 0:
                return
            _scan(text, k + 1, stop - 1, found)
            k = _skip_space(text, stop, close)
        else:
            _scan(text, k, close, found)
            return


def _relational(text: str, j: int, close: int, found: list[Reference]) -> None:
    """``{left} op {right} [? {a} : {b}]``, the 3.x expression form."""
    stop = _balanced(text, j, close, "{", "}")
    if stop < 0:
        return
    _scan(text, j + 1, stop - 1, found)
    k = _skip_space(text, stop, close)
    while k < close and text[k] not in ISSPACE and text[k] != "{":
        k += 1  # the operator: ==, !=, <, <=level, ...
    k = _skip_space(text, k, close)
    if k < close and text[k] == "{":
        stop = _balanced(text, k, close, "{", "}")
        if stop < 0:
            return
        _scan(text, k + 1, stop - 1, found)
        k = _skip_space(text, stop, close)
    _results(text, k, close, found)


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


def parse_table(text: str, offset: int = 0) -> LookupTable | None:
    """Parse one ``type:name`` reference; None if ``text`` does not have that shape."""
    colon = _table_type(text)
    if colon is None:
        return None
    table_type = text[:colon].lower()
    name = text[colon + 1 :]
    end = offset + len(text)
    name_offset = offset + colon + 1
    if table_type in WRAPPER_TYPES:
        inner = parse_table(name, name_offset)
        return LookupTable(table_type, name, offset, end, (inner,) if inner else ())
    inside = strip_braces(name)
    if inside is not None:
        inside_offset = name_offset + name.index(inside) if inside else name_offset + 1
        members = split_list(inside)
        if table_type in COMPOSITE_TYPES:
            tables = tuple(
                t
                for t in (parse_table(m.text, inside_offset + m.start) for m in members)
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
