"""main.cf and master.cf as Postfix reads them: documents over the syntax tree.

MainCf and MasterCf own the node tuples from pfconf.syntax and answer what Postfix would make
of them (effective values, services, overrides), with file positions for every answer.  The
reading rules follow Postfix 3.x: readllines() joins a logical line, split_nameval() splits
``name = value``, argv_splitq() splits a service line.  Nothing here edits or writes files.
"""

from __future__ import annotations

import functools

import attrs

from ._shared import ByIdentity
from .errors import ParseError
from .syntax.nodes import (
    ContinuationLine,
    Entry,
    MainNode,
    MasterNode,
    Orphan,
    ServiceEntry,
)
from .values import BLANKS, ISSPACE, Token, split_list, strip_braces


@attrs.frozen
class Span:
    """A range in a file: 1-based ``line`` and ``column``; ``end_column`` is just past the end.

    Columns count characters of the decoded text (a byte that is not UTF-8 counts as one).
    """

    line: int
    column: int
    end_line: int
    end_column: int


@attrs.frozen
class Item:
    """One item of a list value, such as ``reject_rbl_client list.dsbl.org``'s words, with its span."""

    text: str
    span: Span


@attrs.frozen
class PhysicalLine:
    """One physical line of an entry's value: its number, the text Postfix keeps, and its span."""

    text: str
    span: Span


class _Segments:
    """Maps offsets in a joined logical line back to physical lines and columns."""

    def __init__(self, pieces: list[tuple[int, str]]) -> None:
        # pieces: (line number, text that line contributes), in order
        self.starts: list[int] = []
        self.lines: list[int] = []
        self.texts: list[str] = []
        offset = 0
        for line, text in pieces:
            self.starts.append(offset)
            self.lines.append(line)
            self.texts.append(text)
            offset += len(text)
        self.joined = "".join(self.texts)

    def position(self, offset: int, end: bool = False) -> tuple[int, int]:
        """(line, column) of ``offset``; with ``end``, an offset at a line break stays on that line."""
        import bisect

        index = bisect.bisect_right(self.starts, offset) - 1
        if end and index > 0 and offset == self.starts[index]:
            index -= 1
        index = max(index, 0)
        return self.lines[index], offset - self.starts[index] + 1

    def span(self, start: int, end: int) -> Span:
        line, column = self.position(start)
        end_line, end_column = self.position(end, end=True)
        return Span(line, column, end_line, end_column)


def _cut_nul(text: str) -> str:
    # Postfix handles the logical line as a C string: a NUL ends it.
    nul = text.find("\x00")
    return text if nul < 0 else text[:nul]


def split_nameval(logical: str) -> tuple[str | None, int, int, int, int]:
    """Postfix's split_nameval(): (error, name start, name end, value start, value end)."""
    n = len(logical)
    i = 0
    while i < n and logical[i] in ISSPACE:
        i += 1
    if i >= n or logical[i] == "=":
        return "missing parameter name", i, i, i, i
    name_start = i
    while i < n and logical[i] not in ISSPACE and logical[i] != "=":
        i += 1
    name_end = i
    while i < n and logical[i] in ISSPACE:
        i += 1
    if i >= n or logical[i] != "=":
        return "missing '=' after parameter name", name_start, name_end, i, i
    i += 1
    while i < n and logical[i] in ISSPACE:
        i += 1
    value_start = i
    j = n
    while j > value_start and logical[j - 1] in ISSPACE:
        j -= 1
    return None, name_start, name_end, value_start, j


