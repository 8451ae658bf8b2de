"""What main.cf and master.cf editors share: the record of a change, the error, and the
line-level rewrite that every operation goes through.

Every operation is "replace physical lines [start, end) with these lines": the editor then
re-reads those lines and their neighbours up to the nearest entries, keeps every other line
and node as it was, and checks that the new document says what the operation intended and
that no other parameter changed (:meth:`Editor._commit`).
"""

from __future__ import annotations

import bisect
import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Generic, TypeVar, cast

import attrs

from .. import io
from ..errors import ParseError, PfconfError
from ..model import MainCf, MasterCf
from ..syntax.nodes import Entry, ServiceEntry
from ..syntax.parser import parse_lines

Doc = TypeVar("Doc", MainCf, MasterCf)


class EditError(PfconfError):
    """An edit that cannot be made safely; nothing was changed."""


@attrs.frozen
class Change:
    """One change an editor made, in words an administrator reads in a report.

    ``target`` is a parameter name or a service (``submission/inet``); ``old`` and ``new`` are
    the values before and after (None: not set), ``reason`` why a recipe or fix made it.
    """

    file: str
    action: str
    target: str
    old: str | None = None
    new: str | None = None
    reason: str = ""
    #: Hide the values in reports (passwords, for instance).
    secret: bool = False

    def describe(self) -> str:
        old = "***" if self.secret and self.old is not None else self.old
        new = "***" if self.secret and self.new is not None else self.new
        if self.action == "set" and old is None:
            what = f"{self.target} = {new}"
        elif self.action == "set":
            what = f"{self.target}: {old} -> {new}"
        elif self.action == "rename":
            what = f"{self.target} renamed {new}"
        elif new is not None:
            what = f"{self.target} {self.action} {new}"
        else:
            what = f"{self.target} {self.action}"
        text = f"{self.file}: {what}"
        return f"{text} ({self.reason})" if self.reason else text


split_lines = io.split_lines


def line_ending(text: str) -> str:
    """The file's line ending: CRLF if its first line has one, else LF."""
    first = text.find("\n")
    return "\r\n" if first > 0 and text[first - 1] == "\r" else "\n"


def _starts_entry(line: str) -> bool:
    """Whether a physical line starts a logical line: an entry (or service), not a
    continuation, comment or blank line.  Nothing before such a line changes how it and the
    lines after it are read."""
    return line[:1] not in ("", " ", "\t", "\v", "\f", "\r", "\n", "#")


