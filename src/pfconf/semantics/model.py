"""The whole model: one Postfix configuration as the running system uses it."""

from __future__ import annotations

import functools
from collections.abc import Mapping

from ..kb import Version
from ..model import MainCf, MasterCf
from .addresses import (
    AddressClass,
    MyNetworks,
    NamedTransport,
    address_classes,
    my_networks,
    named_transports,
)
from .client import SmtpClient, smtp_clients
from .configuration import Configuration
from .postscreen import Postscreen, postscreens
from .services import Daemon, daemons
from .smtpd import SmtpServer, smtp_servers


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
        return named_transports(self.config)
