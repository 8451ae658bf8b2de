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

    def __reduce__(self) -> tuple[object, ...]:
        # Pickled whole (pflint -j hands errors back from its worker processes).
        return (_parse_error, (self.message, self.path, self.line, self.column, self.text))

    def with_path(self, path: str) -> ParseError:
        return ParseError(
            self.message, path=path, line=self.line, column=self.column, text=self.text
        )


class FileError(PfconfError, OSError):
    """A file that cannot be read or written as asked: ``str(error)`` is ``path: reason``.

    Also an OSError, so that callers written for the errors ``open()`` raises keep working;
    ``filename`` is the path as the caller named it (never a temporary file beside it).
    """

    def __init__(self, path: str, reason: str, errno: int = 0) -> None:
        super().__init__(errno, reason, path)
        self.path = path
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.path, self.reason, self.errno or 0))


class ReadError(FileError):
    """A configuration file pfconf will not read: not a regular file, too large, unreadable."""


class MissingFile(ReadError, FileNotFoundError):
    """Nothing at all at the path (a dangling symbolic link is a ReadError instead).

    Also a FileNotFoundError: callers that treat a missing file as optional catch that.
    """


class WriteError(FileError):
    """A file that could not be replaced; the file on disk is unchanged."""


def _parse_error(message: str, path: str | None, line: int, column: int, text: str) -> ParseError:
    return ParseError(message, path=path, line=line, column=column, text=text)