@attrs.frozen
class Parameter:
    """What Postfix reads from one main.cf entry: name, value and where each part is.

    ``node`` is the syntax node that owns the bytes; ``raw`` is those bytes as text.
    """

    node: Entry

    @functools.cached_property
    def _reading(self) -> tuple[_Segments, str, int, int, int, int]:
        entry = self.node
        pieces = [(entry.line, entry.head_content)]
        pieces += [(c.line, c.content) for c in entry.continuations]
        segments = _Segments(pieces)
        logical = _cut_nul(segments.joined)
        error, ns, ne, vs, ve = split_nameval(logical)
        if error is not None:
            shown = logical[ns:ne] if ne > ns else ""
            message = f'{error} "{shown}"' if shown else error
            raise ParseError(message, line=entry.line, column=ns + 1, text=entry.head_content)
        return segments, logical, ns, ne, vs, ve

    @property
    def name(self) -> str:
        # split_nameval() ends the name at the first blank or "=" of the logical line, where
        # the head line's NAME token ends too: no need to join the lines (MainCf.get asks
        # every entry its name, and an editor asks again after each edit).
        return self.node.name

    @property
    def value(self) -> str:
        """The value Postfix uses: the joined logical line after ``=``, trimmed, ``$name`` unexpanded."""
        node = self.node
        if node.equals and not node.inner:
            # One physical line with its "=": the value is the head line's value text, which
            # starts with no blank, up to a NUL, trailing blanks trimmed (split_nameval()
            # would find the same, without the logical line and its map of offsets, which
            # cost more than the rest of reading the entry).
            return _cut_nul(node.head_value).rstrip(ISSPACE)
        _, logical, _, _, vs, ve = self._reading
        return logical[vs:ve]

    @property
    def raw(self) -> str:
        return self.node.dump()

    @property
    def line(self) -> int:
        return self.node.line

    @property
    def name_span(self) -> Span:
        segments, _, ns, ne, _, _ = self._reading
        return segments.span(ns, ne)

    @property
    def value_span(self) -> Span:
        segments, _, _, _, vs, ve = self._reading
        if ve <= vs:
            return segments.span(vs, vs)
        return segments.span(vs, ve)

    @property
    def lines(self) -> tuple[PhysicalLine, ...]:
        """Each physical line of the entry that holds name or value text (comments skipped)."""
        segments = self._reading[0]
        result = []
        for line, text in zip(segments.lines, segments.texts):
            shown = text.removesuffix("\r")
            result.append(PhysicalLine(shown, Span(line, 1, line, len(shown) + 1)))
        return tuple(result)

    @property
    def end_line(self) -> int:
        return self._reading[0].lines[-1]

    @functools.cached_property
    def items(self) -> tuple[Item, ...]:
        """The value split as a Postfix list (commas and/or blanks, ``{ }`` groups), with spans."""
        segments, _, _, _, vs, _ = self._reading
        return tuple(
            Item(token.text, segments.span(vs + token.start, vs + token.end))
            for token in split_list(self.value)
        )

    def item_span(self, token: Token) -> Span:
        """The span of a token found by splitting :attr:`value` some other way."""
        segments, _, _, _, vs, _ = self._reading
        return segments.span(vs + token.start, vs + token.end)


@attrs.define(eq=False)
class MainCf:
    """A parsed main.cf.

    ``nodes`` is the syntax tree (entries, comment, blank and orphan lines); ``dumps`` writes
    it back byte for byte.  Equality compares the trees.
    """

    nodes: tuple[MainNode, ...]
    path: str | None = None
    #: Whether it was read from bytes (dumps then returns bytes).
    binary: bool = False

    kind = "main"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MainCf) and self.nodes == other.nodes

    @functools.cached_property
    def entries(self) -> tuple[Parameter, ...]:
        return tuple(Parameter(node) for node in self.nodes if isinstance(node, Entry))

    def effective(self) -> dict[str, str]:
        """Every parameter the file defines with the value Postfix uses (the last one wins)."""
        return dict(self._effective)

    @functools.cached_property
    def _effective(self) -> dict[str, str]:
        # every view of every service asks: worked out once, each caller gets its own copy
        result: dict[str, str] = {}
        for entry in self.entries:
            result[entry.name] = entry.value
        return result

    def get(self, name: str) -> Parameter | None:
        """The definition of ``name`` that takes effect (the last one), or None."""
        return self._last.get(name)

    def definitions(self, name: str) -> tuple[Parameter, ...]:
        """Every definition of ``name``, first to last."""
        return tuple(entry for entry in self.entries if entry.name == name)

    @functools.cached_property
    def _last(self) -> dict[str, Parameter]:
        return {entry.name: entry for entry in self.entries}

    @property
    def orphans(self) -> tuple[Orphan, ...]:
        return tuple(node for node in self.nodes if isinstance(node, Orphan))

    def dumps(self) -> str:
        return "".join(node.dump() for node in self.nodes)

    def validate(self) -> None:
        """Raise ParseError for the first entry Postfix would refuse (needs the logical line)."""
        for entry in self.entries:
            if entry.node.equals:
                # "=" on the head line, after a name the grammar read: split_nameval() cannot
                # fail, whatever the continuation lines hold.
                continue
            try:
                _ = entry._reading  # reading a bad entry raises its ParseError
            except ParseError as exc:
                raise exc.with_path(self.path) if self.path else exc


