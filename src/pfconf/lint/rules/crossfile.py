"""Rules across main.cf and master.cf: transports that main.cf names and master.cf does not
define, and content filters whose mail has no way back into Postfix.

Both need the real master.cf: when none was found (Postfix's stock one is assumed), they
report nothing, since the user's own master.cf may well define what is missing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import attrs

from ...model import Override, Parameter, Span
from ...values import Token, find_tables
from .. import location as at
from ..context import Context, ServiceConfig
from ..location import File, Location
from ..rule import Rule, register

#: Parameters whose value is ``transport`` or ``transport:nexthop`` (postconf(5)).
_TRANSPORT_PARAMS = (
    "content_filter",
    "default_transport",
    "relay_transport",
    "local_transport",
    "virtual_transport",
    "fallback_transport",
    "mailbox_transport",
)
#: Tables whose results are ``transport:nexthop``; only inline: and static: can be read.
_TRANSPORT_TABLES = (
    "transport_maps",
    "sender_dependent_default_transport_maps",
    "mailbox_transport_maps",
    "fallback_transport_maps",
)
#: The public ports; a reinjection listener is some other, usually local, smtpd service.
_PUBLIC = {"smtp", "25", "submission", "587", "submissions", "smtps", "465"}


@attrs.frozen
class TransportUse:
    """One place that names a transport: the parameter, the transport, and where it is."""

    parameter: str
    transport: str
    nexthop: str
    origin: Parameter | Override
    config: ServiceConfig | None
    span: Span


def _split(value: str) -> tuple[str, str]:
    transport, _, nexthop = value.strip().partition(":")
    return transport, nexthop


def _direct(ctx: Context, origin: Parameter | Override, config: ServiceConfig | None,
            name: str) -> TransportUse | None:  # fmt: skip
    value = origin.value
    transport, nexthop = _split(value)
    if not transport or "$" in transport or "{" in transport:
        return None
    if isinstance(origin, Parameter):
        start = len(value) - len(value.lstrip())
        span = origin.item_span(Token(transport, start, start + len(transport)))
    else:
        span = _word_in_override(origin, transport)
    return TransportUse(name, transport, nexthop, origin, config, span)


def _word_in_override(override: Override, word: str) -> Span:
    """The span of ``word`` inside an override's value (``-o content_filter=WORD:...``), or
    the whole ``name=value`` when it spans lines or the word is not found."""
    span = override.argument
    equals = override.text.find("=")
    offset = override.text.find(word, equals + 1) if equals >= 0 else -1
    if offset < 0 or span.line != span.end_line:
        return span
    column = span.column + offset
    return Span(span.line, column, span.line, column + len(word))


def transport_uses(ctx: Context) -> Iterator[TransportUse]:
    """Every transport named in main.cf or in a master.cf ``-o``, in file order."""
    if ctx.main is not None:
        for entry in ctx.main.entries:
            if entry.name in _TRANSPORT_PARAMS:
                use = _direct(ctx, entry, None, entry.name)
                if use is not None:
                    yield use
            elif entry.name in _TRANSPORT_TABLES:
                yield from _table_uses(entry)
    for config in ctx.services:
        for override in config.service.override_list:
            if override.name in _TRANSPORT_PARAMS:
                use = _direct(ctx, override, config, override.name)
                if use is not None:
                    yield use


def _table_uses(entry: Parameter) -> Iterator[TransportUse]:
    for table in find_tables(entry.value):
        if table.type not in ("inline", "static"):
            continue
        cursor = table.start
        for item in table.entries:
            result = item if table.type == "static" else item.partition("=")[2]
            result = result.strip()
            transport, nexthop = _split(result)
            if not transport or "$" in transport:
                continue
            at = entry.value.find(result, cursor, table.end)
            if at < 0:
                continue
            cursor = at + len(result)
            span = entry.item_span(Token(transport, at, at + len(transport)))
            yield TransportUse(entry.name, transport, nexthop, entry, None, span)


def _where(use: TransportUse) -> Location:
    file = File.MAIN if isinstance(use.origin, Parameter) else File.MASTER
    return at.span(
        file, use.span, parameter=use.parameter, service=use.config.key if use.config else None
    )


@register
class UndefinedTransport(Rule):
    """
    ## What it finds
    A transport named by `content_filter`, `default_transport`, `relay_transport`,
    `local_transport`, `virtual_transport`, `fallback_transport`, `mailbox_transport` (in
    main.cf or a master.cf `-o`), or by an `inline:`/`static:` `transport_maps` entry, that
    master.cf does not define as a `unix` service.

    ## Why it matters
    The queue manager hands each message to the master.cf service of that name.  When
    there is none, every message for it stays in the queue with "mail transport
    unavailable", and with `content_filter` that is all mail.  It typically happens when
    a main.cf from an article is copied without the master.cf half (amavis, dovecot,
    spamassassin).

    ## Example
    ```
    content_filter = amavis:[127.0.0.1]:10024
    ```
    with no `amavis` service in master.cf.

    ## Use instead
    ```
    amavis    unix  -       -       n       -       2       smtp
      -o smtp_data_done_timeout=1200
      -o disable_dns_lookups=yes
    ```
    in master.cf, next to the main.cf setting.

    ## Fix
    Add the service to master.cf, or correct the transport's name.
    """

    code = "XF001"
    name = "undefined-transport"
    severity = "error"
    summary = "transport that master.cf does not define"

    def check(self, ctx: Context) -> None:
        if ctx.master is None or ctx.master_is_stock:
            return
        unix = {s.name for s in ctx.master.services if s.type == "unix"}
        other = {s.name: s.type for s in ctx.master.services if s.type != "unix"}
        for use in transport_uses(ctx):
            if use.transport in unix:
                continue
            if use.transport in other:
                detail = f"master.cf defines {use.transport} only as {other[use.transport]}"
            else:
                detail = f"master.cf has no {use.transport} service"
            self.report(
                _where(use),
                f"{use.parameter} names transport {use.transport!r}, but {detail}: mail for it "
                "stays in the queue (mail transport unavailable)",
            )


def _looks_like_smtp_nexthop(nexthop: str) -> bool:
    """``[127.0.0.1]:10024`` or ``localhost:10024``: an SMTP/LMTP server, not a pipe."""
    return bool(re.fullmatch(r"(\[[^\]]+\]|[\w.-]+):\w+", nexthop.strip()))


@register
class MissingReinjection(Rule):
    """
    ## What it finds
    A `content_filter` that sends mail to an SMTP or LMTP filter (amavis, a spam filter
    listening on a port) while master.cf has no smtpd service to take the filtered mail
    back: an smtpd listener other than the public ports (typically `127.0.0.1:10025`) with
    `-o content_filter=` so that the mail is not filtered again (or with the next filter
    of a chain).

    ## Why it matters
    The filter hands every checked message back to Postfix on its reinjection port.  With
    no listener there, the filter cannot deliver and keeps everything; with a listener
    that still has the content filter, mail loops between Postfix and the filter.

    ## Example
    ```
    content_filter = amavis:[127.0.0.1]:10024
    ```
    with only the `amavis` client service in master.cf.

    ## Use instead
    ```
    127.0.0.1:10025 inet n  -       n       -       -       smtpd
      -o content_filter=
      -o receive_override_options=no_header_body_checks,no_unknown_recipient_checks
      -o mynetworks=127.0.0.0/8
      -o smtpd_recipient_restrictions=permit_mynetworks,reject
    ```

    ## Fix
    Add the reinjection service the filter's documentation gives, with an empty
    `content_filter`.
    """

    code = "XF002"
    name = "missing-reinjection"
    severity = "error"
    summary = "content filter without a service that takes the filtered mail back"
    needs_main = True

    def check(self, ctx: Context) -> None:
        if ctx.master is None or ctx.master_is_stock:
            return
        # Listeners: smtpd services other than the public ports.  One that passes mail on
        # to a different filter is fine too (filters in a chain); one with the same filter
        # would loop.
        listeners = [
            _split(config.value("content_filter") or "")[0]
            for config in ctx.smtpd_services
            if config.service.type == "inet"
            and config.service.name.rsplit(":", 1)[-1] not in _PUBLIC
        ]
        for use in transport_uses(ctx):
            if use.parameter != "content_filter":
                continue
            if any(transport != use.transport for transport in listeners):
                continue
            service = ctx.master.service(use.transport, "unix")
            if service is not None:
                smtp_based = os.path.basename(service.command) in ("smtp", "lmtp")
            else:
                smtp_based = _looks_like_smtp_nexthop(use.nexthop)
            if not smtp_based:
                continue  # pipe-based filters reinject with sendmail
            self.report(
                _where(use),
                f"content_filter sends mail to {use.transport}:{use.nexthop}, but no smtpd "
                "service in master.cf takes it back (such as 127.0.0.1:10025 with "
                "-o content_filter=): filtered mail cannot return",
            )
