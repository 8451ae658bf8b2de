"""A finding: one problem at one place, with how bad it is and what would fix it.

Positions are 1-based; ``end_column`` is just past the last character, as in SARIF.
"""

from __future__ import annotations

from typing import Optional

import attrs

#: From least to most severe; ``--severity-threshold`` picks one of these.
SEVERITIES = ("info", "warning", "error")


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


@attrs.frozen
class Fix:
    """What to change, in words and as a replacement value where one is known."""

    description: str
    safe: bool = True
    parameter: Optional[str] = None
    value: Optional[str] = None


@attrs.frozen
class Finding:
    """One problem at one place: what (code, message), how bad, and where."""

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
    fix: Optional[Fix] = None

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.column, self.code)
