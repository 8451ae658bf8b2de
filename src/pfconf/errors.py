"""Errors pfconf raises to its callers: one class per situation, each naming file, line and column.

Messages are written for administrators, never Lark's or Python's internals.
"""

from __future__ import annotations


class PfconfError(Exception):
    """Base class of every error pfconf raises on purpose."""


class ParseError(PfconfError, ValueError):
    """A file that Postfix would refuse to read, with where and why.

    ``str(error)`` reads like ``main.cf:11: missing '=' after parameter name "bogus"``.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int = 0,
        column: int = 0,
        text: str = "",
    ) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.column = column
        self.text = text
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = self.path or "<string>"
        if self.line:
            where += f":{self.line}"
        return f"{where}: {self.message}"

    def with_path(self, path: str) -> ParseError:
        return ParseError(
            self.message, path=path, line=self.line, column=self.column, text=self.text
        )
