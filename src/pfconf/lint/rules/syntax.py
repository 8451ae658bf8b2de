"""Rules about reading the files: what Postfix refuses, and what it reads differently than it looks."""

from __future__ import annotations

import re

from ...model import MainCf, Parameter, Span
from ...semantics import Configuration, reading
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

    ## Postfix source
    - main.cf: every program reads it with `src/util/dict.c`, `dict_load_fp()` (called from
      `src/global/mail_conf.c`, `mail_conf_suck()`), which stops with a fatal error when
      `src/util/split_nameval.c`, `split_nameval()` finds no name ("missing attribute name",
      a line starting with `=`) or no `=` ("missing '=' after attribute name").
    - master.cf: `src/master/master_ent.c`, `get_master_ent()` stops on a missing field
      (`get_str_ent()`: "missing ... field") or a value it does not accept
      (`fatal_invalid_field()`, `fatal_with_context()`).

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

    ## Postfix source
    - Both files are read one logical line at a time by `src/util/readlline.c`,
      `readllines()`: text that starts with whitespace and continues nothing is dropped with
      "logical line must not start with whitespace".

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

    ## Postfix source
    - The suppression is pflint's own comment; Postfix never sees it: `src/util/readlline.c`,
      `readllines()` skips every line whose first non-blank character is `#`.

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

    ## Postfix source
    - `src/util/readlline.c`, `readllines()` joins a line that starts with whitespace to the
      logical line above it, so the indented text becomes part of that value
      (`src/util/dict.c`, `dict_load_fp()` then stores one name and one value).
    - A number with text after it stops the program that reads it: `src/global/mail_conf_int.c`,
      `convert_mail_conf_int()`, and `src/global/mail_conf_long.c`,
      `convert_mail_conf_long()` ("bad numerical configuration").

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
        config = ctx.configuration
        for entry in ctx.entries():
            in_effect = config.origin(entry.name) is entry
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
                elsewhere = config.origin(name)
                if not in_effect and elsewhere is not None:
                    continue  # a dead value, and the name is set: nothing changes
                column = len(line.indent) + 1
                span = Span(line.line, column, line.line, column + len(name))
                sets = (
                    f"the line does not set {name} (line {elsewhere.line} does)"
                    if isinstance(elsewhere, Parameter)
                    else f"never sets {name}"
                )
                self.report(
                    at.span(File.MAIN, span, parameter=entry.name),
                    f'"{name} = ..." is indented, so Postfix appends it to the value of '
                    f"{entry.name}, and {sets}",
                )


@register
class TrailingComment(Rule):
    """
    ## What it finds
    A `#` after other text on a main.cf value line, as in `smtpd_banner = $myhostname ESMTP # hi`,
    in the definition Postfix uses (an earlier one that a later definition overrides is
    PAR003's).

    ## Why it matters
    Postfix has no trailing comments: a comment must be on a line of its own.  What the `#`
    and the words after it do depends on how the parameter is read (the model's reading
    of it):

    - in free text they become part of the value: the banner above really ends in
      `# hi` (a warning);
    - a match list (`mydestination`, `relay_domains`, `mynetworks`, the virtual domain
      lists...) ends at the word that starts with `#`: Postfix drops it and everything
      after it and logs a warning each time a program reads the list.  A domain or
      network written below the comment is dropped too, so it is in no address class or
      not trusted: an error for the address class lists and `mynetworks`, a warning
      otherwise;
    - a value Postfix checks when any program starts (`myhostname`, `mydomain`,
      `myorigin`, `compatibility_level`, numbers such as `message_size_limit`) is then
      invalid, and every Postfix program stops, `postfix start` included: an error.  So
      is a value that expands into one of them;
    - a number, yes/no, time or fixed choice that one program reads stops that program;
      a lookup-table list gains a table `#` that cannot be opened; a restriction list
      gains restrictions smtpd does not know, and it answers "451 4.3.5 Server
      configuration error": errors.

    ## Postfix source
    - Only a whole line whose first non-blank character is `#` is a comment:
      `src/util/readlline.c`, `readllines()`; `src/util/split_nameval.c`, `split_nameval()`
      keeps the rest of the line in the value.
    - A match list ends at a word that starts with `#`, and the rest is dropped with a
      warning: `src/util/match_list.c`, `match_list_parse()` (Postfix 2.8 and later: "comment
      at end of line is not supported"; from 3.8 through `src/util/mystrtok.c`,
      `mystrtokq_cw()`: "#comment after other text is not allowed").
    - Values every program checks when it starts: `src/global/mail_params.c`,
      `mail_params_init()` (`myhostname` and `mydomain` must be valid host names,
      `myorigin` one word, `compatibility_level` a level; numbers and times through
      `get_mail_conf_int_table()`, `get_mail_conf_long_table()` and
      `get_mail_conf_time_table()`).
    - A number, yes/no or time that is not one stops the program that reads it:
      `src/global/mail_conf_int.c`, `convert_mail_conf_int()`; `src/global/mail_conf_bool.c`,
      `convert_mail_conf_bool()`; `src/global/mail_conf_time.c`, `convert_mail_conf_time()`.
    - A lookup-table list opens every word as a table: `src/global/maps.c`, `maps_create()`;
      `src/util/dict_open.c`, `dict_open()` stops the program on `#` ("expecting "type:name"
      form") up to Postfix 3.11, and in the 3.12 snapshot logs an error and returns a table
      whose every lookup fails (`src/util/dict_surrogate.c`, `dict_surrogate()`).
    - An unknown restriction name: `src/smtpd/smtpd_check.c`, `generic_checks()` logs
      "unknown smtpd restriction" and calls `reject_server_error()` (451 4.3.5).

    ## Example
    ```
    mydomain = example.com # our domain
    ```

    ## Use instead
    ```
    # our domain
    mydomain = example.com
    ```

    ## Fix
    Move the comment to a line of its own above the entry.
    """

    code = "SYN004"
    name = "trailing-comment"
    severity = "warning"
    summary = "a # after text is part of the value, not a comment"

    def check(self, ctx: Context) -> None:
        config = ctx.configuration
        for entry in ctx.effective_entries():
            match = re.search(r"(?<=[ \t\r])#", entry.value)
            if match is None:
                continue  # the first one is enough: the rest of the value follows it
            start = entry.item_span(Token("#", match.start(), match.start() + 1))
            physical = next(p for p in entry.lines if p.span.line == start.line)
            comment = physical.text[start.column - 1 :].rstrip(" \t\v\f\r")
            span = Span(start.line, start.column, start.line, start.column + len(comment))
            message, severity = _effect(ctx, config, entry.name, comment[:40], start.line)
            self.report(at.span(File.MAIN, span, parameter=entry.name), message, severity=severity)


