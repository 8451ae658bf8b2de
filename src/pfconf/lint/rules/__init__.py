"""Every pflint rule, one module per rule family; importing this package registers them all
but the LIVE rules of .live, which pfconf.lint.rule.all_rules imports when they are asked
for (the engine asks only under ``pflint --live``)."""

from . import (  # noqa: F401
    client,
    crossfile,
    daemons,
    delivery,
    dnsbl,
    ignored,
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
