"""Settings that stop a Postfix program at start-up or at its first use, and that fit no
other family: log file prefixes, proxied tables, caches, addresses and delimiters.
"""

from __future__ import annotations
