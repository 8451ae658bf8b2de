"""Rules about local and virtual delivery and the address classes: home_mailbox shadowed by a
mailbox command or transport, mailbox limits below the message size limit, a domain in two
address classes (PAR014 to PAR016).

Which daemon delivers which class, and each daemon's view of main.cf with its ``-o``
overrides, come from the model (ctx.postfix): nothing here reads main.cf's entries itself.
"""

from __future__ import annotations

from collections.abc import Iterator

from ....model import Parameter
from ....semantics import Configuration, Daemon, Origin
from ....semantics.reading import Word, placed_match_list
from ... import location as at
from ...context import Context
from ...rule import Rule, register


def _agents(ctx: Context, program: str) -> Iterator[tuple[Configuration, str]]:
    """The views of main.cf that ``program`` runs with when it gets mail, with the service
    that runs it: the master.cf services that an address class with domains delivers to."""
    seen: set[str] = set()
    for delivery in ctx.postfix.deliveries:
        daemon: Daemon | None = delivery.daemon
        if daemon is None or daemon.program != program or not delivery.receives:
            continue
        if daemon.key not in seen:
            seen.add(daemon.key)
            yield daemon.config, daemon.key


@register
class HomeMailboxShadowed(Rule):
    """
    ## What it finds
    `home_mailbox` set where local(8) also has `mailbox_transport` or `mailbox_command`,
    judged with the local service's own `-o` settings.

    ## Why it matters
    local(8) delivers a user's mail through, in this order: `mailbox_transport_maps` for the
    users it lists, `mailbox_transport`, `mailbox_command_maps` for the users it lists,
    `mailbox_command`, and only then `home_mailbox`.  With a mailbox command (procmail,
    maildrop, dovecot-lda) or transport set, `home_mailbox` is never used, and whoever edits
    it expects a change that does not happen.  The two lookup tables are different: a user
    they do not list falls through to the next method, so next to them `home_mailbox` still
    serves everyone else and is not reported.

    ## Postfix source
    - local(8) tries, in this order, `mailbox_transport_maps` (for the users it lists),
      `mailbox_transport`, `mailbox_command_maps` (for the users it lists),
      `mailbox_command`, and only then `home_mailbox`: `src/local/mailbox.c`,
      `deliver_mailbox()`.

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
    one_finding_per_place = True

    #: What local(8) tries before home_mailbox for every user, in deliver_mailbox()'s order.
    SHADOWS = ("mailbox_transport", "mailbox_command")

    def check(self, ctx: Context) -> None:
        if ctx.main is None:
            return
        for config, key in _agents(ctx, "local"):
            where = at.setting(config, "home_mailbox")
            if where is None or not (config.value("home_mailbox") or "").strip():
                continue
            for name in self.SHADOWS:
                if not (config.value(name) or "").strip():
                    continue
                origin = config.origin(name)
                place = "" if origin is None else f" ({_place(origin)})"
                self.report(
                    where,
                    f"home_mailbox is never used: local(8) ({key}) hands every user's mail to "
                    f"{name}{place} before it looks at home_mailbox",
                )
                break


def _place(origin: Origin) -> str:
    """Where a setting is written, for a message: main.cf's line or a master.cf ``-o``."""
    return f"main.cf line {origin.line}" if isinstance(origin, Parameter) else "a master.cf -o"


def _size(config: Configuration, name: str) -> int | None:
    """A size as get_mail_conf_long() reads it; None when it is not a plain number (PAR010)
    or depends on what the model cannot know."""
    value = (config.value(name) or "").strip()
    return int(value) if value.isdigit() else None


