"""Dovecot's authentication service, alone, as the SASL server of a scratch Postfix.

It runs from its own configuration file (``dovecot -c FILE -F``, in the foreground, a child
of the test) with its own run, state and log files in a fresh directory, never /etc/dovecot
or the system's instance.  What the configuration says, and why:

- no protocols (no IMAP, POP3, LMTP or submission: Dovecot says "starting up without any
  protocols"), ``listen = 127.0.0.1`` and ``ssl = no``: nothing but the auth service and
  Dovecot's internal unix sockets; :meth:`Dovecot.start` checks that no TCP port appeared;
- a passwd-file user database (``scheme=PLAIN``) with the test's users, mode 0640 for the
  ``dovecot`` group (the auth process runs as Dovecot's internal user);
- the auth socket (``service auth { unix_listener PATH }``) at the path smtpd uses,
  ``ScratchPostfix.sasl_socket(service)``, owned by Postfix's mail_owner, mode 0660, so
  that smtpd, running as that user, can connect;
- ``auth_mechanisms = plain login``, the two a mail client uses over TLS;
- ``disable_plaintext_auth = no``: Dovecot would otherwise refuse PLAIN and LOGIN unless
  Postfix says the session is secured (TLS).  Whether a password may cross in clear is the
  question the tests put to Postfix (smtpd_tls_auth_only); Dovecot's own guard would hide
  the answer, as the seed article's saslauthd would not;
- ``auth_verbose = yes`` (each failure logged, without the password:
  ``auth_verbose_passwords`` and ``auth_debug_passwords`` keep their default, no), and
  ``log_path`` a file the test reads.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from .sandbox import HarnessError, Sandbox

#: Bounds on waiting for Dovecot.
START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0

CONFIG = """\
# Written by the pfconf test harness (tests/harness/dovecot.py): the auth service only.
base_dir = {base_dir}
state_dir = {state_dir}
instance_name = {instance_name}
protocols =
listen = 127.0.0.1
ssl = no
log_path = {log}
auth_verbose = yes
auth_verbose_passwords = no
auth_debug = no
auth_debug_passwords = no
auth_mechanisms = plain login
disable_plaintext_auth = no
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {users}
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home=/nonexistent
}}
service auth {{
  unix_listener {socket} {{
    mode = 0660
    user = {owner}
    group = {group}
  }}
}}
"""


def _program(name: str) -> str:
    found = shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.access(p, os.X_OK)), None
    )
    if found is None:
        raise HarnessError(f"{name} is not installed (apt-get install dovecot-core)")
    return found


def dovecot_installed() -> bool:
    try:
        _program("dovecot")
    except HarnessError:
        return False
    return True


class Dovecot:
    """Dovecot's auth service for a scratch Postfix: ``users`` (name -> password) may log
    in; the socket is at ``socket`` (``postfix.sasl_socket(service)``), owned by ``owner``.

    Start it with ``sandbox.start(dovecot)`` after ``scratch_postfix(..., start=False)``
    and before the instance itself; ``keep`` is where its configuration and log stay after
    it stopped.  The socket's directory is created when missing, as Postfix would create
    it (owned by ``owner``, mode 0700: Postfix's postfix-files for ``private``).
    """

    def __init__(
        self,
        sandbox: Sandbox,
        keep: os.PathLike[str] | str,
        socket: Path,
        users: dict[str, str],
        owner: str = "postfix",
    ) -> None:
        for name, password in users.items():
            if ":" in name + password or "\n" in name + password:
                raise HarnessError(f"passwd-file cannot hold {name!r}: no ':' or newline")
        self.sandbox = sandbox
        self.keep = Path(keep)
        if os.path.lexists(self.keep):
            raise HarnessError(f"{self.keep} exists already")
        self.socket = socket
        self.users = dict(users)
        self.owner = owner
        self.directory = Path(tempfile.mkdtemp(prefix="pfconf-dovecot-", dir="/tmp"))
        os.chmod(self.directory, 0o711)  # the dovecot user may pass, not list
        self.config = self.directory / "dovecot.conf"
        self.logfile = self.directory / "dovecot.log"
        self.output = self.directory / "dovecot.out"
        self._process: subprocess.Popen[bytes] | None = None
        self._stopped = False

    def start(self) -> None:
        if not self.sandbox.active:
            raise HarnessError("Dovecot runs only inside an active sandbox")
        dovecot = _program("dovecot")
        owner = pwd.getpwnam(self.owner)
        group = grp.getgrgid(owner.pw_gid).gr_name
        internal = grp.getgrnam("dovecot")  # Dovecot's default_internal_user's group
        users = self.directory / "users"
        users.write_text("".join(f"{n}:{{PLAIN}}{p}\n" for n, p in self.users.items()))
        os.chown(users, 0, internal.gr_gid)
        os.chmod(users, 0o640)
        (self.directory / "state").mkdir()
        self.config.write_text(CONFIG.format(
            base_dir=self.directory / "run", state_dir=self.directory / "state",
            instance_name=f"pfconf-{self.directory.name}", log=self.logfile, users=users,
            socket=self.socket, owner=self.owner, group=group,
        ))  # fmt: skip
        if not self.socket.parent.exists():
            self.socket.parent.mkdir(mode=0o700)
            os.chown(self.socket.parent, owner.pw_uid, owner.pw_gid)
        listening = _tcp_listeners()
        with open(self.output, "wb") as output:
            self._process = subprocess.Popen(
                [dovecot, "-c", str(self.config), "-F"], stdin=subprocess.DEVNULL,
                stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT
        while not self.socket.is_socket():
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise HarnessError(f"Dovecot: no auth socket at {self.socket}\n--- output ---\n"
                                   f"{self._read(self.output)}\n--- log ---\n{self.log()}")  # fmt: skip
            time.sleep(0.05)
        opened = _tcp_listeners() - listening
        if opened:
            raise HarnessError(f"Dovecot listens on TCP ports {sorted(opened)}: it should not")

    def stop(self) -> None:
        """SIGTERM to Dovecot's master, then to what is left of its process group (SIGKILL
        after a timeout); keep the configuration and the log, remove the directory."""
        if self._stopped:
            return
        self._stopped = True
        try:
            if self._process is not None:
                self._process.terminate()
                try:
                    self._process.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait(STOP_TIMEOUT)
                self._wait_for_group(self._process.pid)
        finally:
            self._keep_and_remove()

    @staticmethod
    def _wait_for_group(group: int) -> None:
        """Until no process of Dovecot's group is left.  Its children outlive the master
        while a client (smtpd) still holds the auth socket: SIGTERM ends them at once,
        SIGKILL what is left after the timeout."""
        deadline = time.monotonic() + STOP_TIMEOUT
        signal_to_send: signal.Signals | None = signal.SIGTERM
        while True:
            try:
                os.killpg(group, signal_to_send or 0)
            except ProcessLookupError:
                return
            signal_to_send = None
            if time.monotonic() > deadline:
                try:
                    os.killpg(group, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                return
            time.sleep(0.05)

    def _keep_and_remove(self) -> None:
        self.keep.mkdir(parents=True, exist_ok=True)
        for path in (self.config, self.logfile, self.output):
            if path.exists():
                shutil.copy2(path, self.keep / path.name)
        shutil.rmtree(self.directory, ignore_errors=True)
        self.logfile = self.keep / self.logfile.name

    @staticmethod
    def _read(path: Path) -> str:
        try:
            return path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def log(self) -> str:
        """Dovecot's log so far."""
        return self._read(self.logfile)


def _tcp_listeners() -> set[tuple[str, int]]:
    """(address, port) of every listening TCP socket, IPv4 and IPv6, in this thread's
    network namespace."""
    found = set()
    for table in ("/proc/thread-self/net/tcp", "/proc/thread-self/net/tcp6"):
        try:
            with open(table) as rows:
                next(rows)
                for row in rows:
                    fields = row.split()
                    address, _, port = fields[1].partition(":")
                    if fields[3] == "0A":
                        found.add((address, int(port, 16)))
        except FileNotFoundError:
            continue
    return found
