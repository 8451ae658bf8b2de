"""Turn main.cf and master.cf text into syntax nodes with the grammars in grammar/.

Lark compiles grammar/*.lark into LALR(1) tables at development time (tools/gen_parser.py
writes them to _tables.py); this module drives those tables.  Importing Lark and analysing
the grammars took longer than linting a small file, and Lark's tree, built and then turned
into nodes, cost more than the nodes themselves.  Here the nodes are made as the parser goes:
a comment, blank or continuation line becomes its node when it is shifted, and an entry when
its rule is reduced.

Every terminal is a whole physical line (see grammar/common.lark), so the lexer is one
regular expression over the text and a line's number is its token's position.  Callers get
pfconf.syntax.nodes objects or a pfconf.errors.ParseError.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ..errors import ParseError
from ._tables import MAIN_HEAD_PARTS, TABLES
from .nodes import (
    BlankLine,
    CommentLine,
    ContinuationLine,
    Entry,
    Inner,
    Orphan,
    ServiceEntry,
)

_BLANKS = " \t\v\f\r"

#: A line no terminal matches: the syntax error (only main.cf has lines that can be one).
_ERROR = "ERROR"


class _Grammar:
    """One grammar's tables and lexer, made ready for the driver once per process."""

    def __init__(self, kind: str) -> None:
        table = TABLES[kind]
        self.kind = kind
        self.states: tuple[dict[str, int], ...] = table["states"]
        self.rules: tuple[tuple[str, int], ...] = table["rules"]
        self.start: int = table["start"]
        self.accept: int = table["accept"]
        patterns = dict(table["terminals"])
        if kind == "main":
            # The same language as HEAD, with a group for each part of the line.
            patterns["HEAD"] = MAIN_HEAD_PARTS
        # The commonest lines first; the kinds never overlap, so the order changes nothing
        # else.  A line that fits none is caught whole, to be reported.
        order = ["HEAD", "CONT", "COMMENT", "BLANK"]
        assert sorted(order) == sorted(patterns), "a terminal the driver does not know"
        alternatives = [f"(?P<{name}>{patterns[name]})" for name in order]
        alternatives.append(f"(?P<{_ERROR}>[^\\n]*\\n)")
        self.lexer = re.compile("|".join(alternatives))
        self.head_group = self.lexer.groupindex["HEAD"]


_GRAMMARS: dict[str, _Grammar] = {}


def _grammar(kind: str) -> _Grammar:
    grammar = _GRAMMARS.get(kind)
    if grammar is None:
        grammar = _GRAMMARS[kind] = _Grammar(kind)
    return grammar


def _text_eol(line: str, last: bool) -> tuple[str, str]:
    """A line's text and its ending: ``"\\n"``, ``"\\r\\n"``, or ``""`` for a last line the
    loader completed (the ``"\\n"`` it appended is not the user's, nor is a ``"\\r"`` before
    it an ending)."""
    text = line[:-1]
    if last:
        return text, ""
    if text.endswith("\r"):
        return text[:-1], "\r\n"
    return text, "\n"


def _split_indent(text: str) -> tuple[str, str]:
    rest = text.lstrip(_BLANKS)
    return text[: len(text) - len(rest)], rest


def _gather(inner: list[Any]) -> tuple[tuple[Inner, ...], list[Any]]:
    """Split an entry's following lines into its own and the stand-alone ones after it.

    Postfix's reader consumes comment and blank lines after a value too, but they belong to no
    value; giving them to the document keeps one owner per byte that an editor can move.
    """
    last = len(inner)
    while last and not isinstance(inner[last - 1], ContinuationLine):
        last -= 1
    return tuple(inner[:last]), inner[last:]


def _build_entry(children: list[Any], head_group: int) -> list[Any]:
    match, line, last = children[0]
    name, before_eq, equals, after_eq, value = match.group(
        head_group + 1, head_group + 2, head_group + 3, head_group + 4, head_group + 5
    )
    # "=" and what follows it are an optional group: None when the line has no "="
    parts = [before_eq, equals or "", after_eq or "", value or ""]
    eol = ""
    if not last:
        eol = "\n"
        # The "\r" of a CRLF ending sits at the end of the last part that has text.
        for index in (3, 2, 1, 0):
            if parts[index]:
                if parts[index].endswith("\r"):
                    parts[index] = parts[index][:-1]
                    eol = "\r\n"
                break
    own, after = _gather(children[1:])
    entry = Entry(name, parts[0], parts[1], parts[2], parts[3], eol, own, line)
    return [entry, *after]