#: What an invalid value is, per check of mail_params_init() and per reading.
_INVALID = {
    reading.HOSTNAME: "not a valid host name",
    reading.ONE_WORD: "more than one word",
    reading.COMPATIBILITY_LEVEL: "not a compatibility level",
    reading.NUMBER: "not a number",
    reading.BOOLEAN: "neither yes nor no",
    reading.TIME: "not a time",
    reading.CHOICE: "not one of its values",
}


def _effect(
    ctx: Context, config: Configuration, name: str, comment: str, line: int
) -> tuple[str, str | None]:
    """What Postfix does with ``comment`` written in the value of ``name``: the message and
    the severity (None: the rule's warning)."""
    how = reading.reading(config, name)
    part = f'"{comment}" is part of the value of {name}, not a comment'
    stops = "every Postfix program stops, postfix start included"
    if how == reading.MATCH_LIST:
        return _match_list_effect(ctx, config, name, comment, line)
    if reading.checked_at_startup(config, name):
        invalid = _INVALID.get(how, "invalid")
        message = f"{part}, and Postfix checks {name} when it starts: the value is {invalid}"
        return f"{message}, so {stops}", "error"
    for other in ctx.kb.startup_checked(config.version):
        if other != name and comment in (config.value(other) or ""):
            message = f"{part}; it ends up in {other}, which Postfix checks when it starts"
            return f"{message}: {stops}", "error"
    if how in (reading.NUMBER, reading.BOOLEAN, reading.TIME, reading.CHOICE):
        message = f"{part}: the value is {_INVALID[how]}"
        return f"{message}, and the programs that read {name} stop", "error"
    if how == reading.TABLES:
        message = f'{part}: "#" is not a type:table lookup table'
        if config.version[:2] >= (3, 12):
            # dict_open() gives a table whose every lookup fails (dict_surrogate())
            return f"{message}, and every lookup in {name} fails", "error"
        return f"{message}, and the programs that open {name} stop", "error"
    if how == reading.RESTRICTIONS:
        message = f'{part}: smtpd reads "#" and the words after it as restrictions it does not know'
        return f'{message}, and answers "451 4.3.5 Server configuration error" there', "error"
    return part, None


def _match_list_effect(
    ctx: Context, config: Configuration, name: str, comment: str, line: int
) -> tuple[str, str | None]:
    """A match list ends at the comment: an error when it drops items written on the lines
    below and the list decides where mail goes or who may relay."""
    message = (
        f'Postfix stops reading the list {name} at "{comment}" and drops the rest, with a '
        "warning each time it reads the list"
    )
    placed = reading.placed_match_list(config, name)
    below = [
        word.text
        for word in (placed.dropped if placed is not None else ())
        if word.written.span is not None and word.written.span.line > line
    ]
    if not below:
        return message, None
    shown = ", ".join(below[:3]) + (f" and {len(below) - 3} more" if len(below) > 3 else "")
    message += f": {shown}, written below, {'is' if len(below) == 1 else 'are'} not in {name}"
    deciding = {c.domains_parameter for c in ctx.postfix.address_classes} | {"mynetworks"}
    if name == "mynetworks":
        return (
            f"{message}, and Postfix does not trust {'it' if len(below) == 1 else 'them'}",
            "error",
        )
    return message, "error" if name in deciding else None


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

    ## Postfix source
    - `src/util/mac_expand.c`, `mac_expand_callback()` refuses more than 100 nested levels
      ("unreasonable macro call nesting").
    - A program that expands the value stops: `src/util/dict.c`, `dict_eval()` ("macro
      processing error"), which `src/global/mail_conf.c`, `mail_conf_eval()` uses.

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
        config = ctx.configuration
        for entry in ctx.effective_entries():
            if not reading.expands(config, entry.name):
                continue  # raw parameters (mailbox_command, ...) are not $-expanded
            found = too_deep(entry.value)
            if found is not None:
                start, end = found
                where = at.token(entry, Token(entry.value[start:end], start, end))
                self.report(where, message.format(name=entry.name))
        for daemon, override in ctx.effective_overrides():
            if (
                reading.expands(daemon.config, override.name)
                and too_deep(override.value) is not None
            ):
                place = at.setting(daemon.config, override.name)
                if place is not None:
                    self.report(place, message.format(name=override.name))
