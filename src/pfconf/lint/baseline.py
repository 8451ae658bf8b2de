"""Baselines: record today's findings so that only new ones are reported from now on.

Findings are keyed by file, rule and parameter or service, never by line number, so that
moving entries around or adding lines above them keeps the baseline valid.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

from .. import _toml as tomllib
from ..errors import ReadError
from ..io import write_atomic
from .finding import Finding

Key = tuple[str, str, str, str]


class BaselineError(ValueError):
    pass


def _key(finding: Finding, base: str) -> Key:
    path = os.path.relpath(os.path.abspath(finding.path), base).replace(os.sep, "/")
    return (path, finding.code, finding.parameter or "", finding.service or "")


def write_baseline(path: str, findings: list[Finding]) -> int:
    """Write the findings as a baseline TOML file; returns how many were recorded.

    Raises WriteError (naming ``path``) when the file cannot be written.
    """
    base = os.path.dirname(os.path.abspath(path))
    counts = Counter(_key(f, base) for f in findings)
    document: dict[str, Any] = {
        "version": 1,
        "finding": [
            {"path": p, "code": c, "parameter": param, "service": svc, "count": n}
            for (p, c, param, svc), n in sorted(counts.items())
        ],
    }
    header = (
        "# pflint baseline: findings accepted when it was written.  `pflint --baseline FILE`\n"
        "# reports only findings beyond these.  Keyed by file, rule and parameter or service.\n"
    )
    import tomli_w  # only --write-baseline writes TOML

    write_atomic(path, (header + tomli_w.dumps(document)).encode())
    return len(findings)


def read_baseline(path: str) -> Counter[Key]:
    try:
        data = tomllib.load_file(path)
    except ReadError as exc:
        raise BaselineError(str(exc)) from None
    rows = data.get("finding", [])
    if not isinstance(rows, list):
        raise BaselineError(f"{path}: finding must be an array of tables")
    counts: Counter[Key] = Counter()
    for row in rows:
        try:
            key = (row["path"], row["code"], row.get("parameter", ""), row.get("service", ""))
            counts[key] += int(row.get("count", 1))
        except (KeyError, TypeError, ValueError):
            raise BaselineError(f"{path}: malformed finding entry {row!r}") from None
    return counts


def filter_new(findings: list[Finding], path: str) -> list[Finding]:
    """The findings not covered by the baseline at ``path``."""
    allowed = read_baseline(path)
    base = os.path.dirname(os.path.abspath(path))
    new = []
    for finding in findings:
        key = _key(finding, base)
        if allowed[key] > 0:
            allowed[key] -= 1
        else:
            new.append(finding)
    return new