# ---------------------------------------------------------------------------------------------
# master.cf

#: Service types postconf accepts (pcf_valid_master_types).
SERVICE_TYPES = ("unix", "fifo", "inet", "pass", "unix-dgram")
FIELD_NAMES = (
    "service",
    "type",
    "private",
    "unprivileged",
    "chroot",
    "wakeup",
    "process_limit",
    "command",
)


@attrs.frozen
class Argument:
    """One word of a service entry as Postfix splits it, braces kept, with its span."""

    text: str
    span: Span


@attrs.frozen
class Override:
    """One ``-o name=value`` (or ``-o { name = value }``) of a service.

    ``name`` and ``value`` are what postconf -P shows; ``option`` is the span of the ``-o``
    (of the letter ``o`` alone in a bundle such as ``-vo``), ``argument`` the span of the
    ``name=value`` word (braces included), and ``braced`` tells which form was written.
    """

    name: str
    value: str
    option: Span
    argument: Span
    braced: bool
    text: str


@attrs.frozen(slots=False)
class Service:
    """What Postfix reads from one master.cf entry.

    Fields are the text as written (``-``, ``n``, ``100?``); ``command`` is the program and
    ``args`` its arguments as postconf -F shows them (options split, ``{ }`` removed).
    ``overrides`` maps each ``-o`` name to its value, the last one winning, like postconf -P.
    """

    node: ServiceEntry

    @functools.cached_property
    def _reading(self) -> tuple[_Segments, list[Token]]:
        entry = self.node
        pieces = [(entry.line, entry.head_content)]
        pieces += [(c.line, c.content) for c in entry.inner if isinstance(c, ContinuationLine)]
        segments = _Segments(pieces)
        logical = _cut_nul(segments.joined)
        words = split_list(logical, BLANKS)
        if len(words) < 8:
            raise ParseError(
                f"service entry has {len(words)} field{'s' if len(words) != 1 else ''}, 8 expected",
                line=entry.line,
                column=1,
                text=entry.head,
            )
        _check_fields([w.text for w in words], entry, segments, words)
        return segments, words

    @functools.cached_property
    def arguments(self) -> tuple[Argument, ...]:
        """Every word of the entry (fields, command, arguments) as split from the logical line."""
        segments, words = self._reading
        return tuple(Argument(w.text, segments.span(w.start, w.end)) for w in words)

    def _field(self, index: int) -> str:
        return self._reading[1][index].text

    @property
    def name(self) -> str:
        return self._field(0)

    @property
    def type(self) -> str:
        return self._field(1)

    @property
    def private(self) -> str:
        return self._field(2)

    @property
    def unprivileged(self) -> str:
        return self._field(3)

    @property
    def chroot(self) -> str:
        return self._field(4)

    @property
    def wakeup(self) -> str:
        return self._field(5)

    @property
    def process_limit(self) -> str:
        return self._field(6)

    @property
    def command(self) -> str:
        return self._field(7)

    @property
    def key(self) -> str:
        """``name/type``, the way Postfix names a service."""
        return f"{self.name}/{self.type}"

    @property
    def line(self) -> int:
        return self.node.line

    def field_span(self, index_or_name: int | str) -> Span:
        index = (
            FIELD_NAMES.index(index_or_name) if isinstance(index_or_name, str) else index_or_name
        )
        segments, words = self._reading
        word = words[index]
        return segments.span(word.start, word.end)

    @functools.cached_property
    def daemon_arguments(self) -> DaemonArguments:
        """The command's arguments as postconf reads them (postconf -F and -P): the reading
        ``pfedit show`` and the editor share.  The daemon's own getopt reads some lines
        otherwise (``-n name -o x=y``, a lone ``-``); the model of the running Postfix and
        the rules use that one (pfconf.semantics.programs)."""
        segments, words = self._reading
        return _read_arguments(segments, words)

    @property
    def args(self) -> tuple[str, ...]:
        """The command's arguments as postconf -F prints them (before brace re-quoting)."""
        return self.daemon_arguments.args

    @property
    def options_end(self) -> int:
        """The index in ``arguments`` of the first word that is not an option or an option's
        value (a plain argument or ``--``); ``len(arguments)`` when there is none."""
        return self.daemon_arguments.options_end

    @property
    def override_list(self) -> tuple[Override, ...]:
        """Every ``-o`` override in order, duplicates included."""
        return self.daemon_arguments.overrides

    @property
    def overrides(self) -> dict[str, str]:
        result: dict[str, str] = {}
        for override in self.override_list:
            result[override.name] = override.value
        return result

    def override(self, name: str) -> Override | None:
        """The ``-o`` override of ``name`` that takes effect, or None."""
        found = None
        for override in self.override_list:
            if override.name == name:
                found = override
        return found


