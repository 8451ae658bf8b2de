"""Rules about how local and virtual delivery and the address classes read main.cf:
home_mailbox shadowed by a mailbox command or transport, mailbox limits below the message
size limit, a domain in two address classes (PAR014 to PAR016).
"""

from __future__ import annotations

from collections.abc import Iterator

from ....model import Item, Parameter
from ....values import find_references
from ... import location as at
from ...context import Context
from ...rule import Rule, register
from .values import NUMBER


@register
class HomeMailboxShadowed(Rule):
    """
    ## What it finds
    `home_mailbox` set together with `mailbox_command`, `mailbox_command_maps`,
    `mailbox_transport` or `mailbox_transport_maps`.

    ## Why it matters
    local(8) hands mail to the first of these it finds, and `home_mailbox` comes after all
    of them: with a mailbox command (procmail, maildrop, dovecot-lda) or transport set,
    `home_mailbox` is never used, and whoever edits it expects a change that does not
    happen.

    ## Example
    ```
    home_mailbox = Maildir/
    mailbox_command = procmail -a "$EXTENSION"
    ```

    ## Use instead
    ```
    mailbox_command = procmail -a "$EXTENSION"
    ```
    (and set the Maildir location in procmail's configuration)

    ## Fix
    Delete `home_mailbox`, or the command or transport if local(8) should deliver itself.
    """

    code = "PAR014"
    name = "home-mailbox-shadowed"
    severity = "warning"
    summary = "home_mailbox is never used next to a mailbox command or transport"

    SHADOWS = (
        "mailbox_transport_maps",
        "mailbox_transport",
        "mailbox_command_maps",
        "mailbox_command",
    )

    def check(self, ctx: Context) -> None:
        if ctx.main is None:
            return
        home = ctx.main.get("home_mailbox")
        if home is None or not home.value:
            return
        for name in self.SHADOWS:
            other = ctx.main.get(name)
            if other is not None and other.value:
                self.report(
                    at.name(home),
                    f"home_mailbox is never used: {name} on line {other.line} takes precedence",
                )
                return


def _number(ctx: Context, name: str) -> int | None:
    entry = ctx.main.get(name) if ctx.main else None
    if entry is not None:
        value = entry.value
    else:
        info = ctx.kb.parameter(name)
        value = str(info.get("default", "")) if info else ""
    return int(value) if NUMBER.match(value or "x") else None


@register
class MailboxSmallerThanMessage(Rule):
    """
    ## What it finds
    `mailbox_size_limit` (or `virtual_mailbox_limit`) smaller than `message_size_limit`,
    counting the defaults of the ones not set.

    ## Why it matters
    local(8) and virtual(8) refuse to start with "mailbox_size_limit is smaller than
    message_size_limit": local delivery stops entirely.  Raising `message_size_limit`
    alone, as many guides suggest, is the usual way to get there.

    ## Example
    ```
    message_size_limit = 104857600
    ```
    (mailbox_size_limit left at its default of 51200000)

    ## Use instead
    ```
    message_size_limit = 104857600
    mailbox_size_limit = 0
    ```

    ## Fix
    Raise the mailbox limit (0 means unlimited) or lower the message limit.
    """

    code = "PAR015"
    name = "mailbox-smaller-than-message"
    severity = "error"
    summary = "mailbox size limit below the message size limit"

    def check(self, ctx: Context) -> None:
        if ctx.main is None:
            return
        message = _number(ctx, "message_size_limit")
        if message is None:
            return
        for limit_name in ("mailbox_size_limit", "virtual_mailbox_limit"):
            # The check is made by the delivery agent, so it matters only where local(8) or
            # virtual(8) delivers: not for a null client (local_transport = error:...) nor
            # when virtual mailboxes go to Dovecot (virtual_transport = lmtp:...).
            if limit_name == "virtual_mailbox_limit" and not (
                _set(ctx, "virtual_mailbox_domains")
                and _transport(ctx, "virtual_transport", "virtual")
            ):
                continue
            if limit_name == "mailbox_size_limit" and not _transport(
                ctx, "local_transport", "local"
            ):
                continue
            limit = _number(ctx, limit_name)
            if limit is None or limit == 0:
                continue
            problem = None
            if message == 0:
                problem = f"{limit_name} is {limit} but message_size_limit is 0 (unlimited)"
            elif limit < message:
                problem = f"{limit_name} ({limit}) is smaller than message_size_limit ({message})"
            if problem is None:
                continue
            anchor = ctx.main.get(limit_name) or ctx.main.get("message_size_limit")
            if anchor is None:
                continue
            self.report(
                at.value(anchor),
                f"{problem}: {'local' if limit_name == 'mailbox_size_limit' else 'virtual'}(8) "
                "will refuse to start",
            )