@register
class MailboxSmallerThanMessage(Rule):
    """
    ## What it finds
    `mailbox_size_limit` (or `virtual_mailbox_limit`) smaller than `message_size_limit`, or
    limited while `message_size_limit` is 0 (unlimited), counting the defaults of the ones
    not set and the delivery service's own `-o` settings.  Only where local(8) (or
    virtual(8)) gets mail: a transport that names a master.cf service running it, for an
    address class that has domains.

    ## Why it matters
    local(8) and virtual(8) refuse to start with "mailbox_size_limit is smaller than
    message_size_limit": local delivery stops entirely.  Raising `message_size_limit` alone,
    as many guides suggest, is the usual way to get there.

    ## Postfix source
    - local(8) and virtual(8) stop at start-up when the mailbox limit is below the message
      limit, or limited while the message size is not ("mailbox_size_limit is smaller than
      message_size_limit", "... is limited but ... is unlimited"): `src/local/local.c`,
      `pre_init()`; `src/virtual/virtual.c`, `pre_init()`.

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
    one_finding_per_place = True

    LIMITS = (("local", "mailbox_size_limit"), ("virtual", "virtual_mailbox_limit"))

    def check(self, ctx: Context) -> None:
        if ctx.main is None:
            return
        for program, limit_name in self.LIMITS:
            for config, key in _agents(ctx, program):
                limit = _size(config, limit_name)
                message = _size(config, "message_size_limit")
                if limit is None or message is None or limit <= 0:
                    continue  # a limit of 0 is no limit (ENFORCING_SIZE_LIMIT)
                if message <= 0:
                    problem = f"{limit_name} is {limit} but message_size_limit is 0 (unlimited)"
                elif limit < message:
                    problem = (
                        f"{limit_name} ({limit}) is smaller than message_size_limit ({message})"
                    )
                else:
                    continue
                where = at.setting(config, limit_name) or at.setting(config, "message_size_limit")
                if where is None:
                    continue  # the release's own defaults, which agree
                self.report(where, f"{problem}: {program}(8) ({key}) will refuse to start")


#: What trivial-rewrite(8) does with a domain listed in two classes (src/trivial-rewrite/
#: resolve.c, resolve_addr(): the first class that lists it wins, in the order of
#: ADDRESS_CLASSES), by (winning parameter, losing parameter): severity and effect.  It logs
#: "do not list domain ... in BOTH" for exactly these pairs; mydestination and relay_domains
#: may overlap (relay_domains = $mydestination was the default before compatibility level 2).
EFFECTS = {
    ("mydestination", "virtual_alias_domains"): (
        "warning",
        (
            "Postfix treats it as local (mydestination comes first): virtual_alias_maps still "
            "rewrite its addresses, as they do for every domain, but an address they do not list "
            "goes to local(8) instead of being rejected as unknown"
        ),
    ),
    ("mydestination", "virtual_mailbox_domains"): (
        "error",
        (
            "Postfix delivers it with the local transport (mydestination comes first): its "
            "virtual mailboxes get no mail, and their users are unknown local users"
        ),
    ),
    ("virtual_alias_domains", "virtual_mailbox_domains"): (
        "error",
        (
            "Postfix treats it as a virtual alias domain (virtual_alias_domains comes first): an "
            "address that virtual_alias_maps do not list is rejected as unknown, so its "
            "mailboxes get mail only through an alias"
        ),
    ),
    ("virtual_alias_domains", "relay_domains"): (
        "error",
        (
            "Postfix treats it as a virtual alias domain (virtual_alias_domains comes first): its "
            "mail is never relayed, and an address that virtual_alias_maps do not list is "
            "rejected as unknown"
        ),
    ),
    ("virtual_mailbox_domains", "relay_domains"): (
        "error",
        (
            "Postfix delivers it to virtual mailboxes (virtual_mailbox_domains comes first): its "
            "mail is never relayed"
        ),
    ),
}


def _domain(word: Word) -> str | None:
    """A domain a match list names literally (not a table, a file, a negation or a
    pattern still holding ``$``), lowered and without a final dot."""
    text = word.text
    if not text or text[0] in "!/" or ":" in text or "$" in text or "{" in text:
        return None
    return text.lower().rstrip(".")


@register
class DomainInTwoClasses(Rule):
    """
    ## What it finds
    A domain listed in two address classes that exclude each other: `mydestination` and
    `virtual_alias_domains` or `virtual_mailbox_domains`, the two virtual classes, or a
    virtual class and `relay_domains`.  The lists are read as Postfix reads them: `$name`
    expanded, and only up to a word that starts with `#`, so a domain written after such a
    "comment" is in no class at all and not reported here (SYN004 is).

    ## Why it matters
    Each domain belongs to exactly one address class, which decides how its mail is
    delivered.  trivial-rewrite(8) takes the first class that lists the domain (local,
    virtual alias, virtual mailbox, relay) and logs "do not list domain ... in BOTH".
    `virtual_alias_maps` apply to every domain either way; what changes is the rest: virtual
    mailboxes behind a local or alias domain get no mail, and a relay domain behind a
    virtual one is never relayed (errors).  A domain in both `mydestination` and
    `virtual_alias_domains` stays local: an address missing from `virtual_alias_maps` is not
    rejected as unknown there but checked against `local_recipient_maps` and, when a local
    user or alias has its name, delivered by local(8) (a warning).

    ## Postfix source
    - trivial-rewrite tries the classes in the order local (`mydestination`), virtual alias,
      virtual mailbox, relay, and logs "do not list domain ... in BOTH ...":
      `src/trivial-rewrite/resolve.c`, `resolve_addr()`.
    - `virtual_alias_maps` are applied by cleanup to every recipient, whatever its class:
      `src/cleanup/cleanup_out_recipient.c`, `cleanup_out_recipient()`.
    - smtpd checks a recipient against the table of its class (local: `local_recipient_maps`;
      virtual alias: `virtual_alias_maps`): `src/smtpd/smtpd_check.c`, `check_rcpt_maps()`.

    ## Example
    ```
    mydestination = example.org, localhost
    virtual_mailbox_domains = example.org
    ```

    ## Use instead
    ```
    mydestination = localhost
    virtual_mailbox_domains = example.org
    ```

    ## Fix
    Keep the domain in the one class that matches how its mail should be delivered.
    """

    code = "PAR016"
    name = "domain-in-two-classes"
    severity = "error"
    summary = "domain listed in two address classes"

    def check(self, ctx: Context) -> None:
        if ctx.main is None:
            return
        config = ctx.configuration
        listed: dict[str, dict[str, Word]] = {}  # parameter -> domain -> its first word
        for address_class in ctx.postfix.address_classes:
            name = address_class.domains_parameter
            if name is None:
                continue
            placed = placed_match_list(config, name)
            domains: dict[str, Word] = {}
            for word in placed.items if placed is not None else ():
                domain = _domain(word)
                if domain is not None:
                    domains.setdefault(domain, word)
            listed[name] = domains
        reported = set()  # a domain of one list is reported with the first pair it is in
        for (first, second), (severity, effect) in EFFECTS.items():
            if config.origin(second) is None:
                continue  # a default list is not the user's to fix
            for domain, word in listed.get(second, {}).items():
                if domain not in listed.get(first, {}) or (second, domain) in reported:
                    continue
                reported.add((second, domain))
                where = at.written(word.written, parameter=second)
                if where is None:
                    continue
                self.report(
                    where,
                    f"{domain} is listed in both {first} and {second}: {effect}",
                    severity=severity,
                )
