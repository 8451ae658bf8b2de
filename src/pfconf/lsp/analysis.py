"""What the language server answers, worked out from text alone: which file a document is,
its diagnostics and its symbols.

No protocol here (pfconf.lsp.server speaks it, and converts positions): lines and columns
are pfconf's, 1-based, columns counted in characters.  Each answer reads the buffer as
pflint reads a file, with the same engine, rules, suppressions and settings.
"""

from __future__ import annotations

import os
import re

import attrs

from .. import loads
from ..errors import ParseError, PfconfError
from ..kb import parse_version
from ..lint.config import load_settings
from ..lint.engine import Options, lint_texts
from ..lint.finding import Finding
from ..model import MainCf, MasterCf, Span

#: The names editors open these files under: main.cf and master.cf, with a prefix
#: (``postfix-main.cf``) or a suffix (``main.cf.proto``, ``master.cf.dist``, ``main.cf.bak``).
_FILE_NAME = re.compile(r"(?:[\w.-]*[._-])?(main|master)\.cf(?:[._-][\w.-]*)?", re.IGNORECASE)


def kind_of_path(path: str) -> str | None:
    """``"main"`` or ``"master"`` for a file named like one, whatever language the editor
    says it is; None for any other file."""
    found = _FILE_NAME.fullmatch(os.path.basename(path))
    return found.group(1).lower() if found else None


def sibling_path(path: str) -> str | None:
    """The partner of a main.cf (its master.cf) or of a master.cf, named the same way."""
    name = os.path.basename(path)
    found = _FILE_NAME.fullmatch(name)
    if found is None:
        return None
    word = "master" if found.group(1).lower() == "main" else "main"
    start, end = found.span(1)
    return os.path.join(os.path.dirname(path), name[:start] + word + name[end:])


def options_for(path: str) -> tuple[Options, list[str]]:
    """pflint's options for a file at ``path``: from the settings file above it
    (``.pflint.toml``, ``[tool.pflint]``), as pflint without flags would read them; and what
    could not be used, for the client's log."""
    notes: list[str] = []
    try:
        settings = load_settings(path)
    except PfconfError as exc:
        return Options(), [str(exc)]
    target = None
    if settings.postfix_version and settings.postfix_version != "auto":
        try:
            target = parse_version(settings.postfix_version)
        except ValueError:
            notes.append(f"{settings.path}: postfix-version {settings.postfix_version!r} ignored")
    options = Options(
        select=settings.select,
        ignore=settings.ignore,
        severities=settings.severities,
        per_file_ignores=settings.per_file_ignores,
        target=target,
    )
    return options, notes


def diagnose(
    path: str, kind: str, text: str, sibling: str | None, options: Options | None = None
) -> list[Finding]:
    """pflint's findings in the document at ``path``, read from ``text``, with ``sibling``
    (the partner file's text, or None when there is none) as context."""
    partner = sibling_path(path) or os.path.join(os.path.dirname(path), "master.cf")
    if kind == "main":
        run = lint_texts(text, sibling, main_path=path, master_path=partner, options=options)
    else:
        run = lint_texts(sibling, text, main_path=partner, master_path=path, options=options)
    return [finding for finding in run.findings if finding.path == path]


@attrs.frozen
class Symbol:
    """An entry of main.cf or a service of master.cf: its name, a word about it, where it
    stands (all its lines) and where its name is."""

    name: str
    detail: str
    kind: str  # "parameter" or "service"
    span: Span
    selection: Span


def read(text: str, kind: str, path: str | None = None) -> MainCf | MasterCf | None:
    """The document, or None when Postfix would refuse it (the diagnostics say why)."""
    try:
        doc = loads(text, kind, path=path)
    except ParseError:
        return None
    assert isinstance(doc, (MainCf, MasterCf))
    return doc


def symbols(doc: MainCf | MasterCf) -> list[Symbol]:
    found: list[Symbol] = []
    if isinstance(doc, MainCf):
        for entry in doc.entries:
            value = entry.value
            detail = value if len(value) <= 60 else value[:57] + "..."
            found.append(
                Symbol(entry.name, detail, "parameter", _whole(entry.node), entry.name_span)
            )
        return found
    for service in doc.services:
        detail = " ".join([service.command, *service.args])
        found.append(
            Symbol(service.key, detail, "service", _whole(service.node), service.field_span(0))
        )
    return found


def _whole(node: object) -> Span:
    """The span of all of a node's lines."""
    text: str = node.dump()  # type: ignore[attr-defined]
    line: int = node.line  # type: ignore[attr-defined]
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    last = lines[-1].removesuffix("\r") if lines else ""
    return Span(line, 1, line + max(len(lines) - 1, 0), len(last) + 1)
