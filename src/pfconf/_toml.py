"""Reading TOML on every supported Python: tomllib from 3.11, the tomli backport before."""

from __future__ import annotations

import sys
from typing import Any, BinaryIO, cast

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    # tomli is installed only on Python 3.10 (see pyproject), so mypy may not find it
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

TOMLDecodeError = tomllib.TOMLDecodeError


def load(handle: BinaryIO) -> dict[str, Any]:
    return cast(dict[str, Any], tomllib.load(handle))


def loads(text: str) -> dict[str, Any]:
    return cast(dict[str, Any], tomllib.loads(text))