class Editor(Generic[Doc]):
    """An editable file: its physical lines, the parsed document and the changes so far."""

    kind = ""
    file_label = ""

    def __init__(self, doc: Doc) -> None:
        self.doc: Doc = doc
        self._lines = split_lines(doc.dumps())
        self.eol = line_ending(self._lines[0]) if self._lines else "\n"
        self.changes: list[Change] = []

    @property
    def lines(self) -> list[str]:
        """The file's physical lines, with their line endings (not a copy: do not change it;
        slices are copies)."""
        return self._lines

    @property
    def text(self) -> str:
        return "".join(self._lines)

    def _commit(
        self,
        start: int,
        end: int,
        new_lines: list[str],
        check: Callable[[Doc], str | None],
        change: Change | None,
        names: Iterable[str] = (),
    ) -> None:
        """Replace lines [start, end) (0-based), verify, and keep the result.

        ``check`` returns None when the new document says what was intended, else why not;
        ``names`` are the ones the edit means to change (main.cf parameters), and every other
        name must keep its value (see :meth:`_unchanged`).

        Only the edited lines and their neighbours up to the nearest entry on each side are
        read again: an entry's head line starts a logical line whatever precedes it, so the
        nodes outside that window are the old ones (moved down or up when the edit changed
        the number of lines), and the whole file reads as before outside the window.  Reading
        the whole text again for every edit made a series of edits cost (edits) x (file).
        """
        old = self._lines
        for line in new_lines[:-1]:
            if not line.endswith("\n"):
                raise EditError("internal error: a replacement line has no line ending")
        if new_lines and not new_lines[-1].endswith("\n") and end < len(old):
            raise EditError("internal error: the edit would join its last line to the next one")
        new_lines = split_lines("".join(new_lines))
        # A file without a final newline: whatever follows its last line starts a new line
        # (postconf -e in Postfix 3.7 glues the new entry onto it instead).
        if start > 0 and start == len(old) and not old[-1].endswith("\n") and new_lines:
            start -= 1
            new_lines = [old[-1] + self.eol, *new_lines]
        # The window to read again: from the entry that holds the first edited line (or from
        # the first edited line, when both its old and its new text start an entry) to the
        # next entry after the edited lines.
        first = new_lines[0] if new_lines else (old[end] if end < len(old) else "")
        window_start = start
        if start > 0 and not (
            _starts_entry(first) and (start == len(old) or _starts_entry(old[start]))
        ):
            window_start = start - 1
            while window_start > 0 and not _starts_entry(old[window_start]):
                window_start -= 1
        window_end = end
        while window_end < len(old) and not _starts_entry(old[window_end]):
            window_end += 1
        text = "".join(old[window_start:start]) + "".join(new_lines) + "".join(old[end:window_end])
        whole = window_start == 0 and window_end == len(old)
        nodes: tuple[Any, ...] = self.doc.nodes
        first_node: int = bisect.bisect_left(nodes, window_start + 1, key=_line)
        end_node: int = (
            len(nodes)
            if window_end == len(old)
            else bisect.bisect_left(nodes, window_end + 1, key=_line)
        )
        cls = type(self.doc)
        window: list[Any] = []
        try:
            if text or whole:
                window = parse_lines(text, self.kind, self.doc.path, window_start + 1)
            # reading a bad entry raises its ParseError
            cls(tuple(window), path=self.doc.path).validate()
        except ParseError as exc:
            raise EditError(f"the edited file would not parse: {exc}") from exc
        if "".join(node.dump() for node in window) != text or (
            window and window_start > 0 and not _starts_node(window[0])
        ):
            raise EditError("internal error: the edited lines do not read back as written")
        moved = len(new_lines) - (end - start)
        after: tuple[Any, ...] = nodes[end_node:]
        if moved:
            after = tuple(node.moved(moved) for node in after)
        spliced: tuple[Any, ...] = (*nodes[:first_node], *window, *after)
        doc = cls(spliced, path=self.doc.path, binary=self.doc.binary)
        problem = check(doc) or self._unchanged(
            doc, nodes[first_node:end_node], window, frozenset(names)
        )
        if problem is not None:
            raise EditError(problem)
        self.doc = doc
        old[start:end] = new_lines
        if change is not None:
            self.changes.append(change)

    def _unchanged(
        self,
        doc: Doc,
        before: Sequence[Any],
        after: Sequence[Any],
        intended: frozenset[str],
    ) -> str | None:
        """Why the edit changed something it did not mean to (``before``/``after``: the nodes
        read again, as they were and as they are), or None.  Each editor says what it
        compares; nothing outside the window can have changed."""
        return None

    @contextlib.contextmanager
    def _atomic(self) -> Iterator[None]:
        """An operation made of several commits happens whole or not at all: when a later
        step is refused, the earlier ones are undone before the EditError goes on."""
        saved = (self.doc, list(self._lines), len(self.changes))
        try:
            yield
        except EditError:
            self.doc, self._lines[:], count = saved[0], saved[1], saved[2]
            del self.changes[count:]
            raise

    def dumps(self) -> str | bytes:
        from .. import dumps

        return dumps(self.doc)


def _line(node: Any) -> int:
    return cast(int, node.line)


def _starts_node(node: Any) -> bool:
    return isinstance(node, (Entry, ServiceEntry))
