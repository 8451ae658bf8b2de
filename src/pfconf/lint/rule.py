"""The shape of a pflint rule, and the registry every rule module adds itself to.

A rule is a small class: a code (public forever, never reused), a short name, a default
severity, a one-line summary, and a docstring with fixed headings that ``pflint --explain``
prints.  Its ``check`` looks at a Context and reports what it finds with ``self.report(where,
message)``; the engine makes the findings.  Facts it needs live in rules/.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar

from .finding import SEVERITIES, Fix

if TYPE_CHECKING:
    from .context import Context
    from .location import Location
    from .reporter import Reporter

#: Every rule's docstring has these sections, in this order.  "Postfix source" names, one
#: bullet per claim, the Postfix file and function (or document and section) it rests on.
DOC_HEADINGS = (
    "What it finds",
    "Why it matters",
    "Postfix source",
    "Example",
    "Use instead",
    "Fix",
)

_CODE = re.compile(r"^[A-Z]{2,4}\d{3}$")


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[str]
    summary: ClassVar[str]
    #: Old codes of this rule, still accepted by --select, --ignore and suppressions.
    aliases: ClassVar[tuple[str, ...]] = ()
    #: "safe", "unsafe" or "none": whether --fix may apply this rule's fix on its own.
    fix_safety: ClassVar[str] = "none"
    #: The rule judges services by main.cf's settings too, so it cannot judge a master.cf
    #: whose main.cf was not found (what main.cf leaves unset is not known to be unset).
    needs_main: ClassVar[bool] = False
    #: One finding per place: when several services share the setting a finding points at,
    #: the first service's finding stands for all of them even where the words differ (the
    #: engine drops identical findings for every rule).
    one_finding_per_place: ClassVar[bool] = False
    #: The rule looks at the host (pflint --live, pfconf.live): the engine runs it only when
    #: asked, with ``ctx.host`` set; its tests build the files it reads (tests/test_live*.py).
    live: ClassVar[bool] = False

    def __init__(self, reporter: Reporter | None = None) -> None:
        self._reporter = reporter

    def check(self, ctx: Context) -> None:
        """Judge one configuration, calling :meth:`report` for each problem."""
        raise NotImplementedError

    def report(
        self,
        where: Location,
        message: str,
        *,
        fix: Fix | None = None,
        severity: str | None = None,
    ) -> None:
        """Report a problem at ``where`` (see pfconf.lint.location); ``severity`` only when it
        differs from the rule's default.  The engine fills in the code, the path, and drops
        a finding it already has."""
        if self._reporter is None:
            raise RuntimeError(f"{self.code}: rules report through the engine (pfconf.lint.lint)")
        self._reporter.report(type(self), where, message, fix=fix, severity=severity)

    @classmethod
    def doc(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def sections(cls) -> dict[str, str]:
        """The docstring's sections by heading (``## What it finds`` ...)."""
        sections: dict[str, str] = {}
        current = None
        for line in cls.doc().splitlines():
            if line.startswith("## "):
                current = line[3:].strip()
                sections[current] = ""
            elif current is not None:
                sections[current] += line + "\n"
        return {k: v.strip("\n") for k, v in sections.items()}


_REGISTRY: dict[str, type[Rule]] = {}


def register(cls: type[Rule]) -> type[Rule]:
    """Class decorator: add a rule to the registry, checking the fields every rule must have."""
    if not _CODE.match(cls.code):
        raise ValueError(f"bad rule code {cls.code!r}")
    if cls.severity not in SEVERITIES:
        raise ValueError(f"{cls.code}: bad severity {cls.severity!r}")
    for code in (cls.code, *cls.aliases):
        if code in _REGISTRY:
            raise ValueError(f"rule code {code} is used twice")
        _REGISTRY[code] = cls
    return cls


def all_rules(*, live: bool = True) -> list[type[Rule]]:
    """Every registered rule once, in code order.  With ``live=False``, without the LIVE
    rules, which are then not even imported: they bring pfconf.live and its modules, which
    only ``pflint --live`` uses."""
    from . import rules  # noqa: F401  (importing the package registers the rules)

    if live:
        from .rules import live as live_rules  # noqa: F401

    unique = {cls.code: cls for cls in _REGISTRY.values() if live or not cls.live}
    return [unique[code] for code in sorted(unique)]


def rule_for(code: str) -> type[Rule]:
    """The rule with this code or alias; KeyError if there is none."""
    all_rules()
    return _REGISTRY[code.upper()]


def iter_codes() -> Iterator[str]:
    all_rules()
    yield from sorted(_REGISTRY)
