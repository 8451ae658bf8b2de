"""The engine's side of reporting: what rules report becomes findings, each once.

A rule says what and where (``Rule.report``); the Reporter fills in the rule's code and
default severity and the file's path (through ``Context.finding``), and keeps the findings of
one configuration.  It judges nothing.
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

    def report(
        self,
        rule: type[Rule],
        where: Location,
        message: str,
        *,
        fix: Fix | None = None,
        severity: str | None = None,
    ) -> None:
        self.add(self.ctx.finding(rule, where, message, fix=fix, severity=severity))

    def add(self, finding: Finding) -> None:
        """Keep a finding made elsewhere (a rule that yields the findings ``ctx.at_*`` made)."""
        self.findings.append(finding)
