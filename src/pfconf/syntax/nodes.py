"""The concrete syntax tree of main.cf and master.cf: frozen attrs nodes that own every byte.

Nodes only hold text; what the text means to Postfix (names, values, services) lives in
pfconf.model.  Line numbers are kept for messages but left out of equality, so trees compare
by content.
"""

from __future__ import annotations

import attrs


@attrs.frozen
class BlankLine:
    """A line of blanks only.  Owns its blanks (``text``) and its line ending."""

    text: str
    eol: str
    line: int = attrs.field(default=0, eq=False)

    def dump(self) -> str:
        return self.text + self.eol

    def moved(self, lines: int) -> BlankLine:
        """The same line, ``lines`` further down the file (an editor added lines above it)."""
        return BlankLine(self.text, self.eol, self.line + lines)


@attrs.frozen
class CommentLine:
    """A comment line: optional blanks, ``#`` and the rest.  Owns all of it and its line ending.

    Postfix has no trailing comments: ``x = y # z`` is a value, not an entry and a comment.
    """

    text: str
    eol: str
    line: int = attrs.field(default=0, eq=False)

    def dump(self) -> str:
        return self.text + self.eol

    def moved(self, lines: int) -> CommentLine:
        return CommentLine(self.text, self.eol, self.line + lines)


@attrs.frozen
class ContinuationLine:
    """A physical line that continues the entry above it.

    Owns its leading blanks (``indent``), its text and its line ending.  In main.cf the text is
    part of the value; in master.cf it holds more fields or arguments.
    """

    indent: str
    text: str
    eol: str
    line: int = attrs.field(default=0, eq=False)

    def dump(self) -> str:
        return self.indent + self.text + self.eol

    def moved(self, lines: int) -> ContinuationLine:
        return ContinuationLine(self.indent, self.text, self.eol, self.line + lines)

    @property
    def content(self) -> str:
        """The characters Postfix's readllines() keeps of this line (a CRLF's ``\\r`` stays)."""
        return self.indent + self.text + _cr(self.eol)


#: What may follow the head line of an entry or service: its continuation lines and the
#: comment and blank lines between them.
Inner = ContinuationLine | CommentLine | BlankLine


@attrs.frozen
class Entry:
    """One ``name = value`` definition of main.cf, over one or more physical lines.

    Owns the name, the blanks before and after ``=`` (``before_eq``, ``after_eq``), the value
    text of the head line (``head_value``, trailing blanks included) and its line ending, then
    every continuation line and every comment or blank line between them (``inner``).  When
    ``=`` is not on the head line (``name`` alone, ``= value`` on the next line, which Postfix
    accepts), ``equals`` is empty and the ``=`` lives in a continuation line.
    """

    name: str
    before_eq: str
    equals: str
    after_eq: str
    head_value: str
    eol: str
    inner: tuple[Inner, ...] = ()
    line: int = attrs.field(default=0, eq=False)

    def dump(self) -> str:
        head = self.name + self.before_eq + self.equals + self.after_eq + self.head_value
        return head + self.eol + "".join(node.dump() for node in self.inner)

    def moved(self, lines: int) -> Entry:
        inner = tuple(node.moved(lines) for node in self.inner)
        return Entry(
            self.name,
            self.before_eq,
            self.equals,
            self.after_eq,
            self.head_value,
            self.eol,
            inner,
            self.line + lines,
        )

    @property
    def head_content(self) -> str:
        """The head line as Postfix's readllines() keeps it."""
        return (
            self.name
            + self.before_eq
            + self.equals
            + self.after_eq
            + self.head_value
            + _cr(self.eol)
        )

    @property
    def continuations(self) -> tuple[ContinuationLine, ...]:
        return tuple(node for node in self.inner if isinstance(node, ContinuationLine))


@attrs.frozen
class ServiceEntry:
    """One master.cf service definition, over one or more physical lines.

    Owns the head line (``head``: the service name and everything after it on that line, and
    its line ending ``eol``), then every continuation line and every comment or blank line
    between them (``inner``).  Fields and arguments are read from these by pfconf.model.
    """

    head: str
    eol: str
    inner: tuple[Inner, ...] = ()
    line: int = attrs.field(default=0, eq=False)

    def dump(self) -> str:
        return self.head + self.eol + "".join(node.dump() for node in self.inner)

    def moved(self, lines: int) -> ServiceEntry:
        inner = tuple(node.moved(lines) for node in self.inner)
        return ServiceEntry(self.head, self.eol, inner, self.line + lines)

    @property
    def head_content(self) -> str:
        return self.head + _cr(self.eol)


@attrs.frozen
class Orphan:
    """Indented lines before the first entry of a file.

    Postfix cannot tell what they continue, so it skips them with the warning "logical line
    must not start with whitespace".  Owns those lines and the comment and blank lines among
    them.
    """

    inner: tuple[Inner, ...]
    line: int = attrs.field(default=0, eq=False)

    def dump(self) -> str:
        return "".join(node.dump() for node in self.inner)

    def moved(self, lines: int) -> Orphan:
        return Orphan(tuple(node.moved(lines) for node in self.inner), self.line + lines)


MainNode = BlankLine | CommentLine | Entry | Orphan
MasterNode = BlankLine | CommentLine | ServiceEntry | Orphan


def _cr(eol: str) -> str:
    # readllines() stops at "\n" only, so the "\r" of a CRLF ending stays in the line's text.
    return "\r" if eol == "\r\n" else ""
