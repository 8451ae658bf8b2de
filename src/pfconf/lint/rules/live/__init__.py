"""The live rules (``LIVE`` codes): what the configuration names on this host, read through
pfconf.live's Host; the engine runs them only under ``pflint --live``.

One module per family, each importing LiveRule from .common: tables (lookup tables and the
files behind them), lists (the files of match lists), secrets (the files of tables that
hold passwords or private keys), tls (certificates, keys, chains and CA files), sockets (the
SASL, Milter and LMTP sockets daemons connect to), programs (the commands master.cf, pipe(8)
and local(8) run, and the directories mail is delivered to).  A new family adds its module
here.
"""

from . import lists, programs, secrets, sockets, tables, tls  # noqa: F401
