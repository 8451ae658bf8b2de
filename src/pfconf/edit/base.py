"""What main.cf and master.cf editors share: the record of a change, the error, and the
line-level rewrite that every operation goes through.

Every operation is "replace physical lines [start, end) with these lines": the editor then
re-reads the whole text, and :meth:`Editor._commit` checks that the lines before and after
the replaced range are the same bytes as before.  The operation itself checks the meaning
(the effective value, the service's overrides) before it commits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar, cast

import attrs

from .. import io, loads
from ..errors import ParseError, PfconfError
from ..model import MainCf, MasterCf

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


class Editor(Generic[Doc]):
    """An editable file: the current text, the parsed document and the changes so far."""

    kind = ""
    file_label = ""

    def __init__(self, doc: Doc) -> None:
        self.doc: Doc = doc
        self.text = doc.dumps()
        self.eol = line_ending(self.text)
        self.changes: list[Change] = []

    @property
    def lines(self) -> list[str]:
        return split_lines(self.text)

    def _reparse(self, text: str) -> Doc:
        try:
            doc = cast(Doc, loads(text, self.kind, path=self.doc.path))
        except ParseError as exc:
            raise EditError(f"the edited file would not parse: {exc}") from exc
        doc.binary = self.doc.binary  # dumps() gives back what the caller handed in
        return doc

    def _commit(
        self,
        start: int,
        end: int,
        new_lines: list[str],
        check: Callable[[Doc], str | None],
        change: Change | None,
    ) -> None:
        """Replace lines [start, end) (0-based), verify, and keep the result.

        ``check`` returns None when the new document says what was intended, else why not.
        """
        old = self.lines
        for line in new_lines[:-1]:
            if not line.endswith("\n"):
                raise EditError("internal error: a replacement line has no line ending")
        # A file without a final newline: whatever follows its last line starts a new line
        # (postconf -e in Postfix 3.7 glues the new entry onto it instead).
        if start > 0 and start == len(old) and not old[-1].endswith("\n") and new_lines:
            old = old[:-1] + [old[-1] + self.eol]
        result = old[:start] + new_lines + old[end:]
        text = "".join(result)
        doc = self._reparse(text)
        # Every line the edit did not touch is the same bytes, in the same order.
        after = split_lines(text)
        keep_before = old[:start]
        if after[: len(keep_before)] != keep_before:
            raise EditError("internal error: the edit changed lines before the edited ones")
        tail = old[end:]
        if tail and after[len(after) - len(tail) :] != tail:
            raise EditError("internal error: the edit changed lines after the edited ones")
        problem = check(doc)
        if problem is not None:
            raise EditError(problem)
        self.doc = doc
        self.text = text
        if change is not None:
            self.changes.append(change)

    def dumps(self) -> str | bytes:
        from .. import dumps

        return dumps(self.doc)
