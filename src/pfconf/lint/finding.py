"""A finding: one problem at one place, with how bad it is and what would fix it.

Positions are 1-based; ``end_column`` is just past the last character, as in SARIF.  A fix
is one typed edit of main.cf with its applicability; pflint --fix (pfconf.lint.fixer) makes
the edits.
"""

from __future__ import annotations

import enum
from typing import TypeAlias

import attrs

#: From least to most severe; ``--severity-threshold`` picks one of these.
SEVERITIES = ("info", "warning", "error")


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


class Applicability(enum.Enum):
    """Whether ``pflint --fix`` may make a fix's edit (ruff's safe, unsafe, display-only)."""

    #: Made by --fix: what worked keeps working, and no comment is lost.
    SAFE = "safe"
    #: Made only with --unsafe-fixes: it may change what Postfix does (a guessed name, a
    #: value that never took effect).
    UNSAFE = "unsafe"
    #: Described for a person, never made: pflint cannot make it (an edit of master.cf, a
    #: value only the administrator knows).
    DISPLAY_ONLY = "display-only"


# The edits a fix can make, all in main.cf, each through pfconf.edit's MainEditor.


@attrs.frozen
class SetParameter:
    """``parameter = value``: changed in place where it is set, else added."""

    parameter: str
    value: str

    @property
    def parameters(self) -> tuple[str, ...]:
        return (self.parameter,)


@attrs.frozen
class UnsetParameter:
    """Every definition of ``parameter`` removed."""

    parameter: str

    @property
    def parameters(self) -> tuple[str, ...]:
        return (self.parameter,)


@attrs.frozen
class RenameParameter:
    """The effective definition of ``parameter`` renamed ``new_name``, its value kept or,
    where the new parameter spells it differently, replaced by ``value``."""

    parameter: str
    new_name: str
    value: str | None = None

    @property
    def parameters(self) -> tuple[str, ...]:
        return (self.parameter, self.new_name)


@attrs.frozen
class RemoveDefinition:
    """The one definition of ``parameter`` that starts on ``line`` (an earlier duplicate)."""

    parameter: str
    line: int

    @property
    def parameters(self) -> tuple[str, ...]:
        return (self.parameter,)


@attrs.frozen
class RemoveListItem:
    """The item ``item`` (``reject_rbl_client zone`` is one) of the list ``parameter``, the
    one at ``line``:``column``."""

    parameter: str
    item: str
    line: int
    column: int

    @property
    def parameters(self) -> tuple[str, ...]:
        return (self.parameter,)


@attrs.frozen
class ReplaceListItem:
    """The item ``item`` of the list ``parameter`` at ``line``:``column`` replaced by
    ``replacement``."""

    parameter: str
    item: str
    replacement: str
    line: int
    column: int

    @property
    def parameters(self) -> tuple[str, ...]:
        return (self.parameter,)


Edit: TypeAlias = (
    SetParameter
    | UnsetParameter
    | RenameParameter
    | RemoveDefinition
    | RemoveListItem
    | ReplaceListItem
)


@attrs.frozen
class Fix:
    """What would fix a finding: in words, and as an edit with its applicability."""

    description: str
    edit: Edit | None = None
    applicability: Applicability = Applicability.DISPLAY_ONLY

    def __attrs_post_init__(self) -> None:
        if self.edit is None and self.applicability is not Applicability.DISPLAY_ONLY:
            raise ValueError(f"a fix without an edit can only be shown: {self.description!r}")

    @classmethod
    def safe(cls, description: str, edit: Edit) -> Fix:
        return cls(description, edit, Applicability.SAFE)

    @classmethod
    def unsafe(cls, description: str, edit: Edit) -> Fix:
        return cls(description, edit, Applicability.UNSAFE)

    @classmethod
    def display_only(cls, description: str) -> Fix:
        return cls(description)

    def applies(self, *, unsafe: bool = False) -> bool:
        """Whether ``pflint --fix`` makes this fix (with ``--unsafe-fixes`` when ``unsafe``)."""
        if self.edit is None:
            return False
        return self.applicability is Applicability.SAFE or (
            unsafe and self.applicability is Applicability.UNSAFE
        )


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
