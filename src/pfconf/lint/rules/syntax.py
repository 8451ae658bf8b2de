"""Rules about reading the files: what Postfix refuses, and what it reads differently than it looks."""

from __future__ import annotations

from typing import Iterable

from ...model import MainCf
from ..context import Context
from ..finding import Finding
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

    def check(self, ctx: Context) -> Iterable[Finding]:
        return ()  # reported by the engine, which still lints the other files


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

    def check(self, ctx: Context) -> Iterable[Finding]:
        for doc, path in ((ctx.main, ctx.main_path), (ctx.master, ctx.master_path)):
            if doc is None or (doc is ctx.master and ctx.master_is_stock):
                continue
            what = "parameter" if isinstance(doc, MainCf) else "service"
            for orphan in doc.orphans:
                first = orphan.inner[0]
                text = first.dump().rstrip("\r\n")
                from ...model import Span

                span = Span(orphan.line, 1, orphan.line, len(text) + 1)
                yield ctx.at_span(
                    type(self),
                    path,
                    span,
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

    def check(self, ctx: Context) -> Iterable[Finding]:
        return ()  # reported by the engine after suppressions are applied
