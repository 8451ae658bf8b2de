"""PAR004: ``$name`` references, in main.cf values and master.cf ``-o`` values, to
parameters defined nowhere.

Which names are defined comes from pfconf.lint.names; which values Postfix does not expand
from the knowledge base in rules/.
"""

from __future__ import annotations

from collections.abc import Iterator

from ....model import Span
from ....values import Reference, Token, find_references
from ... import location as at
from ...context import Context
from ...location import File
from ...names import NameSpace
from ...rule import Rule, register
from .names import did_you_mean


@register
class UndefinedReference(Rule):
    """
    ## What it finds
    A `$name` or `${name}` reference, in a main.cf value or a master.cf `-o` value, to a
    parameter that is defined nowhere: not in main.cf, not by the service's own `-o`
    options, and not a Postfix parameter with a default.

    ## Why it matters
    Postfix expands an undefined reference to nothing, so `$mua_client_restrictions` in
    the stock master.cf's submission service gives an empty restriction list when main.cf
    does not define it.  postconf warns "undefined parameter" without saying where.

    ## Example
    ```
    smtpd_banner = $myhostnmae ESMTP
    ```

    ## Use instead
    ```
    smtpd_banner = $myhostname ESMTP
    ```

    ## Fix
    Correct the name, or define the parameter in main.cf.  Conditional forms
    (`${name?value}`, `${name:value}`) are meant for names that may be undefined and are
    not reported; nor are values Postfix does not expand (`mailbox_command`, where
    `$EXTENSION` is for the command).
    """

    code = "PAR004"
    name = "undefined-reference"
    severity = "warning"
    summary = "reference to a parameter that is defined nowhere"

    def check(self, ctx: Context) -> None:
        if not ctx.kb.parameters:
            return
        names = NameSpace(ctx)
        for entry in ctx.entries():
            if _raw(ctx, entry.name):
                continue
            for ref in _plain_references(entry.value):
                if names.defined(ref.name):
                    continue
                where = at.token(entry, _token(ref.start, ref.end, entry.value))
                hint = did_you_mean(names.close_defined(ref.name))
                self.report(
                    where, f"${ref.name} is not defined anywhere and expands to nothing{hint}"
                )
        if ctx.master_is_stock or ctx.main is None:
            return  # without main.cf every reference would look undefined
        for config in ctx.services:
            local = set(config.service.overrides)
            for override in config.service.override_list:
                if _raw(ctx, override.name):
                    continue
                for ref in _plain_references(override.value):
                    if ref.name in local or names.defined(ref.name):
                        continue
                    hint = did_you_mean(names.close_defined(ref.name))
                    message = (
                        f"${ref.name} in {config.key}'s -o {override.name} is not defined "
                        f"in main.cf and expands to nothing{hint}"
                    )
                    written = override.value[ref.start : ref.end]
                    argument = override.argument
                    offset = override.text.find(written)
                    if offset >= 0 and argument.line == argument.end_line:
                        span = Span(
                            argument.line,
                            argument.column + offset,
                            argument.line,
                            argument.column + offset + len(written),
                        )
                        where = at.span(
                            File.MASTER, span, parameter=override.name, service=config.key
                        )
                        self.report(where, message)
                    else:
                        self.report(at.override(config, override), message)


def _plain_references(value: str) -> Iterator[Reference]:
    """Unconditional references: not ``${x?...}``/``${x:...}`` themselves, and not inside the
    branch of a conditional that tests the same name (``${x?{$x}}`` only expands when x is set).
    """
    refs = find_references(value)
    conditionals = [r for r in refs if r.form in ("${name?value}", "${name:value}")]
    for ref in refs:
        if ref.form not in ("$name", "${name}", "$(name)"):
            continue
        if any(
            c.start < ref.start and ref.end <= c.end and c.name == ref.name for c in conditionals
        ):
            continue
        yield ref


def _raw(ctx: Context, name: str) -> bool:
    """Raw parameters (mailbox_command, ...) are not $-expanded: "$EXTENSION" is for the command."""
    info = ctx.kb.parameter(name)
    return bool(info and info.get("raw"))


def _token(start: int, end: int, text: str) -> Token:
    return Token(text[start:end], start, end)
