"""PAR004: ``$name`` references, in main.cf values and master.cf ``-o`` values, to
parameters defined nowhere.

Which references Postfix expands, and which of them find no value, the model says
(Configuration.expansion of the setting in effect, per service for ``-o`` values); which
names postconf still accepts beyond the model's (master.cf service settings, database
table prefixes) comes from pfconf.lint.names.
"""

from __future__ import annotations

from collections.abc import Iterator

from ....model import Span
from ....semantics import Configuration
from ....semantics.reading import expands
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
    options, and not a Postfix parameter with a default.  Only references Postfix reaches
    when it expands the setting in effect count: not one in a definition that a later one
    of the same name overrides, nor one in the branch of `${name?{...}}` or
    `${name:{...}}` that the value of `name` leaves out.

    ## Why it matters
    Postfix expands an undefined reference to nothing, so `$mua_client_restrictions` in the
    submission service of the stock master.cf of Postfix 2.10 to 3.6 gives an empty
    restriction list when main.cf does not define it.  postconf warns "undefined parameter"
    without saying where.

    ## Postfix source
    - An undefined `$name` expands to nothing without an error (only a syntax error stops the
      program): `src/util/mac_expand.c`, `mac_expand_callback()` (`MAC_PARSE_UNDEF`) and
      `src/util/dict.c`, `dict_eval()`.
    - postconf's "undefined parameter" warning, without a line: `src/postconf/postconf_user.c`,
      `pcf_flag_user_parameter()`.
    - `${name?{...}}` and `${name:{...}}` expand only the branch the value selects:
      `src/util/mac_expand.c`, `mac_expand_callback()`.
    - The stock submission entry used `$mua_client_restrictions` from Postfix 2.10 to 3.6:
      `conf/master.cf` (compare the tags v2.10.0 and v3.7.0).

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
        config = ctx.configuration
        for entry in ctx.effective_entries():
            for ref in _undefined(config, entry.name, entry.value, names):
                where = at.token(entry, _token(ref.start, ref.end, entry.value))
                hint = did_you_mean(names.close_defined(ref.name))
                self.report(
                    where, f"${ref.name} is not defined anywhere and expands to nothing{hint}"
                )
        if ctx.main is None:
            return  # without main.cf every reference would look undefined
        for daemon, override in ctx.effective_overrides():
            for ref in _undefined(daemon.config, override.name, override.value, names):
                hint = did_you_mean(names.close_defined(ref.name))
                message = (
                    f"${ref.name} in {daemon.key}'s -o {override.name} is not defined "
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
                else:
                    span = argument
                where = at.span(File.MASTER, span, parameter=override.name, service=daemon.key)
                self.report(where, message)


def _undefined(
    config: Configuration, name: str, value: str, names: NameSpace
) -> Iterator[Reference]:
    """The references written in ``value`` (the setting of ``name`` in effect for ``config``)
    that Postfix expands and finds no value for: the model's undefined names, less those
    postconf defines beyond it.  A reference Postfix never reaches (the branch of a
    conditional not taken, a raw parameter's text) is not one."""
    if not expands(config, name):
        return
    expansion = config.expansion(name)
    if expansion is None:
        return
    missing = {n for n in expansion.undefined if not names.defined(n)}
    for ref in find_references(value):
        if ref.name in missing and ref.form in ("$name", "${name}", "$(name)"):
            yield ref


def _token(start: int, end: int, text: str) -> Token:
    return Token(text[start:end], start, end)
