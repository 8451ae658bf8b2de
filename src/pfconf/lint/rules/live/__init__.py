"""The live rules (``LIVE`` codes): what the configuration names on this host, read through
pfconf.live's Host; the engine runs them only under ``pflint --live``.

One module per family, each importing LiveRule from .common: tables (lookup tables and the
files behind them), tls (certificates, keys, chains and CA files), programs (the programs
master.cf, pipe(8) and local(8) run, and the mailbox directories).  A new family adds its
module here.
"""

from . import programs, tables, tls  # noqa: F401