def _build_service(children: list[Any], head_group: int) -> list[Any]:
    match, line, last = children[0]
    head, eol = _text_eol(match.group(), last)
    own, after = _gather(children[1:])
    return [ServiceEntry(head, eol, own, line), *after]


def _build_orphan(children: list[Any], head_group: int) -> list[Any]:
    own, after = _gather(children)
    return [Orphan(own, own[0].line), *after]


def _build_start(children: list[Any], head_group: int) -> list[Any]:
    return children


_BUILDERS: dict[str, Callable[[list[Any], int], list[Any]]] = {
    "entry": _build_entry,
    "service": _build_service,
    "orphan": _build_orphan,
    "start": _build_start,
}


def parse_lines(text: str, kind: str, path: str | None = None, first_line: int = 1) -> list[Any]:
    """Parse the text of a main.cf (``kind="main"``) or master.cf (``"master"``) into nodes.

    Raises ParseError for what the grammar cannot read: a line that starts with ``=`` or a
    NUL in main.cf, a name followed by text other than ``=``.  Errors that need the whole
    logical line (``name`` with no ``=`` anywhere) are found by pfconf.model.

    ``first_line`` is the line number of the text's first line: the editor re-reads a part of
    a file that starts with an entry, and the nodes then carry their lines in the file.
    """
    appended = not text.endswith("\n")
    source = text + "\n" if appended else text
    return _parse(source, appended, kind, path, first_line)


def _parse(source: str, appended: bool, kind: str, path: str | None, line: int) -> list[Any]:
    grammar = _grammar(kind)
    states = grammar.states
    rules = grammar.rules
    head_group = grammar.head_group
    end = len(source)
    stack = [grammar.start]
    values: list[Any] = []

    def reduce(rule: int) -> None:
        origin, size = rules[rule]
        if size:
            popped = values[-size:]
            del values[-size:]
            del stack[-size:]
        else:
            popped = []
        # Lark's tree semantics: rules named with "_" (and the lists Lark makes for "*")
        # are spliced into the rule above them; named rules build nodes.
        first = popped[0] if popped else None
        if type(first) is list:
            result = first
            rest = popped[1:]
        else:
            result = []
            rest = popped
        for value in rest:
            if type(value) is list:
                result.extend(value)
            else:
                result.append(value)
        if origin[0] != "_":
            result = _BUILDERS[origin](result, head_group)
        values.append(result)
        stack.append(states[stack[-1]][origin])

    for match in grammar.lexer.finditer(source):
        symbol = match.lastgroup
        last = appended and match.end() == end
        value: Any
        if symbol == "HEAD":
            value = (match, line, last)
        elif symbol == "CONT":
            text, eol = _text_eol(match.group(), last)
            indent, rest = _split_indent(text)
            value = ContinuationLine(indent, rest, eol, line)
        elif symbol == "COMMENT":
            text, eol = _text_eol(match.group(), last)
            value = CommentLine(text, eol, line)
        elif symbol == "BLANK":
            text, eol = _text_eol(match.group(), last)
            value = BlankLine(text, eol, line)
        else:
            raise _error(match.group()[:-1], kind, path, line)
        while True:
            action = states[stack[-1]][symbol]
            if action >= 0:
                stack.append(action)
                values.append(value)
                break
            reduce(~action)
        line += 1
    while stack[-1] != grammar.accept:
        reduce(~states[stack[-1]]["$END"])
    result: list[Any] = values[-1]
    return result


_NAME_AT = re.compile(r"[^ \t\v\f\r\n=\x00]*")
_BLANKS_AT = re.compile(r"[ \t\v\f\r]*")


def _error(physical: str, kind: str, path: str | None, line: int) -> ParseError:
    """Name the situation Postfix itself would report, in an administrator's words.

    Only a main.cf line that starts with neither a blank nor ``#`` can fit no terminal: one
    that starts with ``=`` (or a NUL), or a name followed by something other than ``=``.
    The column is where the head line stops fitting, after the name and its blanks.
    """
    physical = physical.removesuffix("\r")
    name = _NAME_AT.match(physical)
    name_end = name.end() if name else 0
    if kind != "main":  # pragma: no cover - every line fits a master.cf terminal
        return ParseError("unexpected text", path=path, line=line, column=1, text=physical)
    if name_end == 0:
        return ParseError("missing parameter name", path=path, line=line, column=1, text=physical)
    blanks = _BLANKS_AT.match(physical, name_end)
    column = (blanks.end() if blanks else name_end) + 1
    message = f"missing '=' after parameter name \"{physical[:name_end]}\""
    return ParseError(message, path=path, line=line, column=column, text=physical)
