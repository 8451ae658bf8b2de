"""Reading TOML on every supported Python: tomllib from 3.11, the tomli backport before."""

from __future__ import annotations

import sys
from typing import Any, BinaryIO

from .errors import ReadError
from .io import read_config


def _tomllib() -> Any:
    # Imported when a TOML text is read: the knowledge base usually comes from pfconf.cache,
    # and most lint runs have no settings file.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        # tomli is installed only on Python 3.10 (see pyproject), so mypy may not find it
        import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]
    return tomllib


def load(handle: BinaryIO) -> dict[str, Any]:
    data: dict[str, Any] = _tomllib().load(handle)
    return data


def loads(text: str) -> dict[str, Any]:
    data: dict[str, Any] = _tomllib().loads(text)
    return data


def load_file(path: str) -> dict[str, Any]:
    """The TOML file at ``path``; ReadError naming it when it cannot be read, is not UTF-8
    or is not TOML (see pfconf.io.read_config for what cannot be read)."""
    return load_file_text(path)[1]


def load_file_text(path: str) -> tuple[str, dict[str, Any]]:
    """The text of the TOML file at ``path`` and what it says (see :func:`load_file`)."""
    data = read_config(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ReadError(path, f"not UTF-8 text (line {line}); TOML files must be UTF-8") from None
    try:
        return text, loads(text)
    except _tomllib().TOMLDecodeError as exc:
        raise ReadError(path, f"not valid TOML: {exc}") from None
