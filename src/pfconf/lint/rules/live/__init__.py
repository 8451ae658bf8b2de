"""The live rules (``LIVE`` codes): what the configuration names on this host, read through
pfconf.live's Host; the engine runs them only under ``pflint --live``.

One module per family, each importing LiveRule from .common: tables (lookup tables and the
files behind them), tls (certificates, keys, chains and CA files),
secrets (the files of tables that hold passwords or private keys), lists
(the files of match lists).  A new family adds its
module here.
"""

from . import lists, secrets, tables, tls  # noqa: F401
