"""Every pflint rule, one module per rule family; importing this package registers them all."""

from . import parameters, syntax  # noqa: F401
