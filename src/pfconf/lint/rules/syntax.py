"""Rules about reading the files: what Postfix refuses, and what it reads differently than it looks."""

from __future__ import annotations

import re

from ...model import MainCf, Span
from ...values import MAX_NESTING, Token, too_deep
from .. import location as at
from ..context import Context
from ..location import File
from ..rule import Rule, register


@register
class SyntaxError_(Rule):
    """
    ## What it finds
    A line Postfix refuses to read: a main.cf line without `=`, a line that starts with `=`,
    a master.cf service with fewer than eight fields or a field Postfix does not accept.

    ## Why it matters
    Postfix stops with a fatal error when it reads such a file: `postfix reload` fails and
    the mail system does not start.  The other files are still checked.

    ## Example
    ```
    myhostname = mail.example.com
    relayhost [smtp.example.net]:587
    ```

    ## Use instead
    ```
    myhostname = mail.example.com
    relayhost = [smtp.example.net]:587
    ```

    ## Fix
    Not fixable automatically: pflint cannot know what the line was meant to say.
    """

    code = "SYN001"
    name = "syntax-error"
    severity = "error"
    summary = "Postfix refuses to read this line"

    def check(self, ctx: Context) -> None:
        return None  # reported by the engine, which still lints the other files


@register
class OrphanLines(Rule):
    """
    ## What it finds
    Indented lines at the top of a file, before its first parameter or service.

    ## Why it matters
    A line that starts with whitespace continues the line above it.  At the top of a file
    there is nothing to continue, so Postfix skips these lines with the warning "logical
    line must not start with whitespace": whatever they set never takes effect.

    ## Example
    ```
      myhostname = mail.example.com
    mydomain = example.com
    ```

    ## Use instead
    ```
    myhostname = mail.example.com
    mydomain = example.com
    ```

    ## Fix
    Remove the leading whitespace, or delete the lines if they are not wanted.
    """

    code = "SYN002"
    name = "orphan-continuation"
    severity = "warning"
    summary = "indented line before the first entry is ignored"

    def check(self, ctx: Context) -> None:
        for doc, file in ((ctx.main, File.MAIN), (ctx.master, File.MASTER)):
            if doc is None or (doc is ctx.master and ctx.master_is_stock):
                continue
            what = "parameter" if isinstance(doc, MainCf) else "service"
            for orphan in doc.orphans:
                first = orphan.inner[0]
                text = first.dump().rstrip("\r\n")
                span = Span(orphan.line, 1, orphan.line, len(text) + 1)
                self.report(
                    at.span(file, span),
                    f"indented line before the first {what} is ignored by Postfix: {text.strip()[:40]!r}",
                )


@register
class UnusedSuppression(Rule):
    """
    ## What it finds
    A `# pflint: disable=CODE` comment that silences no finding of that code on the entry
    or service below it.

    ## Why it matters
    A stale suppression hides nothing today but will hide a real problem tomorrow, and it
    misleads the next reader about what is wrong with the entry.

    ## Example
    ```
    # pflint: disable=PAR001 -- set by our own tooling
    myhostname = mail.example.com
    ```

    ## Use instead
    ```
    myhostname = mail.example.com
    ```

    ## Fix
    Delete the comment, or correct the code it names.
    """

    code = "PFL001"
    name = "unused-suppression"
    severity = "warning"
    summary = "suppression comment silences nothing"

    def check(self, ctx: Context) -> None:
        return None  # reported by the engine after suppressions are applied


_ASSIGNMENT = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)([ \t]*)=")


@register
class SwallowedAssignment(Rule):
    """
    ## What it finds
    An indented line inside a main.cf value that reads like a parameter assignment, such as
    `  mynetworks = 10.0.0.0/8` under `message_size_limit = 10240000`.

    ## Why it matters
    A line that starts with whitespace continues the value above it.  Postfix silently
    appends the text to the previous parameter (here `message_size_limit` becomes
    `10240000  mynetworks = 10.0.0.0/8`, which is invalid) and the intended parameter is
    never set.

    ## Example
    ```
    message_size_limit = 10240000
      mynetworks = 10.0.0.0/8
    ```

    ## Use instead
    ```
    message_size_limit = 10240000
    mynetworks = 10.0.0.0/8
    ```

    ## Fix
    Remove the indentation so that the line starts in column 1.  Not applied automatically:
    the value above changes too.
    """

    code = "SYN003"
    name = "swallowed-assignment"
    severity = "error"
    summary = "indented assignment is merged into the value above"

    def check(self, ctx: Context) -> None:
        for entry in ctx.entries():
            for line in entry.node.continuations:
                match = _ASSIGNMENT.match(line.text)
                if not match:
                    continue
                name = match.group(1)
                # "timeout=10s" inside check_policy_service { ... } is an attribute, not an
                # assignment: only a name Postfix knows, or one written in assignment style
                # ("name = ..."), reads as a misplaced parameter.
                if not (ctx.kb.parameter(name) or (match.group(2) and "_" in name)):
                    continue
                column = len(line.indent) + 1
                span = Span(line.line, column, line.line, column + len(name))
                self.report(
                    at.span(File.MAIN, span, parameter=entry.name),
                    f'"{name} = ..." is indented, so Postfix appends it to the value of '
                    f"{entry.name} and never sets {name}",
                )