def _transport(ctx: Context, name: str, agent: str) -> bool:
    """Whether the transport parameter ``name`` (default: ``agent``) still names ``agent``."""
    entry = ctx.main.get(name) if ctx.main else None
    if entry is None:
        return True
    value = entry.value
    if "$" in value:
        return True  # unknown until expanded: keep checking
    return value.split(":", 1)[0] == agent


def _set(ctx: Context, name: str) -> bool:
    entry = ctx.main.get(name) if ctx.main else None
    return entry is not None and bool(entry.value)


def _domains(ctx: Context, entry: Parameter, depth: int = 0) -> Iterator[tuple[str, Item]]:
    """The literal domains of a domain list, following simple $name references in main.cf.

    These are match lists: a word that starts with "#" ends the list, and the domains after
    it are in no class at all (util/match_list.c, match_list_parse())."""
    for item in entry.items:
        text = item.text
        if text.startswith("#"):
            return
        if text.startswith("$") and depth < 5:
            ref = find_references(text)
            if ref and ref[0].start == 0 and ref[0].end == len(text) and ctx.main is not None:
                target = ctx.main.get(ref[0].name)
                if target is not None:
                    for domain, _ in _domains(ctx, target, depth + 1):
                        yield domain, item
            continue
        if ":" in text or "$" in text or "/" in text:
            continue
        yield text.lower().rstrip("."), item


@register
class DomainInTwoClasses(Rule):
    """
    ## What it finds
    A domain listed in two address classes that exclude each other: `mydestination` and
    `virtual_alias_domains` or `virtual_mailbox_domains`, the two virtual classes, or a
    virtual class and `relay_domains`.

    ## Why it matters
    Each domain belongs to exactly one address class, which decides how its mail is
    delivered.  Postfix picks one class and logs "do not list domain ... in BOTH"; the
    other setting is silently ignored, so aliases or mailboxes that look configured do not
    work.

    ## Example
    ```
    mydestination = example.org, localhost
    virtual_alias_domains = example.org
    ```

    ## Use instead
    ```
    mydestination = localhost
    virtual_alias_domains = example.org
    ```

    ## Fix
    Keep the domain in the one class that matches how its mail should be delivered.
    """

    code = "PAR016"
    name = "domain-in-two-classes"
    severity = "error"
    summary = "domain listed in two address classes"

    # The pairs trivial-rewrite(8) warns about (src/trivial-rewrite/resolve.c@v3.11.0).
    # mydestination and relay_domains may overlap: relay_domains = $mydestination was the
    # default before compatibility level 2.
    PAIRS = (
        ("mydestination", "virtual_alias_domains"),
        ("mydestination", "virtual_mailbox_domains"),
        ("virtual_alias_domains", "virtual_mailbox_domains"),
        ("virtual_alias_domains", "relay_domains"),
        ("virtual_mailbox_domains", "relay_domains"),
    )

    def check(self, ctx: Context) -> None:
        if ctx.main is None:
            return
        domains: dict[str, dict[str, Item]] = {}
        for pair in self.PAIRS:
            for name in pair:
                entry = ctx.main.get(name)
                if name not in domains and entry is not None:
                    found: dict[str, Item] = {}
                    for domain, item in _domains(ctx, entry):
                        found.setdefault(domain, item)
                    domains[name] = found
        reported = set()  # a domain of one list is reported with the first pair it is in
        for first, second in self.PAIRS:
            if first not in domains or second not in domains:
                continue
            entry = ctx.main.get(second)
            assert entry is not None
            for domain, item in domains[second].items():
                if domain in domains[first] and (second, domain) not in reported:
                    reported.add((second, domain))
                    self.report(
                        at.item(entry, item),
                        f"{domain} is listed in both {first} and {second}: "
                        "Postfix uses only one of them",
                    )
