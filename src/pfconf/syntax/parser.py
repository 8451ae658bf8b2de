"""Turn main.cf and master.cf text into syntax nodes with the Lark grammars in grammar/.

This is the one module that sees Lark: its trees and exceptions stop here, and callers get
pfconf.syntax.nodes objects or a pfconf.errors.ParseError.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any, cast

import lark

from ..errors import ParseError
from ..resources import grammar_dir
from .nodes import (
    BlankLine,
    CommentLine,
    ContinuationLine,
    Entry,
    Inner,
    MainNode,
    MasterNode,
    Orphan,
    ServiceEntry,
)


@functools.cache
def _parser(kind: str) -> lark.Lark:
    # Built once per process: LALR tables for these small grammars take a few milliseconds, but
    # lint and edit runs parse many files.
    path = Path(grammar_dir()) / f"{kind}.lark"
    return lark.Lark.open(
        str(path),
        parser="lalr",
        lexer="contextual",
        strict=True,
        maybe_placeholders=False,
        propagate_positions=False,
    )


class _Lines:
    """Per-parse state shared by the tree builders: where the text ends, its line ending, and
    the line number of its first line in the file."""

    def __init__(self, text: str, appended_eol: bool, first_line: int = 1) -> None:
        self.end = len(text)
        self.appended_eol = appended_eol
        self.offset = first_line - 1

    def eol(self, token: lark.Token) -> str:
        # The loader appended the final "\n" when the file had none; it is not the user's.
        if self.appended_eol and token.end_pos == self.end:
            return ""
        return "\n"

    def number(self, token: lark.Token) -> int:
        return (token.line or 0) + self.offset


def _split_cr(parts: list[str], eol: str) -> tuple[list[str], str]:
    """Move the ``\\r`` of a CRLF line ending from the line's last text into its ending."""
    if eol == "\n" and parts and parts[-1].endswith("\r"):
        parts[-1] = parts[-1][:-1]
        return parts, "\r\n"
    return parts, eol


Gap = CommentLine | BlankLine


def _inner_line(lines: _Lines, tree: lark.Tree[Any]) -> Inner:
    kind = tree.data
    tokens = cast(list[lark.Token], tree.children)  # an inner line's children are all tokens
    first = tokens[0]
    parts, eol = _split_cr([str(t) for t in tokens[:-1]], lines.eol(tokens[-1]))
    if kind == "comment_line":
        return CommentLine(parts[0], eol, line=lines.number(first))
    if kind == "blank_line":
        return BlankLine(parts[0] if parts else "", eol, line=lines.number(first))
    # value_line / arg_line: INDENT, then the text (one VALUE, or words and blanks)
    return ContinuationLine(parts[0], "".join(parts[1:]), eol, line=lines.number(first))


def _gap_line(lines: _Lines, tree: lark.Tree[Any]) -> Gap:
    node = _inner_line(lines, tree)
    assert not isinstance(node, ContinuationLine)
    return node


def _gather(lines: _Lines, children: list[Any]) -> tuple[list[Inner], list[Gap]]:
    """Split an entry's following lines into its own and the stand-alone ones after it.

    Postfix's reader consumes comment and blank lines after a value too, but they belong to no
    value; giving them to the document keeps one owner per byte that an editor can move.
    """
    inner = [_inner_line(lines, child) for child in children]
    last = len(inner)
    while last and not isinstance(inner[last - 1], ContinuationLine):
        last -= 1
    after = [node for node in inner[last:] if not isinstance(node, ContinuationLine)]
    return inner[:last], after


def _build_main(lines: _Lines, tree: lark.Tree[Any]) -> list[MainNode]:
    nodes: list[MainNode] = []
    for child in tree.children:
        kind = child.data
        if kind in ("comment_line", "blank_line"):
            nodes.append(_gap_line(lines, child))
        elif kind == "orphan":
            nodes.extend(_orphan(lines, child))
        else:
            tokens: list[lark.Token] = []
            rest: list[Any] = []
            for item in child.children:
                if isinstance(item, lark.Token):
                    tokens.append(item)
                else:
                    rest.append(item)
            nodes.extend(_entry(lines, tokens, rest))
    return nodes


def _orphan(lines: _Lines, tree: lark.Tree[Any]) -> list[Orphan | Gap]:
    own, after = _gather(lines, tree.children)
    return [Orphan(tuple(own), line=own[0].line), *after]


