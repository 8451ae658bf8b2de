"""Every pflint rule, one module per rule family; importing this package registers them all."""

from . import (  # noqa: F401
    client,
    crossfile,
    daemons,
    delivery,
    dnsbl,
    ignored,
    live,
    parameters,
    relay,
    sasl,
    services,
    smtpd,
    startup,
    syntax,
    tls,
    values,
)
