"""PAR013: compatibility_level missing or older than the target version's.

The levels per release come from the knowledge base in rules/parameters.toml.
"""

from __future__ import annotations

import re

import attrs

from ....kb import parse_version, version_text
from ... import location as at
from ...context import Context
from ...rule import Rule, register


@register
class CompatibilityLevel(Rule):
    """
    ## What it finds
    A main.cf without `compatibility_level`, or with a level older than the one the target
    Postfix version recommends.

    ## Why it matters
    Below the current level Postfix keeps old defaults for safety (for example no
    `smtpd_relay_restrictions` default before level 1, `smtputf8_enable = no`, MD5
    fingerprints before 3.6) and logs "using backwards-compatible default setting" at every
    start.  Raising the level after reviewing the changes makes the defaults current.

    ## Example
    ```
    myhostname = mail.example.com
    ```
    (no compatibility_level)

    ## Use instead
    ```
    compatibility_level = 3.6
    myhostname = mail.example.com
    ```

    ## Fix
    Read Postfix's COMPATIBILITY_README for the defaults that change, then set the level.
    """

    code = "PAR013"
    name = "compatibility-level"
    severity = "info"
    summary = "compatibility_level missing or older than the target version's"

    def check(self, ctx: Context) -> None:
        from ....kb import load_table

        if ctx.main is None or not ctx.main.entries:
            return
        levels = load_table("parameters").get("compatibility", {}).get("levels", {})
        current = None
        for version, level in sorted(levels.items(), key=lambda kv: parse_version(kv[0])):
            if parse_version(version)[:2] <= ctx.target[:2]:
                current = str(level)
        if current is None:
            return
        entry = ctx.main.get("compatibility_level")
        if entry is None:
            first = ctx.main.entries[0]
            self.report(
                attrs.evolve(at.name(first), parameter="compatibility_level"),
                f"compatibility_level is not set: Postfix {version_text(ctx.target)} uses "
                f"backwards-compatible defaults; review them and set compatibility_level = {current}",
            )
            return
        value = entry.value
        if "$" in value or not re.fullmatch(r"\d+(\.\d+){0,2}", value):
            return
        if _compat(value) < _compat(current):
            self.report(
                at.value(entry),
                f"compatibility_level {value} is older than {current}, the level of Postfix "
                f"{version_text(ctx.target)}",
            )


def _compat(text: str) -> tuple[int, ...]:
    return parse_version(text) + (0,) * (3 - len(text.split(".")))
