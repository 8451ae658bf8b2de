"""Every pflint rule, one module per rule family; importing this package registers them all."""

from . import (  # noqa: F401
    crossfile,
    daemons,
    dnsbl,
    parameters,
    relay,
    sasl,
    services,
    smtpd,
    syntax,
    tls,
)
