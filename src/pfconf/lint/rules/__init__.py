"""Every pflint rule, one module per rule family; importing this package registers them all."""

from . import crossfile, daemons, dnsbl, parameters, relay, sasl, services, syntax, tls, values  # noqa: F401
