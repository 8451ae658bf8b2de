"""The engine's side of reporting: what rules report becomes findings, each once.

A rule says what and where (``Rule.report``); the Reporter fills in the rule's code and
default severity and the file's path (through ``Context.finding``), and keeps the findings of
one configuration, dropping repeats.  It judges nothing.

Repeats are common: rules judge each smtpd service, and services share main.cf's settings, so
one main.cf line is found wanting once per service.  A finding with the same code, path, span
and message as one already kept is dropped; for a rule with ``one_finding_per_place`` the
message does not count (the first service's words stand for all of them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .finding import Finding, Fix
from .location import Location

if TYPE_CHECKING:
    from .context import Context
    from .rule import Rule


class Reporter:
    """Collects the findings the rules report on one configuration (a main.cf and master.cf)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.findings: list[Finding] = []
        self._seen: set[tuple[object, ...]] = set()

    def report(
        self,
        rule: type[Rule],
        where: Location,
        message: str,
        *,
        fix: Fix | None = None,
        severity: str | None = None,
    ) -> None:
        self.add(self.ctx.finding(rule, where, message, fix=fix, severity=severity), rule)

    def add(self, finding: Finding, rule: type[Rule]) -> None:
        """Keep ``finding`` unless it repeats one already kept (see the module's docstring)."""
        key: tuple[object, ...] = (finding.code, finding.path, finding.line, finding.column)
        key += (finding.end_line, finding.end_column)
        if not rule.one_finding_per_place:
            key += (finding.message,)
        if key in self._seen:
            return
        self._seen.add(key)
        self.findings.append(finding)
