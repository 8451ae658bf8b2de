"""The daemons master(8) runs: each master.cf service with its columns as master reads them.

master_ent.c (get_master_ent) fills in what a ``-`` leaves to the default: a service is
private and unprivileged unless it says ``n``; it runs chrooted by default only below
compatibility level 1; its process limit is ``default_process_limit``.  The daemon itself is
the last path component of the command (master runs ``$daemon_directory/command``).
"""

from __future__ import annotations

import functools
import posixpath

import attrs

from ..model import Service
from .configuration import Configuration

#: Ports of the services Postfix's own master.cf names (IANA's registry, as in /etc/services
#: and, from Postfix 3.9, the default of known_tcp_ports).  A name not here is resolved by
#: the host's /etc/services, which pflint does not read: its port stays unknown.
WELL_KNOWN_PORTS = {
    "lmtp": 24,
    "smtp": 25,
    "smtps": 465,
    "submissions": 465,
    "urd": 465,
    "submission": 587,
}


def _bool(text: str, default: bool) -> bool:
    """get_bool_ent(): ``y`` or ``n``, ``-`` for the default (anything else stops master,
    which SYN001 reports)."""
    if text == "-":
        return default
    return text == "y"


@attrs.frozen
class Endpoint:
    """Where an inet service listens: ``host`` (None: every address of inet_interfaces) and
    ``port`` as written, with its number when known."""

    host: str | None
    port: str
    number: int | None


def inet_endpoint(name: str) -> Endpoint:
    """An inet service's name split as master_ent.c does (host_port(): ``[host]:port``,
    ``host:port`` or ``port``)."""
    host: str | None = None
    port = name
    if name.startswith("["):
        close = name.find("]")
        if close > 0 and name[close + 1 : close + 2] == ":":
            host, port = name[1:close], name[close + 2 :]
    elif ":" in name:
        host, port = name.rsplit(":", 1)
    if port.isdigit():
        number: int | None = int(port)
    else:
        number = WELL_KNOWN_PORTS.get(port.lower())
    return Endpoint(host or None, port, number)


@attrs.frozen
class Daemon:
    """One master.cf service as master(8) runs it, with the configuration it sees."""

    service: Service
    #: main.cf with this service's -o overrides: what the daemon reads
    config: Configuration

    @property
    def name(self) -> str:
        return self.service.name

    @property
    def type(self) -> str:
        return self.service.type

    @property
    def key(self) -> str:
        return self.service.key

    @property
    def program(self) -> str:
        """The daemon's program name (``smtpd`` for ``/usr/lib/postfix/sbin/smtpd``)."""
        return posixpath.basename(self.service.command)

    @property
    def private(self) -> bool:
        return _bool(self.service.private, True)

    @property
    def unprivileged(self) -> bool:
        return _bool(self.service.unprivileged, True)

    @property
    def chroot(self) -> bool:
        """Chrooted: ``-`` means yes below compatibility level 1, no from level 1 on."""
        level = self.config.value("compatibility_level") or "0"
        below_1 = level.strip().split(".")[0] in ("", "0")
        return _bool(self.service.chroot, below_1)

    @functools.cached_property
    def process_limit(self) -> int | None:
        """The most processes master starts; ``-`` is default_process_limit as master reads
        it (main.cf, not the service's overrides).  None when it is not a number."""
        text = self.service.process_limit
        if text == "-":
            master = self.config.main_view()
            text = (master.value("default_process_limit") or "").strip()
        return int(text) if text.isdigit() else None

    @functools.cached_property
    def endpoint(self) -> Endpoint | None:
        """Where an inet service listens; None for the other types."""
        if self.type != "inet":
            return None
        return inet_endpoint(self.name)

    @property
    def port(self) -> int | None:
        """The TCP port of an inet service, when its name gives one pflint can resolve."""
        endpoint = self.endpoint
        return endpoint.number if endpoint is not None else None


def daemons(config: Configuration) -> tuple[Daemon, ...]:
    """Every service of the configuration's master.cf, in file order (none without one)."""
    if config.master is None:
        return ()
    return tuple(Daemon(s, config.for_service(s)) for s in config.master.services)