def _check_fields(
    fields: list[str], entry: ServiceEntry, segments: _Segments, words: list[Token]
) -> None:
    """postconf's pcf_check_master_entry(): the same checks, with file positions."""

    def fail(index: int, what: str) -> None:
        span = segments.span(words[index].start, words[index].end)
        raise ParseError(
            f'invalid {what} field "{fields[index]}"',
            line=span.line,
            column=span.column,
            text=entry.head,
        )

    if fields[1] not in SERVICE_TYPES:
        fail(1, "type")
    for index in (2, 3, 4):
        if len(fields[index]) != 1 or fields[index] not in "yn-":
            fail(index, FIELD_NAMES[index])
    wakeup = fields[5]
    digits = wakeup.removesuffix("?")
    if not (wakeup[0] == "-" and len(digits) == 1) and not all(c in "0123456789" for c in digits):
        fail(5, "wakeup")
    limit = fields[6]
    if limit != "-" and not all(c in "0123456789" for c in limit):
        fail(6, "process_limit")


#: The daemon options that take a value (postconf_master.c: pcf_daemon_options_expecting_value).
_OPTIONS_WITH_VALUE = "o"


@attrs.frozen
class DaemonArguments:
    """A service's command arguments as getopt reads them, computed once for every reader.

    ``args`` are the arguments as postconf -F prints them (options split, ``{ }`` removed);
    the first ``option_count`` of them are options and their values.  ``options_end`` is the
    index, in the entry's words (fields included), of the first word getopt does not read as
    an option or an option's value: the first plain argument, or the ``--`` that ends the
    options; the number of words when every argument is an option.
    """

    args: tuple[str, ...]
    option_count: int
    options_end: int
    overrides: tuple[Override, ...]
    #: how many of ``args`` the daemon's getopt reads as options and their values: fewer than
    #: ``option_count`` only after a lone ``-``, which postconf reads on past
    getopt_count: int


