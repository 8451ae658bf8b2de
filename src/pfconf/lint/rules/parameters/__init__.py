"""Rules about main.cf parameters, one module per part of the model they judge: names,
values, ``$name`` references, delivery and address classes, the compatibility level.

Importing this package registers them all.
"""

from . import compatibility, delivery, names, references, values  # noqa: F401
