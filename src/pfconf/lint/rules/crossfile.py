"""Rules across main.cf and master.cf: transports that settings name and master.cf does not
define, and content filters whose mail has no way back into Postfix.

Both ask the model: the transports settings name (semantics.addresses, named_transports)
and the daemons master runs.  Both need the real master.cf: when none was found (Postfix's
stock one is assumed), they report nothing, since the user's own master.cf may well define
what is missing.
"""

from __future__ import annotations

import re

from ...semantics.addresses import NamedTransport
from .. import location as at
from ..context import Context
from ..rule import Rule, register

#: The public ports; a reinjection listener is some other, usually local, smtpd service.
_PUBLIC = (25, 465, 587)


def _real(ctx: Context) -> bool:
    return ctx.master is not None and not ctx.master_is_stock


def _written(ctx: Context) -> list[NamedTransport]:
    """The transports main.cf and the running services' ``-o`` name (not the defaults, which
    name the services of Postfix's stock master.cf)."""
    return [
        named
        for named in ctx.postfix.named_transports
        if named.written is not None and (named.daemon is None or not named.daemon.disabled)
    ]


@register
class UndefinedTransport(Rule):
    """
    ## What it finds
    A transport named by `content_filter`, `default_transport`, `relay_transport`,
    `local_transport`, `virtual_transport`, `fallback_transport`, `mailbox_transport` (in
    main.cf or a master.cf `-o`, with `$name` expanded), or by an `inline:`/`static:`
    transport table entry (`transport_maps` and the other transport tables), that master.cf
    does not define as a `unix` service, or that `master_service_disable` turns off.
    Transports only the defaults name (`smtp`, `relay`...) are those of Postfix's stock
    master.cf and are not checked.

    ## Why it matters
    The queue manager hands each message to the master.cf service of that name.  When
    there is none, every message for it stays in the queue with "mail transport
    unavailable", and with `content_filter` that is all mail.  It typically happens when
    a main.cf from an article is copied without the master.cf half (amavis, dovecot,
    spamassassin).

    ## Postfix source
    - The queue manager connects to the transport's service in the private class
      (private/TRANSPORT) and, when that fails, logs "connect to transport ..." and defers:
      `src/qmgr/qmgr_transport.c`, `qmgr_transport_alloc()` and `qmgr_transport_event()`;
      the deferral reason "mail transport unavailable": `src/qmgr/qmgr_deliver.c`,
      `qmgr_deliver()`.  Reproduced on a running Postfix by
      corpus/rules/XF001/fire/runtime.toml.
    - `content_filter` is attached to each message as it is received: `src/smtpd/smtpd.c`,
      `mail_open_stream()`; `src/pickup/pickup.c`, `pickup_copy()`.
    - A disabled service is not started: `proto/postconf.proto` (master_service_disable).

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
        if not _real(ctx):
            return
        for named in _written(ctx):
            transport = named.transport
            service = ctx.postfix.daemon(transport, "unix")
            if service is not None and not service.disabled:
                continue
            where = at.transport(named)
            if where is None:
                continue
            others = sorted({d.type for d in ctx.postfix.daemons if d.name == transport} - {"unix"})
            if service is not None:
                detail = f"master_service_disable turns off {transport}/unix"
            elif others:
                detail = f"master.cf defines {transport} only as {', '.join(others)}"
            else:
                detail = f"master.cf has no {transport} service"
            self.report(
                where,
                f"{named.parameter} names transport {transport!r}, but {detail}: mail for it "
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

    ## Postfix source
    - The filter delivers the checked mail back over SMTP to a dedicated smtpd, which must
      set `-o content_filter=` "or else mail will loop": FILTER_README ("Advanced content
      filter example", the `localhost:10026` service).
    - Each smtpd attaches its `content_filter` to the mail it receives, so a reinjection
      service that keeps it sends the mail to the filter again: `src/smtpd/smtpd.c`,
      `mail_open_stream()`.

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
        if not _real(ctx):
            return
        # Listeners: smtpd services other than the public ports.  One that passes mail on
        # to a different filter is fine too (filters in a chain); one with the same filter
        # would loop.
        listeners = [
            (daemon.config.value("content_filter") or "").partition(":")[0].strip()
            for daemon in ctx.postfix.running("smtpd")
            if daemon.type == "inet" and not daemon.disabled and daemon.port not in _PUBLIC
        ]
        for named in _written(ctx):
            if named.parameter != "content_filter":
                continue
            if any(transport != named.transport for transport in listeners):
                continue
            service = ctx.postfix.daemon(named.transport, "unix")
            if service is not None:
                smtp_based = service.program in ("smtp", "lmtp")
            else:
                smtp_based = _looks_like_smtp_nexthop(named.nexthop)
            where = at.transport(named)
            if not smtp_based or where is None:
                continue  # pipe-based filters reinject with sendmail
            self.report(
                where,
                f"content_filter sends mail to {named.transport}:{named.nexthop}, but no "
                "smtpd service in master.cf takes it back (such as 127.0.0.1:10025 with "
                "-o content_filter=): filtered mail cannot return",
            )