def _read_arguments(segments: _Segments, words: list[Token]) -> DaemonArguments:
    """postconf's pcf_normalize_daemon_args() and getopt's scan, keeping where each override
    came from.

    Only the arguments before the first one that does not start with ``-`` (or is ``--``) are
    options, so a ``-o`` after a plain argument is a plain argument too.  A lone ``-`` is a
    plain argument to the daemon's getopt (Postfix calls it with "+", so it stops there:
    ``options_end``), but postconf reads it as an option that takes the next word as its value
    (``strchr(..., '\\0')`` finds the terminator) and reads on: ``- x -o a=b`` shows the
    override ``a=b`` in postconf -P, and so here; MST007 says the daemon ignores it.
    """
    # (text, start, end, word index): offsets into the logical line of the characters the
    # piece holds.  A piece split off "-vo..." is given a "-" it does not have in the file,
    # so its start is that of the option letter itself.
    args: list[tuple[str, int, int, int]] = [
        (w.text, w.start, w.end, index) for index, w in enumerate(words) if index >= 8
    ]
    out: list[str] = []
    overrides: list[Override] = []
    options_end = len(words)
    getopt_count = -1
    i = 0
    while i < len(args):
        text, start, end, index = args[i]
        if text == "-":
            if index < options_end:
                options_end, getopt_count = index, len(out)
            out.extend(a[0] for a in args[i : i + 2])
            i += 2
            continue
        if not text.startswith("-") or text == "--":
            options_end = min(options_end, index)
            break
        # "-vo" is "-v" then "-o": split before the first option letter that takes a value.
        for k in range(2, len(text)):
            if text[k] in _OPTIONS_WITH_VALUE:
                letter = end - (len(text) - k)
                args[i] = (text[:k], start, letter, index)
                args.insert(i + 1, ("-" + text[k:], letter, end, index))
                text, start, end, _ = args[i]
                break
        if text[1] not in _OPTIONS_WITH_VALUE:
            out.append(text)
            i += 1
            continue
        if len(text) > 2:
            # "-oname=value" is "-o" then "name=value"
            value_start = end - (len(text) - 2)
            args[i] = (text[:2], start, value_start, index)
            args.insert(i + 1, (text[2:], value_start, end, index))
            text, start, end, _ = args[i]
        out.append(text)
        if i + 1 >= len(args):
            i += 1
            continue
        value, vstart, vend, _ = args[i + 1]
        braced = value.startswith("{")
        if braced:
            value = _extract(value)
            if text == "-o":
                value = _normalize_nameval(value)
        out.append(value)
        if text == "-o":
            error, ns, ne, vs, ve = split_nameval(value)
            if error is None:
                overrides.append(
                    Override(
                        value[ns:ne],
                        value[vs:ve],
                        segments.span(start, end),
                        segments.span(vstart, vend),
                        braced,
                        segments.joined[vstart:vend],
                    )
                )
        i += 2
    option_count = len(out)
    for text, _, _, _ in args[i:]:
        out.append(_extract(text) if text.startswith("{") else text)
    if getopt_count < 0:
        getopt_count = option_count  # no lone "-": getopt reads what postconf reads
    return DaemonArguments(tuple(out), option_count, options_end, tuple(overrides), getopt_count)


def _extract(text: str) -> str:
    """Postfix's extpar() with EXTPAR_FLAG_STRIP, including its recovery from bad braces."""
    inside = strip_braces(text)
    if inside is not None:
        return inside
    # Unbalanced or with text after "}": Postfix warns and keeps what it can.
    level = 0
    for index, ch in enumerate(text):
        if ch == "{":
            level += 1
        elif ch == "}":
            level -= 1
            if level == 0:
                return text[1:index].strip(ISSPACE)
    return text[1:].strip(ISSPACE)


def _normalize_nameval(text: str) -> str:
    error, ns, ne, vs, ve = split_nameval(text)
    if error is not None:
        return text
    return f"{text[ns:ne]}={text[vs:ve]}"


def _services(nodes: tuple[MasterNode, ...]) -> tuple[Service, ...]:
    return tuple(Service(node) for node in nodes if isinstance(node, ServiceEntry))


_SERVICES: ByIdentity[tuple[MasterNode, ...], tuple[Service, ...]] = ByIdentity(64)


@attrs.define(eq=False)
class MasterCf:
    """A parsed master.cf: ``nodes`` is the syntax tree, ``services`` what Postfix runs."""

    nodes: tuple[MasterNode, ...]
    path: str | None = None
    binary: bool = False

    kind = "master"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MasterCf) and self.nodes == other.nodes

    @functools.cached_property
    def services(self) -> tuple[Service, ...]:
        # Shared by every document over the same nodes (pfconf.loads hands out one node
        # tuple per text): a Service holds its node alone, and works out its reading once.
        return _SERVICES.get(self.nodes, None, lambda: _services(self.nodes))

    def service(self, name: str, type: str) -> Service | None:
        """The service ``name/type`` (the first one, as postconf -M shows), or None."""
        for service in self.services:
            if service.name == name and service.type == type:
                return service
        return None

    @property
    def orphans(self) -> tuple[Orphan, ...]:
        return tuple(node for node in self.nodes if isinstance(node, Orphan))

    def dumps(self) -> str:
        return "".join(node.dump() for node in self.nodes)

    def validate(self) -> None:
        for service in self.services:
            try:
                _ = service._reading  # reading a bad entry raises its ParseError
            except ParseError as exc:
                raise exc.with_path(self.path) if self.path else exc


Document = MainCf | MasterCf
