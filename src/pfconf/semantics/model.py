"""The whole model: one Postfix configuration as the running system uses it."""

from __future__ import annotations

import functools
from collections.abc import Mapping

from ..kb import Version
from ..model import MainCf, MasterCf
from .addresses import (
    TRANSPORT_TABLES,
    AddressClass,
    Delivery,
    MyNetworks,
    NamedTransport,
    address_classes,
    deliveries,
    my_networks,
    named_transports,
)
from .client import SmtpClient, smtp_clients
from .configuration import Configuration
from .delivery import (
    TRANSPORT_CLASSES,
    OwnAddresses,
    Route,
    class_reachable,
    own_addresses,
    reader_routes,
    routes,
)
from .endpoints import ExternalService
from .postscreen import Postscreen, postscreens
from .restrictions import Written
from .services import Daemon, daemons
from .smtpd import SmtpServer, read_milters, smtp_servers
from .tables import (
    ListFile,
    ProxiedTable,
    ProxyApproval,
    TableReference,
    list_files,
    proxied_tables,
    proxy_approval,
    table_references,
)


class Postfix:
    """A main.cf and master.cf pair as a given Postfix release runs them.

    ``master`` None means the master.cf is not known: no daemon is listed, and the SMTP
    server and client are judged on main.cf alone.
    """

    def __init__(
        self,
        main: MainCf,
        master: MasterCf | None = None,
        version: Version | None = None,
        runtime: Mapping[str, str] | None = None,
        hostname: str | None = None,
    ) -> None:
        self.config = Configuration(main, master, version, runtime, hostname)

    @property
    def version(self) -> Version:
        return self.config.version

    @functools.cached_property
    def daemons(self) -> tuple[Daemon, ...]:
        return daemons(self.config)

    def daemon(self, name: str, type: str) -> Daemon | None:
        """The service ``name/type`` master runs (the last of duplicates, as master 3.5+ does)."""
        found = None
        for daemon in self.daemons:
            if daemon.name == name and daemon.type == type:
                found = daemon
        return found

    def running(self, program: str) -> tuple[Daemon, ...]:
        """The services that run ``program`` (``smtpd``, ``postscreen``...)."""
        return tuple(d for d in self.daemons if d.program == program)

    @functools.cached_property
    def smtp_servers(self) -> tuple[SmtpServer, ...]:
        return smtp_servers(self.config, self.daemons)

    @functools.cached_property
    def cleanup_milters(self) -> tuple[tuple[Daemon | None, Written, ExternalService], ...]:
        """non_smtpd_milters as each cleanup service reads it when it starts
        (cleanup/cleanup_init.c, cleanup_pre_jail()); main.cf's alone when master.cf is not
        known.  cleanup applies them to mail that does not come through smtpd."""
        cleanups: tuple[Daemon | None, ...] = self.running("cleanup")
        if self.config.master is None:
            cleanups = (None,)
        found = []
        for daemon in cleanups:
            config = daemon.config if daemon is not None else self.config
            for written, entry in read_milters(config, "non_smtpd_milters"):
                found.append((daemon, written, entry))
        return tuple(found)

    @functools.cached_property
    def smtp_clients(self) -> tuple[SmtpClient, ...]:
        return smtp_clients(self.config, self.daemons)

    @functools.cached_property
    def postscreens(self) -> tuple[Postscreen, ...]:
        return postscreens(self.daemons)

    @functools.cached_property
    def address_classes(self) -> tuple[AddressClass, ...]:
        return address_classes(self.config)

    @functools.cached_property
    def mynetworks(self) -> MyNetworks:
        return my_networks(self.config)

    @functools.cached_property
    def named_transports(self) -> tuple[NamedTransport, ...]:
        return named_transports(self.config, self.daemons)

    def delivers_with(self, transport: str) -> bool:
        """Whether mail may reach the master.cf service ``transport``, so that master(8)
        starts it: a transport setting names it (for an address class's transport: a class
        mail can reach, so not ``virtual_transport`` without ``virtual_mailbox_domains``;
        main.cf, or a daemon's content_filter override), or a transport table is set whose
        contents the model does not read."""
        for named in self.named_transports:
            klass = TRANSPORT_CLASSES.get(named.parameter)
            if named.transport == transport and (
                klass is None or class_reachable(self.config, klass)
            ):
                return True
        for daemon in self.daemons:
            if daemon.service.override("content_filter") is not None:
                value = (daemon.config.value("content_filter") or "").strip()
                if value.split(":", 1)[0] == transport:
                    return True
        return any((self.config.value(name) or "").strip() for name in TRANSPORT_TABLES)

    @functools.cached_property
    def reached_clients(self) -> tuple[SmtpClient, ...]:
        """The smtp and lmtp clients mail may reach (:meth:`delivers_with` their service); a
        client judged on main.cf alone (no master.cf service) counts as reached."""
        return tuple(
            client
            for client in self.smtp_clients
            if client.daemon is None or self.delivers_with(client.daemon.name)
        )

    @functools.cached_property
    def routes(self) -> tuple[Route, ...]:
        """The next hops main.cf and the overrides name, with the service delivering there."""
        clients = tuple(c.daemon for c in self.smtp_clients)
        return routes(self.config, self.daemons, clients)

    @functools.cached_property
    def routes_as_read(self) -> tuple[Route, ...]:
        """:attr:`routes` as the daemons that read the transport settings see them: the
        ``-o`` overrides of trivial-rewrite and local(8) services count, and main.cf's
        mailbox_transport and fallback_transport only while a local(8) service that mail
        reaches takes them (semantics.delivery.reader_routes)."""
        return reader_routes(
            self.config,
            self.daemons,
            self.routes,
            lambda daemon: self.delivers_with(daemon.name),
        )

    @functools.cached_property
    def proxied_tables(self) -> tuple[ProxiedTable, ...]:
        """The proxy: tables the configuration reads or writes."""
        return proxied_tables(self.config, self.daemons)

    @functools.cached_property
    def table_references(self) -> tuple[TableReference, ...]:
        """Every lookup table a program opens, with where the configuration names it
        (semantics.tables.table_references)."""
        return table_references(self.config, self.daemons)

    @functools.cached_property
    def list_files(self) -> tuple[ListFile, ...]:
        """Every ``/file/name`` item of a match list a program builds
        (semantics.tables.list_files)."""
        return list_files(self.config, self.daemons)

    def proxy_approval(self, write: bool) -> ProxyApproval:
        """What proxymap (``write``: proxywrite) serves, as its service reads main.cf."""
        daemon = self.daemon("proxywrite" if write else "proxymap", "unix")
        config = daemon.config if daemon is not None else self.config
        return proxy_approval(config, write, self.version)

    @functools.cached_property
    def own_addresses(self) -> OwnAddresses:
        """The addresses Postfix counts as this host's (inet_interfaces, proxy_interfaces)."""
        return own_addresses(self.config)

    @functools.cached_property
    def deliveries(self) -> tuple[Delivery, ...]:
        """Each address class with the master.cf service that delivers its mail."""
        return deliveries(self.config, self.daemons)
