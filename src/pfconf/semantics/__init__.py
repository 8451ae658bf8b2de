"""What the running Postfix makes of a main.cf and master.cf pair: the one model rules ask.

Layers, each built on the one before:

- :mod:`.configuration`: the value of every parameter (main.cf, overrides, defaults of the
  target release, ``$name`` expansion), and lists read the way Postfix reads them;
- :mod:`.services`: the daemons master(8) runs, with their columns and ports, and
  :mod:`.programs`: each command line as its daemon's getopt reads it, and what the
  program demands of its service;
- :mod:`.readers`: which program reads which parameter, by release (Daemon.reads and
  Daemon.affected_by ask it for a service);
- :mod:`.restrictions`: smtpd's restriction lists, classes and arguments bound;
- :mod:`.smtpd`: per SMTP server, TLS and AUTH offered;
- :mod:`.model`: the whole: :class:`Postfix` ties them together.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .configuration import Configuration, MatchList, Origin, yes
    from .model import Postfix
    from .restrictions import LISTS, Restriction, RestrictionList, Written
    from .services import Daemon, Endpoint
    from .smtpd import SERVER_CERTIFICATES, Auth, ServerTls, SmtpServer, server_auth, server_tls

# Each name is imported from its module when first asked for: a command that needs one
# layer (pfedit needs .programs to read a command line) does not pay for all of them.
_HOME = {
    "Configuration": "configuration",
    "MatchList": "configuration",
    "Origin": "configuration",
    "yes": "configuration",
    "Postfix": "model",
    "LISTS": "restrictions",
    "Restriction": "restrictions",
    "RestrictionList": "restrictions",
    "Written": "restrictions",
    "Daemon": "services",
    "Endpoint": "services",
    "SERVER_CERTIFICATES": "smtpd",
    "Auth": "smtpd",
    "ServerTls": "smtpd",
    "SmtpServer": "smtpd",
    "server_auth": "smtpd",
    "server_tls": "smtpd",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "LISTS",
    "SERVER_CERTIFICATES",
    "Auth",
    "Configuration",
    "Daemon",
    "Endpoint",
    "MatchList",
    "Origin",
    "Postfix",
    "Restriction",
    "RestrictionList",
    "ServerTls",
    "SmtpServer",
    "Written",
    "server_auth",
    "server_tls",
    "yes",
]
