"""pflint's checks: findings about main.cf and master.cf, each with an exact position.

This release checks syntax only (what Postfix refuses or silently skips); the rule engine and
the parameter and security rules build on the same Finding.
"""

from __future__ import annotations

import os
from typing import Iterable, Optional

import attrs

from ..errors import ParseError
from ..model import Document, MainCf, MasterCf

SEVERITIES = ("info", "warning", "error")


@attrs.frozen
class Finding:
    """One problem at one place: what (code, message), how bad, and where (1-based, end exclusive)."""

    code: str
    severity: str
    message: str
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    parameter: Optional[str] = None
    service: Optional[str] = None
    fix: Optional[str] = None


#: A file Postfix refuses to read.
SYNTAX_ERROR = "SYN001"
#: Indented lines before the first entry: Postfix skips them with a warning.
ORPHAN_LINES = "SYN002"


def lint_document(doc: Document, path: str) -> list[Finding]:
    findings = []
    for orphan in doc.orphans:
        first = orphan.inner[0]
        text = first.dump().rstrip("\r\n")
        what = "parameter" if isinstance(doc, MainCf) else "service"
        findings.append(
            Finding(
                ORPHAN_LINES,
                "warning",
                f"indented line before the first {what} is ignored by Postfix: {text.strip()[:40]!r}",
                path,
                orphan.line,
                1,
                orphan.line,
                len(text) + 1,
            )
        )
    return findings


def lint_file(path: str, kind: Optional[str] = None) -> list[Finding]:
    """Findings for one file; a syntax error is a finding, not an exception."""
    from .. import load

    try:
        doc = load(path, kind)
    except ParseError as exc:
        column = max(exc.column, 1)
        return [
            Finding(
                SYNTAX_ERROR,
                "error",
                exc.message,
                path,
                exc.line or 1,
                column,
                exc.line or 1,
                column + 1,
            )
        ]
    assert isinstance(doc, (MainCf, MasterCf))
    return lint_document(doc, path)


def lint_paths(paths: Iterable[str]) -> list[Finding]:
    findings: list[Finding] = []
    for path in paths:
        findings.extend(lint_file(path))
    return findings


def discover(path: str) -> list[str]:
    """The files to lint for a path given on the command line: itself, or main.cf and master.cf in it."""
    if os.path.isdir(path):
        return [
            os.path.join(path, name)
            for name in ("main.cf", "master.cf")
            if os.path.isfile(os.path.join(path, name))
        ]
    return [path]
