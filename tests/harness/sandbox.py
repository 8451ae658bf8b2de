"""The sandbox every end-to-end test runs in: a private network namespace for the test's own
thread, and the components (Postfix, SMTP sink, DNS, later Dovecot) started inside it.

Entering moves the calling thread, pytest's, into a new network namespace with nothing in
it but a loopback interface; the processes and threads started from there inherit it, so
no packet can leave, ports are free, and 127.0.0.1:53 can be a fake DNS server.  Leaving
stops the components in reverse order, kills by PID every process still in the namespace,
and moves the thread back.  Nothing here may survive the ``with`` block, whatever happened
inside it.

A client outside ``mynetworks``: the whole of 198.51.100.0/24 (TEST-NET-2) is routed to the
loopback interface as *local* (``ip route add local 198.51.100.0/24 dev lo``), so a client
socket may bind any of its addresses as its source and connect to Postfix on 127.0.0.1.
These addresses are not interface addresses, so Postfix's ``mynetworks_style = host`` or
``subnet`` never count them as the machine's own, whatever inet_interfaces says (with
``inet_interfaces = all`` an address added by ``ip addr add`` lands in mynetworks).  The
client is then outside 127.0.0.0/8 and outside anything the machine calls its own.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import time
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self from Python 3.11 on

#: The network whose addresses clients "from elsewhere" use (TEST-NET-2, RFC 5737).
FOREIGN_NETWORK = "198.51.100.0/24"
#: A client address outside 127.0.0.0/8 and outside the machine's own addresses.
FOREIGN_ADDRESS = "198.51.100.10"

CLONE_NEWNET = 0x40000000


class HarnessError(Exception):
    """The sandbox, or a component in it, could not be set up as asked."""


class Component(Protocol):
    """What runs inside a sandbox: started once, stopped once, and ``stop`` also cleans up
    after a ``start`` that failed half-way."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


C = TypeVar("C", bound=Component)


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _namespace_call(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def find_tool(name: str) -> str:
    """The path of a system tool the sandbox needs (``ip``, ``unshare``, ``mount``)."""
    found = shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/sbin/{name}", f"/usr/bin/{name}")
         if os.access(p, os.X_OK)),
        None,
    )  # fmt: skip
    if found is None:
        raise HarnessError(f"{name} is not installed (iproute2 has ip; util-linux has unshare)")
    return found


def _namespace_id(path: str) -> tuple[int, int]:
    info = os.stat(path)
    return info.st_dev, info.st_ino


class Sandbox:
    """A private network namespace for the current thread, and what runs in it.

    Use it as a context manager, and :meth:`start` components inside it: they are stopped
    on exit.  ``killed`` lists the leftover processes the exit had to kill (none, when
    every component stops cleanly).
    """

    foreign_address = FOREIGN_ADDRESS

    def __init__(self) -> None:
        self.killed: list[tuple[int, str]] = []
        self._home: int | None = None
        self._namespace: tuple[int, int] | None = None
        self._stack = contextlib.ExitStack()
        self._components: list[Component] = []

    @property
    def active(self) -> bool:
        """Whether the calling thread is inside this sandbox's network namespace."""
        return (
            self._namespace is not None
            and _namespace_id("/proc/thread-self/ns/net") == self._namespace
        )

    def __enter__(self) -> Self:
        if os.geteuid() != 0:
            raise HarnessError("the sandbox needs root (network and mount namespaces)")
        ip = find_tool("ip")
        libc = _libc()
        self._home = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        try:
            _namespace_call(libc.unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)")
        except BaseException:
            os.close(self._home)
            self._home = None
            raise
        self._namespace = _namespace_id("/proc/thread-self/ns/net")
        try:
            for args in (
                ["link", "set", "lo", "up"],
                ["route", "add", "local", FOREIGN_NETWORK, "dev", "lo"],
            ):
                done = subprocess.run([ip, *args], capture_output=True, text=True, timeout=10,
                                      check=False)  # fmt: skip
                if done.returncode != 0:
                    raise HarnessError(f"ip {' '.join(args)}: {done.stderr.strip()}")
        except BaseException:
            self._leave()
            raise
        return self

    def adopt(self, component: C) -> C:
        """Have ``component`` stopped when the sandbox is left (once, however often it is
        adopted), without starting it."""
        if not any(c is component for c in self._components):
            self._components.append(component)
            self._stack.callback(component.stop)
        return component

    def start(self, component: C) -> C:
        """Start ``component`` in the sandbox; it is stopped when the sandbox is left,
        whatever happens, even when its start fails half-way."""
        if not self.active:
            raise HarnessError("start components from the thread that entered the sandbox")
        self.adopt(component)
        component.start()
        return component

    def free_port(self) -> int:
        """A TCP port on 127.0.0.1 that nothing in the sandbox listens on."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return int(probe.getsockname()[1])

    def processes(self) -> list[tuple[int, str]]:
        """(pid, command name) of every live process in the namespace, this one excepted."""
        found = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == os.getpid():
                continue
            try:
                if _namespace_id(f"/proc/{entry}/ns/net") != self._namespace:
                    continue
                with open(f"/proc/{entry}/stat") as handle:
                    stat = handle.read()
            except OSError:
                continue  # gone meanwhile
            name = stat[stat.index("(") + 1 : stat.rindex(")")]
            state = stat[stat.rindex(")") + 2 :].split()[0]
            if state not in ("Z", "X"):  # a zombie is dead already; init reaps it
                found.append((int(entry), name))
        return found

    def __exit__(self, *exc: object) -> None:
        try:
            self._stack.close()
        finally:
            try:
                self._kill_leftovers()
            finally:
                self._leave()

    def _kill_leftovers(self) -> None:
        if self._namespace is None:
            return
        deadline = time.monotonic() + 5
        while True:
            left = self.processes()
            if not left:
                return
            for pid, name in left:
                if (pid, name) not in self.killed:
                    self.killed.append((pid, name))
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            if time.monotonic() > deadline:
                raise HarnessError(f"processes still running in the sandbox: {left}")
            time.sleep(0.05)

    def _leave(self) -> None:
        if self._home is None:
            return
        try:
            _namespace_call(_libc().setns(self._home, CLONE_NEWNET), "setns(home)")
        finally:
            os.close(self._home)
            self._home = None
