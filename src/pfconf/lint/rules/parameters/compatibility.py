"""PAR013: compatibility_level missing or older than the target version's, where that leaves
defaults at their old values.

The level each release is current at comes from the knowledge base; which defaults the
configuration's level keeps old, from the model (pfconf.semantics.compatibility).
"""

from __future__ import annotations

import attrs

from ....kb import version_text
from ....model import Parameter
from ....semantics import compatibility
from ... import location as at
from ...context import Context
from ...rule import Rule, register


@register
class CompatibilityLevel(Rule):
    """
    ## What it finds
    A main.cf without `compatibility_level`, or with a level older than the one the target
    Postfix version is current at, where that keeps at least one default at its older value:
    a parameter whose default depends on the level (the release's own defaults, as the
    model expands them) that main.cf does not set.  The message names them.

    ## Why it matters
    Below the current level Postfix keeps old defaults for safety (for example no
    `smtpd_relay_restrictions` default before level 1, `smtputf8_enable = no`, MD5
    fingerprints before 3.6) and logs "using backwards-compatible default setting" when it
    uses one.  Raising the level after reviewing the changes makes the defaults current.
    Where main.cf sets every one of them, the level changes nothing and is not reported.

    ## Postfix source
    - Below the current level the compatibility defaults keep their old values and log "using
      backwards-compatible default setting" when used: `src/global/mail_params.c`,
      `check_legacy_defaults()`.
    - Which defaults depend on the level, by release: COMPATIBILITY_README;
      `rules/parameters.toml`.

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
        if ctx.main is None or not ctx.main.entries:
            return
        current = ctx.kb.compatibility_level()
        config = ctx.configuration
        level = compatibility.level(config)
        if current is None or level is None:
            return  # before 3.0, or a level Postfix cannot read (it stops: not this rule's)
        target = compatibility.parse(current)
        if target is None or level >= target:
            return
        kept = compatibility.changes(config, current)
        if not kept:
            return  # every default the level decides is set explicitly: nothing is old
        shown = ", ".join(kept[:4]) + (f" and {len(kept) - 4} more" if len(kept) > 4 else "")
        entry = config.origin("compatibility_level")
        if not isinstance(entry, Parameter):
            self.report(
                attrs.evolve(at.name(ctx.main.entries[0]), parameter="compatibility_level"),
                f"compatibility_level is not set: Postfix {version_text(ctx.target)} keeps the "
                f"backwards-compatible defaults of level 0 for {shown}; review them and set "
                f"compatibility_level = {current}",
            )
            return
        self.report(
            at.value(entry),
            f"compatibility_level {entry.value} is older than {current}, the level of Postfix "
            f"{version_text(ctx.target)}: {shown} keep older defaults",
        )
