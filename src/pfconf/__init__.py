"""pfconf: read, check and change Postfix's main.cf and master.cf exactly as Postfix reads them.

The facade: ``loads``/``dumps`` and ``load``/``dump`` round-trip a file byte for byte, and the
returned MainCf or MasterCf answers what Postfix would make of it.
"""

from __future__ import annotations

import os
from typing import Any, Literal, overload

from ._shared import Memory
from .errors import MissingFile, ParseError, PfconfError, ReadError, WriteError
from .io import decode, encode, kind_of, read_config, write_atomic
from .model import (
    Argument,
    Document,
    Item,
    MainCf,
    MasterCf,
    Override,
    Parameter,
    PhysicalLine,
    Service,
    Span,
)
from .syntax.parser import parse_lines

__all__ = [
    "Argument",
    "Document",
    "Item",
    "MainCf",
    "MasterCf",
    "MissingFile",
    "Override",
    "Parameter",
    "ParseError",
    "PfconfError",
    "PhysicalLine",
    "ReadError",
    "Service",
    "Span",
    "WriteError",
    "dump",
    "dumps",
    "load",
    "loads",
]

__version__ = "0.1.0"

Kind = Literal["main", "master"]


@overload
def loads(
    data: bytes | str, kind: Literal["main"] = ..., *, path: str | None = ...
) -> MainCf: ...
@overload
def loads(
    data: bytes | str, kind: Literal["master"], *, path: str | None = ...
) -> MasterCf: ...
@overload
def loads(data: bytes | str, kind: str, *, path: str | None = ...) -> Document: ...
def loads(data: bytes | str, kind: str = "main", *, path: str | None = None) -> Document:
    """Parse the text of a main.cf (``kind="main"``) or master.cf (``kind="master"``).

    Raises ParseError, naming ``path`` when given, for what Postfix itself would refuse.
    """
    if kind not in ("main", "master"):
        raise ValueError(f'kind must be "main" or "master", not {kind!r}')
    binary = isinstance(data, (bytes, bytearray))
    text = decode(bytes(data)) if isinstance(data, (bytes, bytearray)) else data
    key = (kind, text)
    shareable = len(text) <= _SHARED_TEXT
    known = _PARSED.get(key) if shareable else None
    nodes = known if known is not None else tuple(parse_lines(text, kind, path))
    doc: Document
    if kind == "main":
        doc = MainCf(nodes, path=path, binary=binary)
    else:
        doc = MasterCf(nodes, path=path, binary=binary)
    doc.validate()
    if shareable and known is None:
        _PARSED.put(key, nodes)  # only text that reads without error
    return doc


# The nodes of texts read before: the same text gives the same (immutable) nodes, so that what
# is worked out from them is shared too (pfconf._shared).  Small files only, and a few dozen.
_SHARED_TEXT = 1 << 18
_PARSED: Memory[tuple[str, str], tuple[Any, ...]] = Memory(64)


def dumps(doc: Document) -> bytes | str:
    """The document's text: bytes if it was loaded from bytes, str if from str."""
    text = doc.dumps()
    return encode(text) if doc.binary else text


def load(path: str | os.PathLike[str], kind: str | None = None) -> Document:
    """Read and parse a file; ``kind`` defaults to what the file's name (or content) says.

    Raises ReadError (MissingFile when nothing is there) for a file pfconf will not read:
    see pfconf.io.read_config.
    """
    data = read_config(path)
    return loads(data, kind or kind_of(path, data), path=os.fspath(path))


def dump(doc: Document, path: str | os.PathLike[str]) -> None:
    """Write the document to ``path`` atomically (temporary file, fsync, rename)."""
    data = dumps(doc)
    write_atomic(path, data if isinstance(data, bytes) else encode(data))