@register
class TrailingComment(Rule):
    """
    ## What it finds
    A `#` after other text on a main.cf value line, as in `smtpd_banner = $myhostname ESMTP # hi`.

    ## Why it matters
    Postfix has no trailing comments: a comment must be on a line of its own.  In most
    values the `#` and everything after it become part of the value, so the banner above
    really ends in `# no version`, and a restriction list gains `#` and `no` as
    restrictions.  A match list (`mydestination`, `relay_domains`, `mynetworks`, the
    virtual domain lists...) is different: Postfix stops reading it at the word that starts
    with `#`, drops that word and everything after it, and logs "comment at end of line is
    not supported" each time a program reads the list (util/match_list.c,
    match_list_parse()); a domain written after the `#` is in no address class.

    ## Example
    ```
    smtpd_banner = $myhostname ESMTP # no version
    ```

    ## Use instead
    ```
    # no version
    smtpd_banner = $myhostname ESMTP
    ```

    ## Fix
    Move the comment to a line of its own above the entry.
    """

    code = "SYN004"
    name = "trailing-comment"
    severity = "warning"
    summary = "a # after text is part of the value, not a comment"

    def check(self, ctx: Context) -> None:
        for entry in ctx.entries():
            value = entry.value
            for match in re.finditer(r"(?<=[ \t\r])#", value):
                start = entry.item_span(Token("#", match.start(), match.start() + 1))
                physical = next(p for p in entry.lines if p.span.line == start.line)
                comment = physical.text[start.column - 1 :].rstrip(" \t\v\f\r")
                span = Span(start.line, start.column, start.line, start.column + len(comment))
                if ctx.configuration.reads_as_match_list(entry.name):
                    message = (
                        f"Postfix stops reading the list {entry.name} here and drops "
                        f'"{comment[:40]}" and the rest, with a warning each time it reads '
                        "the list"
                    )
                else:
                    message = (
                        f'"{comment[:40]}" is part of the value of {entry.name}, not a comment'
                    )
                self.report(at.span(File.MAIN, span, parameter=entry.name), message)
                break  # the first one is enough: the rest of the value follows it


@register
class UnreasonableNesting(Rule):
    """
    ## What it finds
    A value whose `${name?{...}}`, `${name:{...}}` or `$(...)` expressions nest more than
    100 levels deep (counting one more level for a `$name` inside the innermost one), in
    main.cf or in a master.cf `-o` option.

    ## Why it matters
    Postfix gives up on such a value: `postconf` warns "unreasonable macro call nesting", and
    every program that uses the parameter stops with "fatal: macro processing error".  No
    real configuration needs this depth; it comes from a generator gone wrong.

    ## Example
    ```
    smtpd_banner = ${a?{${a?{${a?{ ... 101 levels ... }}}}}}
    ```

    ## Use instead
    ```
    smtpd_banner = ${a?{$myhostname ESMTP}}
    ```

    ## Fix
    Not fixable automatically: flatten the expression by hand.
    """

    code = "SYN005"
    name = "unreasonable-nesting"
    severity = "error"
    summary = f"$-expressions nested more than {MAX_NESTING} levels deep"

    def check(self, ctx: Context) -> None:
        message = (
            "{name}: $-expressions nested more than "
            f'{MAX_NESTING} levels deep: Postfix stops with "unreasonable macro call nesting"'
        )
        for entry in ctx.entries():
            if _raw(ctx, entry.name):
                continue
            found = too_deep(entry.value)
            if found is not None:
                start, end = found
                where = at.token(entry, Token(entry.value[start:end], start, end))
                self.report(where, message.format(name=entry.name))
        if ctx.master is None or ctx.master_is_stock:
            return
        for config in ctx.services:
            for override in config.service.override_list:
                if not _raw(ctx, override.name) and too_deep(override.value) is not None:
                    self.report(at.override(config, override), message.format(name=override.name))


def _raw(ctx: Context, name: str) -> bool:
    """Raw parameters (mailbox_command, ...) are not $-expanded, so never nest too deeply."""
    info = ctx.kb.parameter(name)
    return bool(info and info.get("raw"))
