"""Dovecot as a scratch Postfix's SASL server, and, when asked, as its LMTP mailbox store.

It runs from its own configuration file (``dovecot -c FILE -F``, in the foreground, a child
of the test) with its own run, state and log files in a fresh directory, never /etc/dovecot
or the system's instance.  What the configuration says, and why:

- no protocols (no IMAP, POP3 or submission: Dovecot says "starting up without any
  protocols"), or only ``lmtp`` when the test wants mail delivered; ``listen = 127.0.0.1``
  and ``ssl = no``: nothing but the auth service, the LMTP socket and Dovecot's internal
  unix sockets; :meth:`Dovecot.start` checks that no TCP port appeared;
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
  ``log_path`` a file the test reads;
- with ``lmtp`` (a socket path, such as ``ScratchPostfix.lmtp_socket()``, where
  virtual_transport points Postfix): ``protocols = lmtp`` and the LMTP service's listener
  there, owned by Postfix's mail_owner, mode 0600 (Postfix's lmtp client connects as that
  user).  LMTP looks the RCPT TO address up as the user name (Dovecot's "LMTP Server"
  documentation), so the users that receive mail are passwd-file entries named by their
  address (``alice@example.com``); an address the file lacks is refused ("550 5.1.1 User
  doesn't exist").  The static user database gives every user the uid nobody and a home
  under :attr:`Dovecot.mail` (``DOMAIN/LOCALPART``), ``mail_location = maildir:~/Maildir``:
  :meth:`Dovecot.maildir` is where a user's mail lands, and :meth:`Dovecot.messages` reads
  it.  The mail stays under the test's ``keep`` directory after Dovecot stopped.
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
# Written by the pfconf test harness (tests/harness/dovecot.py): auth, and LMTP when asked.
base_dir = {base_dir}
state_dir = {state_dir}
instance_name = {instance_name}
protocols = {protocols}
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
  args = uid=nobody gid=nogroup home={mail}/%d/%n
}}
mail_location = maildir:~/Maildir
service auth {{
  unix_listener {socket} {{
    mode = 0660
    user = {owner}
    group = {group}
  }}
}}
"""

#: Added to :data:`CONFIG` when Dovecot is to take mail over LMTP.
LMTP_CONFIG = """service lmtp {{
  unix_listener {lmtp} {{
    mode = 0600
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
    With ``lmtp`` (a socket path) it also takes mail over LMTP there, for the ``users``
    named by an address (see the module docstring).

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
        lmtp: Path | None = None,
    ) -> None:
        for name, password in users.items():
            if ":" in name + password or "\n" in name + password:
                raise HarnessError(f"passwd-file cannot hold {name!r}: no ':' or newline")
        self.sandbox = sandbox
        self.keep = Path(keep)
        if os.path.lexists(self.keep):
            raise HarnessError(f"{self.keep} exists already")
        self.socket = socket
        self.lmtp = lmtp
        self.users = dict(users)
        self.owner = owner
        self.directory = Path(tempfile.mkdtemp(prefix="pfconf-dovecot-", dir="/tmp"))
        os.chmod(self.directory, 0o711)  # the dovecot user may pass, not list
        self.config = self.directory / "dovecot.conf"
        self.logfile = self.directory / "dovecot.log"
        self.output = self.directory / "dovecot.out"
        #: where the users' homes, and their maildirs, are (``DOMAIN/LOCALPART/Maildir``)
        self.mail = self.directory / "mail"
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
        nobody = pwd.getpwnam("nobody")
        self.mail.mkdir(mode=0o700)  # the users' homes are made in it as they get mail
        os.chown(self.mail, nobody.pw_uid, nobody.pw_gid)
        settings = {
            "base_dir": self.directory / "run", "state_dir": self.directory / "state",
            "instance_name": f"pfconf-{self.directory.name}", "log": self.logfile,
            "users": users, "socket": self.socket, "owner": self.owner, "group": group,
            "mail": self.mail, "lmtp": self.lmtp,
            "protocols": "lmtp" if self.lmtp is not None else "",
        }  # fmt: skip
        text = CONFIG.format(**settings)
        if self.lmtp is not None:
            text += LMTP_CONFIG.format(**settings)
        self.config.write_text(text)
        sockets = [self.socket] + ([self.lmtp] if self.lmtp is not None else [])
        for path in sockets:
            if not path.parent.exists():
                path.parent.mkdir(mode=0o700)
                os.chown(path.parent, owner.pw_uid, owner.pw_gid)
        listening = _tcp_listeners()
        with open(self.output, "wb") as output:
            self._process = subprocess.Popen(
                [dovecot, "-c", str(self.config), "-F"], stdin=subprocess.DEVNULL,
                stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT
        while not all(path.is_socket() for path in sockets):
            if self._process.poll() is not None or time.monotonic() > deadline:
                missing = ", ".join(str(p) for p in sockets if not p.is_socket())
                if "service(lmtp) access" in self._read(self.output):
                    missing += " (Dovecot's LMTP server is not installed: dovecot-lmtpd)"
                raise HarnessError(f"Dovecot: no socket at {missing}\n--- output ---\n"
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
        if self.mail.is_dir():
            shutil.copytree(self.mail, self.keep / "mail", symlinks=True)
        shutil.rmtree(self.directory, ignore_errors=True)
        self.logfile = self.keep / self.logfile.name
        self.mail = self.keep / "mail"  # maildir() and messages() keep working

    def maildir(self, address: str) -> Path:
        """The maildir of the user named ``address`` (it exists once mail arrived)."""
        local, _, domain = address.rpartition("@")
        return self.mail / domain / local / "Maildir"

    def messages(self, address: str) -> list[bytes]:
        """The messages in the inbox of ``address``, new and seen, oldest first."""
        found = [p for d in ("new", "cur") for p in (self.maildir(address) / d).glob("*")]
        return [p.read_bytes() for p in sorted(found, key=lambda p: p.stat().st_mtime_ns)]

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
