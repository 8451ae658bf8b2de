"""A finding: one problem at one place, with how bad it is and what would fix it.

Positions are 1-based; ``end_column`` is just past the last character, as in SARIF.
"""

from __future__ import annotations

import attrs

#: From least to most severe; ``--severity-threshold`` picks one of these.
SEVERITIES = ("info", "warning", "error")


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


@attrs.frozen
class Fix:
    """What to change: in words, and as an edit ``pflint --fix`` can make.

    ``action`` is one of ``set`` (``parameter`` = ``value``), ``unset`` (``parameter``),
    ``rename`` (``parameter`` becomes ``value``, keeping or translating its value to
    ``item``), ``remove_definition`` (the definition of ``parameter`` on ``line``),
    ``remove_item`` (``item`` of the list ``parameter``, the one at ``line``:``column``) and
    ``replace_item`` (that item becomes ``value``).  None: described only.  Fixes apply to
    main.cf only.
    """

    description: str
    safe: bool = True
    parameter: str | None = None
    value: str | None = None
    action: str | None = None
    item: str | None = None
    line: int | None = None
    column: int | None = None


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
    parameter: str | None = None
    service: str | None = None
    fix: Fix | None = None

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.column, self.code)
