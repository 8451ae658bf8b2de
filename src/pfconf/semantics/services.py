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

from ..model import Override, Service
from ..values import alldig, find_references, host_port, split_list
from . import readers
from .configuration import Configuration
from .programs import CommandLine, Program, command_line, program

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


def inet_endpoint(name: str) -> Endpoint | None:
    """An inet service's name split as master_ent.c does (host_port() with the default host
    "": ``[host]:port``, ``host:port``, ``:port`` or ``port``); None when master cannot read
    it (MST011 says why)."""
    parsed = host_port(name, "", None)
    if isinstance(parsed, str):
        return None
    port = parsed.port
    number = int(port) if alldig(port) else WELL_KNOWN_PORTS.get(port.lower())
    return Endpoint(parsed.host or None, port, number)


@attrs.frozen
class Daemon:
    """One master.cf service as master(8) runs it, with the configuration it sees."""

    service: Service
    #: main.cf with this service's -o overrides: what the daemon reads
    config: Configuration
    #: the command's arguments as the daemon's getopt reads them (semantics.programs); None
    #: when master refuses a word of them
    command_line: CommandLine | None = None

    @property
    def name(self) -> str:
        return self.service.name

    @property
    def type(self) -> str:
        return self.service.type

    @property
    def key(self) -> str:
        return self.service.key

    @functools.cached_property
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
        """Where an inet service listens; None for the other types, and for a name master
        cannot read."""
        if self.type != "inet":
            return None
        return inet_endpoint(self.name)

    @property
    def port(self) -> int | None:
        """The TCP port of an inet service, when its name gives one pflint can resolve."""
        endpoint = self.endpoint
        return endpoint.number if endpoint is not None else None

    @property
    def overrides(self) -> tuple[Override, ...]:
        """The ``-o`` overrides the daemon reads, in order (its getopt's reading, which
        differs from postconf -P's in a few cases: semantics.programs)."""
        return self.config.overrides

    @property
    def facts(self) -> Program | None:
        """What the program demands of its service (rules/daemons.toml); None for one pflint
        does not know."""
        return program(self.program, self.config.version)

    @functools.cached_property
    def disabled(self) -> bool:
        """Whether master_service_disable keeps master from running the service, or (an inet
        service) an inet_protocols that enables no protocol."""
        return disabled_by_setting(self) or (self.type == "inet" and no_network(self.config))

    @property
    def started(self) -> bool:
        """Whether master ever starts the daemon (not disabled; postlogd only when programs
        log through it)."""
        return _started(self)

    def reads(self, name: str) -> bool | None:
        """Whether the daemon's program reads parameter ``name`` by name, in the
        configuration's release (semantics.readers: its configuration tables and calls, or
        a name it builds from its service's, like pipe's ``<service>_time_limit``).  None
        when pfconf does not know the program or the name."""
        return readers.reads(self.program, name, self.config.version, self.name)

    def affected_by(self, name: str) -> bool | None:
        """Whether a setting of ``name`` can change what this daemon does: it reads the name
        (reads()), or ``$name`` is in the value, as this service sees it, of something it
        reads (a parameter, or for smtpd a restriction class), at any depth: the daemon
        expands such values with its own settings, -o overrides included.  None when
        reads() does not know."""
        direct = self.reads(name)
        if direct or name in self._referenced:
            return True
        return direct

    @functools.cached_property
    def _referenced(self) -> frozenset[str]:
        """The names ``$name`` brings into the values this daemon reads (see affected_by).
        Both branches of ``${x?y}`` and ``${x:y}`` count: more names, never fewer."""
        config = self.config
        version = config.version
        if not readers.known_program(self.program):
            return frozenset()
        pending = [n for n in config.kb.names(version) if self.reads(n)]
        if "smtpd_restriction_classes" in pending:
            # smtpd (and proxymap from 3.11) looks up each class's value by its name
            classes = config.value("smtpd_restriction_classes") or ""
            pending += [token.text for token in split_list(classes)]
        seen: set[str] = set()
        found: set[str] = set()
        while pending:
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            raw = config.raw(name)
            if not raw or "$" not in raw:
                continue
            for reference in find_references(raw):
                found.add(reference.name)
                pending.append(reference.name)
        return frozenset(found)


def daemons(config: Configuration) -> tuple[Daemon, ...]:
    """Every service of the configuration's master.cf, in file order (none without one),
    each with the ``-o`` overrides its daemon's getopt reads."""
    if config.master is None:
        return ()
    found = []
    for service in config.master.services:
        line = command_line(service, config.version)
        overrides = line.overrides if line is not None else None
        found.append(Daemon(service, config.for_service(service, overrides), line))
    return tuple(found)


# -- what master and the program make of a service -------------------------------------------


def no_network(config: Configuration) -> bool:
    """Whether inet_protocols (main.cf: master reads it) enables no protocol, so that master
    puts ``inet`` before master_service_disable and runs no inet service (Postfix 2.9 and
    later; master/master_ent.c, set_master_ent(): "all network protocols are disabled").
    The words are read by util/inet_proto.c, inet_proto_init() with name_mask(); only a value
    of separators alone (or nothing) gives no protocol, an unknown word stops Postfix."""
    if config.version[:2] < (2, 9):
        return False
    value = config.main_view().value("inet_protocols")
    return value is not None and not split_list(value, " \t\r\n,")


def disabled_by_setting(daemon: Daemon) -> bool:
    """master_service_disable as master reads it (main.cf; global/match_service.c,
    match_service_match: ``name/type`` or a bare type, case ignored, ``!`` negates, the
    first match decides; ``name.type`` is the form before Postfix 3.0)."""
    value = daemon.config.main_view().value("master_service_disable") or ""
    for token in split_list(value):
        pattern = token.text
        if "/" not in pattern and "." in pattern:
            head, _, tail = pattern.rpartition(".")
            pattern = f"{head}/{tail}"
        match = True
        while pattern.startswith("!"):
            match, pattern = not match, pattern[1:]
        subject = daemon.key if "/" in pattern else daemon.type
        if subject.lower() == pattern.lower():
            return match
    return False


def _started(daemon: Daemon) -> bool:
    """Whether master ever starts the daemon: postlogd only when programs log through it,
    which they do only with maillog_file set (global/maillog_client.c, maillog_client_init);
    the others are asked for in normal operation."""
    if daemon.disabled:
        return False
    if daemon.program != "postlogd":
        return True
    return bool((daemon.config.main_view().value("maillog_file") or "").strip())


def protocol_families(config: Configuration) -> frozenset[str]:
    """The address families inet_protocols surely enables (``ipv4``, ``ipv6``), as
    util/inet_proto.c, inet_proto_init() reads it: ``all`` is both.  The default is the
    build's (``all`` with IPv6 support, else ``ipv4``), so it counts as IPv4 alone; IPv6
    also needs a kernel that has it (else inet_proto_init() turns it off), which this
    cannot know."""
    value = config.value("inet_protocols")
    if value is None or config.origin("inet_protocols") is None:
        return frozenset({"ipv4"})
    words = {t.text.lower() for t in split_list(value, " \t\r\n,")}
    if "all" in words:
        return frozenset({"ipv4", "ipv6"})
    return frozenset(words & {"ipv4", "ipv6"})
