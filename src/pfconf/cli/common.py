"""What both commands share: reading a configuration directory and reporting errors in one line.

A ParseError or unreadable file becomes ``path:line: message`` on stderr and exit status 2,
never a traceback.
"""

from __future__ import annotations

import os
from typing import IO, Any

import click

from .. import load
from ..errors import MissingFile, ParseError, ReadError
from ..model import Document

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2

DEFAULT_DIR = "/etc/postfix"


def echo(text: str, err: bool = False) -> None:
    """Print a line that may hold undecodable bytes from a file (kept as surrogate escapes)."""
    click.echo(text.encode("utf-8", "surrogateescape"), err=err)


class Failure(click.ClickException):
    """An error that ends the command with exit status 2 and one line on stderr.

    The line is printed when the exception leaves the command, not when it is made, so a
    caller that catches it and carries on (a fallback) prints nothing.
    """

    exit_code = EXIT_ERROR

    def show(self, file: IO[Any] | None = None) -> None:
        echo(self.message, err=True)


def fail(message: str) -> Failure:
    """An error for the caller to raise: ``raise fail("main.cf: no such file")``."""
    return Failure(message)


def read(path: str, kind: str, required: bool = True) -> Document | None:
    """Load one file; a missing optional file is None, anything else wrong exits with status 2."""
    try:
        return load(path, kind)
    except MissingFile as exc:
        if required:
            raise fail(str(exc))
        return None
    except ReadError as exc:
        raise fail(str(exc))
    except ParseError as exc:
        raise fail(str(exc.with_path(path)))


def config_paths(directory: str) -> tuple[str, str]:
    return os.path.join(directory, "main.cf"), os.path.join(directory, "master.cf")
