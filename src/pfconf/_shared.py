"""Small bounded memories shared by the documents of one process.

A run over many host directories reads the same master.cf again and again (a fleet's hosts
share it byte for byte), and each time worked out the same services, command lines and
checks.  Documents are immutable, so what is worked out from identical text can be shared:
the parsed nodes by the text itself, the services by the nodes' identity, a command line by
its service's identity.  Each memory keeps a bounded number of entries (the oldest goes
first), so a long-running process (the language server) does not grow without end, and is
safe to use from several threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
O = TypeVar("O")


class Memory(Generic[K, V]):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._entries: dict[K, V] = {}
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            return self._entries.get(key)

    def put(self, key: K, value: V) -> V:
        with self._lock:
            if key not in self._entries and len(self._entries) >= self.limit:
                del self._entries[next(iter(self._entries))]
            self._entries[key] = value
        return value


class ByIdentity(Generic[O, V]):
    """What was worked out from an object, by the object's identity (not equality: two
    equal syntax nodes on different lines give different spans).  The object is kept with
    its value, so that its id cannot be reused while the entry is there."""

    def __init__(self, limit: int) -> None:
        self._memory: Memory[tuple[int, Hashable], tuple[O, V]] = Memory(limit)

    def get(self, owner: O, extra: Hashable, make: Callable[[], V]) -> V:
        key = (id(owner), extra)
        found = self._memory.get(key)
        if found is not None and found[0] is owner:
            return found[1]
        value = make()
        self._memory.put(key, (owner, value))
        return value
