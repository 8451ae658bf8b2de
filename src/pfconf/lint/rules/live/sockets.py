"""Live rules about the UNIX-domain sockets Postfix's daemons connect to: Dovecot's SASL
socket, Milters, and LMTP ``unix:`` next hops, each looked for where the daemon looks.

The model says which daemon connects where (SmtpServer.dovecot_socket and .milters,
Postfix.cleanup_milters, Postfix.routes_as_read); this module asks the Host what is at the
path, taken from queue_directory, and inside it when the daemon runs chrooted (each connects
per session or delivery, after its chroot).  It never connects to anything.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import ClassVar

import attrs

from ....live import Host
from ....semantics.configuration import Configuration
from ....semantics.restrictions import Written
from ....semantics.services import Daemon
from ... import location as at
from ...context import Context
from ...location import Location
from ...rule import register
from .common import LiveRule


@attrs.frozen
class SocketUse:
    """A socket a daemon connects to: where the configuration names it (``where``), the
    text a message quotes (``written``), the socket's ``path`` as the daemon takes it, the
    connecting program and its service (None: main.cf alone, no master.cf), and where the
    daemon runs: its ``queue`` directory and whether it is chrooted there."""

    where: Location
    written: str
    path: str
    program: str
    service: str | None
    queue: str
    chroot: bool

    @property
    def found(self) -> str:
        """The path on this host."""
        return Host.resolve(self.path, queue_directory=self.queue, chroot=self.chroot)


def _use(
    where: Location, written: str, path: str, program: str, daemon: Daemon | None,
    config: Configuration,
) -> SocketUse:  # fmt: skip
    """A socket ``daemon`` (None: main.cf alone, taken as unchrooted, like the chroot
    column ``n`` of Postfix's own master.cf) connects to, reading ``config``."""
    queue = (config.value("queue_directory") or "").strip() or "/"
    chroot = daemon.chroot if daemon is not None else False
    key = daemon.key if daemon is not None else None
    return SocketUse(where, written, path, program, key, queue, chroot)


class SocketRule(LiveRule):
    """A live rule on sockets: each use the subclass lists must lead to a socket."""

    #: what the socket is, for messages ("the Dovecot SASL socket")
    label: ClassVar[str]
    #: what happens when the daemon cannot connect, for messages
    effect: ClassVar[str]

    def uses(self, ctx: Context) -> Iterator[SocketUse]:
        raise NotImplementedError

    def check(self, ctx: Context) -> None:
        groups: dict[tuple[object, ...], list[SocketUse]] = {}
        for use in self.uses(ctx):
            key = (use.where.file, use.where.span, use.written, use.found)
            groups.setdefault(key, []).append(use)
        for uses in groups.values():
            self._judge(self.host(ctx), uses)

    def _judge(self, host: Host, uses: list[SocketUse]) -> None:
        first = uses[0]
        services = tuple(dict.fromkeys(u.service for u in uses if u.service is not None))
        where = first.where
        if len(services) > 1:
            where = attrs.evolve(where, service=None)
        subject = f"{self.label} {first.written}"
        if not first.path:
            named = where.parameter or "the setting"
            self.report(where, f"{self.label}: {named} names no path: {self.effect}")
            return
        found = first.found
        info = host.inspect(found)
        if self.cannot_look(where, subject, found, info.denied):
            return
        if info.problem is None and info.kind == "socket":
            return
        problem = info.problem or f"is {info.what}, not a socket"
        programs: dict[str, list[str]] = {}
        for use in uses:
            keys = programs.setdefault(use.program, [])
            if use.service is not None and use.service not in keys:
                keys.append(use.service)
        who = " and ".join(f"{p} ({', '.join(k)})" if k else p for p, k in programs.items())
        one = len(programs) == 1
        chrooted = first.chroot and os.path.isabs(first.path)
        if chrooted:
            looks = (
                f"{who} {'runs' if one else 'run'} chrooted in {first.queue}, so "
                f"{'it connects' if one else 'they connect'} to {found}"
            )
        elif not os.path.isabs(first.path):
            looks = f"{who} {'takes' if one else 'take'} it from queue_directory: {found}"
        else:
            looks = found
        message = f"{subject}: {looks}, which {problem}"
        if chrooted:
            outside = host.inspect(first.path)
            if outside.problem is None and outside.kind == "socket":
                message += (
                    f" ({first.path} is a socket, but outside the chroot: put the socket "
                    f"below {first.queue}, or set the service's chroot column to n)"
                )
        self.report(where, f"{message}: {self.effect}")


@register
class SaslSocketMissing(SocketRule):
    """
    ## What it finds
    An smtpd service that offers SMTP AUTH (`smtpd_sasl_auth_enable = yes` with its `-o`
    overrides, and a session in which AUTH can be offered) with `smtpd_sasl_type =
    dovecot`, whose `smtpd_sasl_path` is not a socket on this host: missing, a dangling
    link, a regular file, a FIFO.  The path is taken as smtpd takes it: a leading `unix:`
    dropped, relative to `queue_directory`, and inside `queue_directory` when the service
    runs chrooted (master.cf's chroot column).  `inet:host:port` and the Cyrus type (whose
    `smtpd_sasl_path` names an application, not a socket) are left alone.

    ## Why it matters
    smtpd connects to Dovecot's auth socket in each session when it turns SASL on, which it
    does after its chroot.  When the connection fails it logs "SASL: Connect to Dovecot auth
    socket ... failed" and stops with "fatal: no SASL authentication mechanisms": every
    session that would offer AUTH (all of them, or those after STARTTLS with
    `smtpd_tls_auth_only`) ends without a word to the client.  A chrooted smtpd looks below
    `queue_directory` only: Dovecot must create the socket there (`private/auth`).

    ## Postfix source
    - `src/xsasl/xsasl_dovecot_server.c`, `xsasl_dovecot_server_connect()`: `inet:` is a
      TCP endpoint, `unix:` is dropped, anything else is the socket path given to
      `unix_connect()`; `xsasl_dovecot_server_init()` only keeps the path ("late
      binding"), `xsasl_dovecot_server_get_mechanism_list()` connects.
    - `src/smtpd/smtpd_sasl_glue.c`, `smtpd_sasl_activate()`: "no SASL authentication
      mechanisms" when the connection fails; `src/smtpd/smtpd.c`, `smtpd_proto()` and
      `tls_reset()` activate SASL per session, `pre_jail_init()` only
      `smtpd_sasl_initialize()`.
    - `src/master/single_server.c`, `single_server_main()`: the daemon works in
      `queue_directory`, runs its pre-jail initialisation, then `chroot_uid()`
      (`src/util/chroot_uid.c`) enters `queue_directory` as its new root.
    - `src/xsasl/xsasl_server.c`, `xsasl_server_init()`: the type is compared with
      `strcmp()`.

    ## Example
    ```
    smtpd_sasl_auth_enable = yes
    smtpd_sasl_type = dovecot
    smtpd_sasl_path = /var/run/dovecot/auth-client
    ```
    with smtpd chrooted (master.cf: `smtp inet n - y - - smtpd`).

    ## Use instead
    Have Dovecot listen below the queue directory and name it relative to it:
    ```
    smtpd_sasl_path = private/auth
    ```
    (Dovecot: `service auth { unix_listener /var/spool/postfix/private/auth { ... } }`).

    ## Fix
    None: pflint does not configure Dovecot.
    """

    code = "LIVE017"
    name = "sasl-socket-missing"
    severity = "error"
    summary = "smtpd's Dovecot SASL socket (smtpd_sasl_path) is not a socket where smtpd looks"
    label = "the Dovecot SASL socket"
    effect = (
        "smtpd cannot reach Dovecot and ends each session that would offer AUTH "
        '("no SASL authentication mechanisms")'
    )

    def uses(self, ctx: Context) -> Iterator[SocketUse]:
        for server in self.model(ctx).smtp_servers:
            daemon = server.daemon
            if daemon is not None and not daemon.started:
                continue
            path = server.dovecot_socket
            if path is None:
                continue
            config = server.config
            where = at.setting(config, "smtpd_sasl_path") or at.unwritten("smtpd_sasl_path", daemon)
            written = (config.value("smtpd_sasl_path") or "").strip()
            if config.origin("smtpd_sasl_path") is None:
                written += " (smtpd_sasl_path by default)"
            yield _use(where, written, path, "smtpd", daemon, config)


@register
class MilterSocketMissing(SocketRule):
    """
    ## What it finds
    A Milter a running service connects to through a `unix:` or `local:` endpoint whose
    socket is not there on this host: missing, a dangling link, a regular file or FIFO.
    `smtpd_milters` is read per smtpd service with its `-o` overrides (none with
    `receive_override_options = no_milters`), `non_smtpd_milters` per cleanup service; both
    the plain form and `{ unix:/path, name = value ... }`.  A relative path is taken from
    `queue_directory`; an absolute one inside `queue_directory` when the connecting service
    runs chrooted (master.cf's chroot column).  `inet:` endpoints are left alone.

    ## Why it matters
    smtpd and cleanup connect to each Milter per session or message, after their chroot.
    When the socket is not there the Milter fails ("connect to Milter service ...: No such
    file or directory") and `milter_default_action` applies to every message: `tempfail`
    by default, so mail is refused with 451.  The classic case: a Milter listening below
    `/var/run` or `/run` while smtpd runs chrooted in `/var/spool/postfix` (Debian's
    master.cf), where that path does not exist.

    ## Postfix source
    - `src/milter/milter8.c`, `milter8_connect()`: the endpoint is split at its first
      `:`; `unix` connects with `unix_connect`, `local` with `LOCAL_CONNECT`
      (`unix_connect` except on systems built with `STREAM_CONNECTIONS`:
      `src/util/sys_defs.h`), `inet` over TCP; `milter8_create()` leaves the connection to `milter_conn_event()`
      (`src/milter/milter.c`) under `LIBMILTER_AUTO_DISCONNECT`.
    - `src/smtpd/smtpd.c`, `setup_milters()`: smtpd makes its Milters per session;
      `src/cleanup/cleanup_init.c`, `cleanup_pre_jail()`: cleanup makes those of
      `non_smtpd_milters` before its chroot, connecting later.
    - `src/master/single_server.c`, `single_server_main()`: the daemon works in
      `queue_directory`, then `chroot_uid()` enters it.

    ## Example
    ```
    smtpd_milters = unix:/run/opendkim/opendkim.sock
    ```
    with smtpd chrooted (master.cf: `smtp inet n - y - - smtpd`).

    ## Use instead
    Have the Milter listen below the queue directory and name the socket from there:
    ```
    smtpd_milters = unix:opendkim/opendkim.sock
    ```
    (the Milter's socket in `/var/spool/postfix/opendkim/opendkim.sock`), or an `inet:`
    endpoint, or run the service unchrooted.

    ## Fix
    None: pflint does not configure Milters.
    """

    code = "LIVE018"
    name = "milter-socket-missing"
    severity = "error"
    summary = "a Milter's unix: socket is not a socket where the connecting daemon looks"
    label = "the Milter socket"
    effect = (
        "the Milter fails, and milter_default_action (tempfail unless set) decides the "
        "fate of every message"
    )

    def uses(self, ctx: Context) -> Iterator[SocketUse]:
        model = self.model(ctx)
        for server in model.smtp_servers:
            daemon = server.daemon
            if daemon is not None and not daemon.started:
                continue
            for written, entry in server.milters:
                yield from self._use(written, entry.endpoint, entry.unix_socket, "smtpd",
                                     "smtpd_milters", daemon, server.config)  # fmt: skip
        for daemon, written, entry in model.cleanup_milters:
            if daemon is not None and not daemon.started:
                continue
            config = daemon.config if daemon is not None else model.config
            yield from self._use(written, entry.endpoint, entry.unix_socket, "cleanup",
                                 "non_smtpd_milters", daemon, config)  # fmt: skip

    @staticmethod
    def _use(
        written: Written, endpoint: str | None, path: str | None, program: str,
        parameter: str, daemon: Daemon | None, config: Configuration,
    ) -> Iterator[SocketUse]:  # fmt: skip
        if path is None or endpoint is None:
            return
        key = daemon.key if daemon is not None else None
        where = at.written(written, service=key) or at.unwritten(parameter, daemon)
        yield _use(where, endpoint, path, program, daemon, config)


@register
class LmtpSocketMissing(SocketRule):
    """
    ## What it finds
    An LMTP next hop `unix:PATH` that a transport setting sends mail to
    (`mailbox_transport`, `fallback_transport`, `virtual_transport`, `local_transport`,
    `relay_transport`, `default_transport`, `content_filter`, with the `-o` overrides of the
    services that read them) through a running master.cf service that runs lmtp(8), whose
    socket is not there on this host: missing, a dangling link, a regular file or FIFO.
    The path is taken from `queue_directory` when relative (`lmtp:unix:private/dovecot-lmtp`),
    and inside it when the lmtp service runs chrooted.  Next hops that come from tables
    (`transport_maps` and the like) are not read.

    ## Why it matters
    lmtp(8) connects for each delivery, after its chroot; when the socket is not there
    every delivery through it is deferred ("connect to ...: No such file or directory") and
    mail waits in the queue until it bounces after `maximal_queue_lifetime`.

    ## Postfix source
    - `src/smtp/smtp_connect.c`, `smtp_connect()`: in LMTP mode a next hop that starts
      with `unix:` goes to `smtp_connect_local()`, which takes all that follows as the
      socket's path, and `smtp_connect_unix()` connects to it.
    - `src/local/mailbox.c`, `deliver_mailbox()`, and `src/local/unknown.c`,
      `deliver_unknown()`: local(8) hands mail to `mailbox_transport` and
      `fallback_transport`; `src/trivial-rewrite/resolve.c`, `resolve_addr()`: the address
      classes' transports.
    - `src/master/single_server.c`, `single_server_main()`: the daemon works in
      `queue_directory`, then `chroot_uid()` enters it.

    ## Example
    ```
    mailbox_transport = lmtp:unix:/var/run/dovecot/lmtp
    ```
    with lmtp chrooted (master.cf: `lmtp unix - - y - - lmtp`).

    ## Use instead
    ```
    mailbox_transport = lmtp:unix:private/dovecot-lmtp
    ```
    with Dovecot's LMTP listener in `/var/spool/postfix/private/dovecot-lmtp`.

    ## Fix
    None: pflint does not configure the LMTP server.
    """

    code = "LIVE019"
    name = "lmtp-socket-missing"
    severity = "error"
    summary = "an LMTP unix: next hop is not a socket where lmtp(8) looks"
    label = "the LMTP socket"
    effect = "lmtp(8) cannot connect, and every delivery through it is deferred"

    def uses(self, ctx: Context) -> Iterator[SocketUse]:
        for route in self.model(ctx).routes_as_read:
            path = route.unix_socket
            daemon = route.daemon
            if route.fallback or path is None or daemon is None or not daemon.started:
                continue
            written = route.nexthop.strip()
            where = at.setting_origin(route.origin, word=written)
            if where is None:
                where = at.unwritten(route.parameter)
            elif route.config.service is not None and where.file is at.File.MASTER:
                where = attrs.evolve(where, service=route.config.service.key)
            yield _use(where, written, path, "lmtp", daemon, daemon.config)