def _entry(lines: _Lines, tokens: list[lark.Token], rest: list[Any]) -> list[MainNode]:
    name = str(tokens[0])
    before_eq = equals = after_eq = value = ""
    seen_eq = False
    for token in tokens[1:-1]:
        if token.type == "EQUAL":
            equals = "="
            seen_eq = True
        elif token.type == "SP":
            if seen_eq:
                after_eq = str(token)
            else:
                before_eq = str(token)
        else:
            value = str(token)
    parts = [before_eq, equals, after_eq, value]
    # The "\r" of a CRLF ending sits in the last non-empty part of the head line.
    last = max((i for i, p in enumerate(parts) if p), default=-1)
    if last >= 0:
        tail, eol = _split_cr([parts[last]], lines.eol(tokens[-1]))
        parts[last] = tail[0]
    else:
        name_parts, eol = _split_cr([name], lines.eol(tokens[-1]))
        name = name_parts[0]
    own, after = _gather(lines, rest)
    entry = Entry(
        name, parts[0], parts[1], parts[2], parts[3], eol, tuple(own), line=lines.number(tokens[0])
    )
    result: list[MainNode] = [entry]
    result.extend(after)
    return result


def _build_master(lines: _Lines, tree: lark.Tree[Any]) -> list[MasterNode]:
    nodes: list[MasterNode] = []
    for child in tree.children:
        kind = child.data
        if kind in ("comment_line", "blank_line"):
            nodes.append(_gap_line(lines, child))
        elif kind == "orphan":
            nodes.extend(_orphan(lines, child))
        else:
            head_tokens = []
            rest = []
            for item in child.children:
                if isinstance(item, lark.Token):
                    head_tokens.append(item)
                else:
                    rest.append(item)
            parts, eol = _split_cr([str(t) for t in head_tokens[:-1]], lines.eol(head_tokens[-1]))
            own, after = _gather(lines, rest)
            nodes.append(
                ServiceEntry("".join(parts), eol, tuple(own), line=lines.number(head_tokens[0]))
            )
            nodes.extend(after)
    return nodes


#: Text is handed to Lark in pieces of about this many characters: Lark's tree for a piece is
#: much larger than the nodes built from it, and building it for a whole 50 MB file at once
#: took gigabytes.
CHUNK = 1 << 18

# Where a piece may end: before a line that starts a new entry (or service).  Whatever comes
# before such a line cannot change how it and the lines after it are read.
_HEAD_LINE = re.compile(r"\n(?=[^ \t\v\f\r\n#])")


def parse_lines(text: str, kind: str, path: str | None = None, first_line: int = 1) -> list[Any]:
    """Parse the text of a main.cf (``kind="main"``) or master.cf (``"master"``) into nodes.

    Raises ParseError for what the grammar cannot read: a line that starts with ``=`` or a
    NUL in main.cf, a name followed by text other than ``=``.  Errors that need the whole
    logical line (``name`` with no ``=`` anywhere) are found by pfconf.model.

    ``first_line`` is the line number of the text's first line: the editor re-reads a part of
    a file that starts with an entry, and the nodes then carry their lines in the file.
    """
    if len(text) <= CHUNK:
        return _parse_piece(text, kind, path, first_line)
    nodes: list[Any] = []
    start = 0
    while start < len(text):
        found = _HEAD_LINE.search(text, start + CHUNK)
        end = found.end() if found else len(text)
        nodes += _parse_piece(text[start:end], kind, path, first_line)
        first_line += text.count("\n", start, end)
        start = end
    return nodes


def _parse_piece(text: str, kind: str, path: str | None, first_line: int) -> list[Any]:
    appended = not text.endswith("\n")
    source = text + "\n" if appended else text
    try:
        tree = _parser(kind).parse(source)
    except lark.exceptions.UnexpectedInput as exc:
        raise _error(source, kind, path, exc, first_line) from None
    lines = _Lines(source, appended, first_line)
    if kind == "main":
        return _build_main(lines, tree)
    return _build_master(lines, tree)


_NAME_AT = re.compile(r"[^ \t\v\f\r\n=\x00]*")


def _error(
    source: str, kind: str, path: str | None, exc: lark.exceptions.UnexpectedInput, first_line: int
) -> ParseError:
    """Name the situation Postfix itself would report, in an administrator's words."""
    line_no = (exc.line if exc.line > 0 else 1) + first_line - 1
    column = exc.column if exc.column > 0 else 1
    start = (
        source.rfind("\n", 0, exc.pos_in_stream or 0) + 1 if exc.pos_in_stream is not None else 0
    )
    end = source.find("\n", start)
    physical = source[start : end if end >= 0 else len(source)].rstrip("\r")
    offset = column - 1
    if kind == "main":
        if offset == 0:
            message = "missing parameter name"
        else:
            match = _NAME_AT.match(physical)
            name = match.group(0) if match else physical[:offset].strip()
            message = f"missing '=' after parameter name \"{name}\""
    else:
        message = "unexpected text"
    return ParseError(message, path=path, line=line_no, column=column, text=physical)
