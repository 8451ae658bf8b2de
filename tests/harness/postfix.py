"""A throwaway Postfix instance made from a test's main.cf and master.cf, run in the sandbox.

The configuration is copied into the instance's directory and changed there with pfconf's
own editor (Workspace, MainEditor, MasterEditor), so every change is a verified edit; a
check afterwards compares what Postfix would read before and after, and refuses to start
if anything changed beyond this list.  What the harness changes, and why:

main.cf
  queue_directory, data_directory = INSTANCE/queue, INSTANCE/data (paths): the instance's
      own queue and state, never the system's.
  mail_spool_directory = INSTANCE/mail (paths): local delivery writes mailboxes there, not
      in /var/mail.  Deliveries to home directories (home_mailbox, mailbox_command, .forward)
      are not redirected: test with recipients that are not local users.
  inet_interfaces = 127.0.0.1 (addresses): loopback only.  Where mynetworks is not set,
      it follows: mynetworks_style = host then trusts 127.0.0.1/32 (subnet: 127.0.0.0/8),
      as a real server trusts the addresses it listens on.
  maillog_file = INSTANCE/maillog, maillog_file_prefixes = INSTANCE (logging): a file to
      read and wait on; logging through /dev/log can stall daemons at start-up here (see
      shared/reference/scratch-postfix.md), and the prefix list must allow the file.
  command_directory, daemon_directory, meta_directory, shlib_directory (paths): only where
      main.cf names another directory than this machine's Postfix was built with (a
      main.cf from another system); the programs that run are this machine's.
  default_transport, relay_transport (addresses): only when the instance is given an
      ``outbound`` next hop (an SMTP sink), and only when they name an smtp or lmtp service:
      the next hop becomes ``[127.0.0.1]:PORT``; the transport stays.  transport_maps and
      sender-dependent transports still win, as in Postfix; the network namespace still
      keeps such mail on the machine.
master.cf
  Each inet service is renamed 127.0.0.1:PORT, a free port (ports); its fields, -o
      overrides and arguments stay.  ``ports`` maps the old name to the port.  Its
      $service_name (and a syslog_name made from it) is now 127.0.0.1:PORT.
  Every service gets chroot = n (chroot): a chroot jail needs copies of system files.
  A postlog unix-dgram service is added when missing (logging): maillog_file needs it.

The configuration directory itself is INSTANCE/config (``postfix -c``), a copy of the one
given: ``$config_directory`` in a value names the copy, tables included.

A master_service_disable that names an inet service is refused (HarnessError): renaming the
service would quietly enable it.

Around Postfix rather than in its configuration: it runs in the sandbox's network namespace
and in a private mount namespace whose /etc/resolv.conf names 127.0.0.1 (the sandbox's fake
DNS), so every lookup gets a deterministic answer.  INSTANCE is a fresh directory under /tmp
(mode 0711), not under pytest's tmp_path: the postfix user must reach its data directory,
pytest's tmp root is 0700, and pytest takes any wider mode away again whenever a session
starts.  tmp_path/postfix-N links to it while it runs; on stop the configuration and the
maillog are copied there and INSTANCE is removed.  The harness makes INSTANCE, its queue
directory and its data directory (owned by mail_owner); ``postfix start`` runs Postfix's
own check, whose ``post-install create-missing`` makes the queue's subdirectories.
``postfix set-permissions`` is never run: it sets the modes of everything postfix-files
lists, the system's set-gid postdrop and postqueue included.
"""

from __future__ import annotations

import functools
import os
import pwd
import re
import select
import shutil
import signal
import smtplib
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

from pfconf import load
from pfconf.edit import MainEditor, MasterEditor
from pfconf.edit.workspace import Workspace
from pfconf.model import MainCf, MasterCf, Service
from pfconf.postfix import find_program

from .sandbox import HarnessError, Sandbox, find_tool
from .smtp_client import RecordingSMTP, RecordingSMTPS, Transcript

#: Where a distribution keeps Postfix's stock master.cf (used when a test gives none).
STOCK_MASTER_CF = ("/usr/share/postfix/master.cf.dist", "/etc/postfix/master.cf.proto")

#: The main.cf parameters the harness may change (see the module docstring).
SANDBOX_PARAMETERS = frozenset({
    "queue_directory", "data_directory", "mail_spool_directory", "inet_interfaces",
    "maillog_file", "maillog_file_prefixes", "command_directory", "daemon_directory",
    "meta_directory", "shlib_directory", "default_transport", "relay_transport",
})  # fmt: skip

INSTALL_DIRECTORIES = ("command_directory", "daemon_directory", "meta_directory",
                       "shlib_directory")  # fmt: skip

POSTLOG_SERVICE = "postlog   unix-dgram n  -       n       -       1       postlogd"

#: Bounds on waiting for Postfix (a test has ~30 s in all).
START_TIMEOUT = 20.0
STOP_TIMEOUT = 15.0
LISTEN_TIMEOUT = 10.0


class PostfixStartError(HarnessError):
    """``postfix start`` failed, or a service did not listen in time.  ``output`` is what
    the command printed, ``log`` the instance's maillog at that moment."""

    def __init__(self, message: str, output: str, log: str) -> None:
        tail = "\n".join(log.splitlines()[-20:])
        super().__init__(f"{message}\n--- output ---\n{output.strip()}\n--- maillog (last "
                         f"lines) ---\n{tail}")  # fmt: skip
        self.output = output
        self.log = log


@functools.lru_cache(maxsize=1)
def compiled_defaults() -> dict[str, str]:
    """``postconf -d``: the defaults this machine's Postfix was built with."""
    postconf = _program("postconf")
    done = subprocess.run([postconf, "-d"], capture_output=True, text=True, timeout=30,
                          check=False)  # fmt: skip
    values = {}
    for line in done.stdout.splitlines():
        name, _, value = line.partition(" = ")
        values[name] = value
    return values


def stock_master_cf() -> str:
    """The master.cf this machine's Postfix ships."""
    for path in STOCK_MASTER_CF:
        if os.path.isfile(path):
            return Path(path).read_text(encoding="utf-8")
    raise HarnessError(f"no stock master.cf here (looked for {', '.join(STOCK_MASTER_CF)})")


def _program(name: str) -> str:
    path = find_program(name)
    if path is None:
        raise HarnessError(f"{name} is not installed (apt-get install postfix)")
    return path


class ScratchPostfix:
    """A private Postfix from ``main_cf`` and ``master_cf`` text (the stock master.cf when
    None) or from ``config_dir`` (copied whole: tables too); ``keep`` is where its
    configuration and log stay after it stopped (see the module docstring).

    ``outbound``: a next hop such as ``SmtpSink.nexthop`` for default_transport and
    relay_transport.  :meth:`prepare` writes and edits the configuration and creates the
    directories (a component that must put something in the queue directory before
    Postfix starts, such as Dovecot's auth socket, goes between the two); :meth:`start`
    starts Postfix and waits until every inet service listens.  Start it with
    ``sandbox.start(instance)`` so that it is always stopped.
    """

    def __init__(
        self,
        sandbox: Sandbox,
        keep: os.PathLike[str] | str,
        main_cf: str | None = None,
        master_cf: str | None = None,
        *,
        config_dir: os.PathLike[str] | str | None = None,
        outbound: str | None = None,
    ) -> None:
        if config_dir is not None and (main_cf is not None or master_cf is not None):
            raise HarnessError("give main_cf/master_cf text or a config_dir, not both")
        if config_dir is None and main_cf is None:
            raise HarnessError("a scratch Postfix needs a main.cf")
        self.sandbox = sandbox
        self.keep = Path(keep)
        if os.path.lexists(self.keep):
            raise HarnessError(f"{self.keep} exists already")
        self.directory = Path(tempfile.mkdtemp(prefix="pfconf-postfix-", dir="/tmp"))
        try:
            os.chmod(self.directory, 0o711)  # the postfix user may pass, not list
            self.keep.symlink_to(self.directory)
        except BaseException:
            shutil.rmtree(self.directory)
            raise
        self.config_dir = self.directory / "config"
        self.queue_directory = self.directory / "queue"
        self.data_directory = self.directory / "data"
        self.mail_directory = self.directory / "mail"
        self.maillog = self.directory / "maillog"
        self.resolv_conf = self.directory / "resolv.conf"
        self._source = (main_cf, master_cf, config_dir)
        self.outbound = outbound
        #: original inet service name -> the port it listens on in the sandbox
        self.ports: dict[str, int] = {}
        #: every change the harness made to the configuration, as pfedit reports it
        self.changes: list[str] = []
        self.start_output = ""
        self._prepared = False
        self._started = False
        self._stopped = False

    # -- configuration -------------------------------------------------------------------------

    def prepare(self) -> None:
        """Write the configuration, change it for the sandbox, create the directories."""
        if self._prepared:
            return
        main_cf, master_cf, config_dir = self._source
        if config_dir is not None:
            shutil.copytree(config_dir, self.config_dir)
        else:
            self.config_dir.mkdir(parents=True)
            (self.config_dir / "main.cf").write_text(main_cf or "", encoding="utf-8")
            text = master_cf if master_cf is not None else stock_master_cf()
            (self.config_dir / "master.cf").write_text(text, encoding="utf-8")
        before = self._read()
        self._edit()
        self._check_meaning(before, self._read())
        # postconf and the daemons reread a file changed within the last second
        settled = time.time() - 60
        for path in self.config_dir.rglob("*"):
            os.utime(path, (settled, settled), follow_symlinks=False)
        owner = pwd.getpwnam(compiled_defaults().get("mail_owner", "postfix"))
        self.queue_directory.mkdir(mode=0o755)
        self.data_directory.mkdir(mode=0o700)
        os.chown(self.data_directory, owner.pw_uid, owner.pw_gid)
        self.mail_directory.mkdir()
        os.chmod(self.mail_directory, 0o1777)
        self.resolv_conf.write_text("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
        self._prepared = True

    def _read(self) -> tuple[MainCf, MasterCf]:
        main = load(self.config_dir / "main.cf", "main")
        master = load(self.config_dir / "master.cf", "master")
        assert isinstance(main, MainCf) and isinstance(master, MasterCf)
        return main, master

    def _edit(self) -> None:
        with Workspace(str(self.config_dir), master_required=True, lock=True) as work:
            main, master = work.main, work.master
            assert master is not None
            why = "scratch Postfix: "
            disabled = main.get("master_service_disable") or ""
            for name, value in (
                ("queue_directory", str(self.queue_directory)),
                ("data_directory", str(self.data_directory)),
                ("mail_spool_directory", str(self.mail_directory)),
                ("inet_interfaces", "127.0.0.1"),
                ("maillog_file", str(self.maillog)),
                ("maillog_file_prefixes", str(self.directory)),
            ):
                main.set(name, value, why + "its own paths, loopback, a log file")
            defaults = compiled_defaults()
            for name in INSTALL_DIRECTORIES:
                if main.get(name) not in (None, defaults[name]):
                    main.set(name, defaults[name], why + "this machine's Postfix programs")
            for service in master.doc.services:
                if service.chroot != "n":
                    master.set_field(service.key, "chroot", "n", why + "no chroot jail")
            used: set[int] = set()
            for service in list(master.doc.services):
                if service.type != "inet":
                    continue
                if re.search(rf"(^|[\s,]){re.escape(service.key)}($|[\s,])", disabled):
                    raise HarnessError(f"master_service_disable names {service.key}: renaming "
                                       "it would enable it; not supported")  # fmt: skip
                port = self.sandbox.free_port()
                while port in used:
                    port = self.sandbox.free_port()
                used.add(port)
                self.ports[service.name] = port
                self._rename(master, service.key, f"127.0.0.1:{port}")
            if master.doc.service("postlog", "unix-dgram") is None:
                master.add_service(POSTLOG_SERVICE, why + "maillog_file needs postlogd")
            if self.outbound is not None:
                for name, default in (("default_transport", "smtp"), ("relay_transport", "relay")):
                    self._point_at(main, master, name, main.get(name) or default)
            self.changes = [change.describe() for change in work.changes]
            work.write()

    @staticmethod
    def _rename(master: MasterEditor, key: str, new_name: str) -> None:
        """Rename a service: the entry re-added under the new name just after the old one,
        then the old one removed (two verified edits; every other byte stays)."""
        name, _, type_ = key.rpartition("/")
        service = master.doc.service(name, type_)
        assert service is not None
        text = service.node.dump().replace("\r\n", "\n")
        master.add_service(new_name + text[len(name) :], f"scratch Postfix: {key} on a free port",
                           after=key)  # fmt: skip
        master.remove_service(key, "scratch Postfix: renamed")

    def _point_at(self, main: MainEditor, master: MasterEditor, name: str, value: str) -> None:
        if "$" in value:
            raise HarnessError(f"{name} = {value}: a $-expansion here is not supported")
        transport = value.partition(":")[0]
        service = master.doc.service(transport, "unix")
        if service is None or service.command not in ("smtp", "lmtp"):
            return
        main.set(name, f"{transport}:{self.outbound}", "scratch Postfix: outbound mail to the sink")

    def _check_meaning(
        self, before: tuple[MainCf, MasterCf], after: tuple[MainCf, MasterCf]
    ) -> None:
        """Refuse to run a configuration whose meaning the harness changed beyond the
        documented paths, addresses, ports, chroot and logging."""
        (old_main, old_master), (new_main, new_master) = before, after
        old, new = old_main.effective(), new_main.effective()
        changed = {k for k in set(old) | set(new) if old.get(k) != new.get(k)}
        if changed - SANDBOX_PARAMETERS:
            raise HarnessError(f"the sandbox edit changed {sorted(changed - SANDBOX_PARAMETERS)}")
        renamed = {f"127.0.0.1:{port}": name for name, port in self.ports.items()}

        def meaning(service: Service, names: dict[str, str]) -> tuple[object, ...]:
            fields = [a.text for a in service.arguments]
            fields[0] = names.get(fields[0], fields[0])
            fields[4] = "n"  # chroot
            return (*fields, tuple(sorted(service.overrides.items())))

        added_postlog = old_master.service("postlog", "unix-dgram") is None
        want = [meaning(s, {}) for s in old_master.services]
        got = [meaning(s, renamed) for s in new_master.services
               if not (added_postlog and s.key == "postlog/unix-dgram")]  # fmt: skip
        if want != got:
            raise HarnessError("the sandbox edit changed master.cf beyond names and chroot")

    # -- running -------------------------------------------------------------------------------

    def start(self) -> None:
        self.prepare()
        if not self.sandbox.active:
            raise HarnessError("a scratch Postfix runs only inside an active sandbox")
        if not os.path.exists("/etc/resolv.conf"):
            raise HarnessError("/etc/resolv.conf is missing: nothing to bind-mount over")
        postfix = _program("postfix")
        # A private mount namespace for the instance: master and every daemon it starts see
        # the sandbox's resolv.conf; the system's stays as it is for everyone else.
        command = [
            find_tool("unshare"), "--mount", "--propagation", "private", "--",
            "/bin/sh", "-c", 'mount --bind "$0" /etc/resolv.conf && exec "$@"',
            str(self.resolv_conf), postfix, "-c", str(self.config_dir), "start",
        ]  # fmt: skip
        self._started = True  # from here on stop() has something to do
        try:
            status, self.start_output = _run_on_terminal(command, START_TIMEOUT)
        except subprocess.TimeoutExpired as exc:
            raise PostfixStartError(f"postfix start: no answer after {START_TIMEOUT:g} s",
                                    str(exc.output or ""), self.log()) from None  # fmt: skip
        if status != 0:
            raise PostfixStartError(f"postfix -c {self.config_dir} start: exit status {status}",
                                    self.start_output, self.log())  # fmt: skip
        self._wait_listening()

    def _wait_listening(self) -> None:
        """Until every inet service listens.  Read from the kernel's socket table rather
        than by connecting: a probe connection would start an smtpd, and a test may be
        about what the first client sees."""
        deadline = time.monotonic() + LISTEN_TIMEOUT
        while True:
            missing = {n: p for n, p in self.ports.items() if p not in _listening_ports()}
            if not missing:
                return
            if time.monotonic() > deadline:
                raise PostfixStartError(
                    f"not listening after {LISTEN_TIMEOUT:g} s: "
                    + ", ".join(f"{n} (127.0.0.1:{p})" for n, p in missing.items()),
                    self.start_output, self.log(),
                )  # fmt: skip
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop Postfix (``postfix stop``, then SIGKILL to what is left of master's process
        group), keep the configuration and the log, remove the instance directory."""
        if self._stopped:
            return
        self._stopped = True
        try:
            if self._started and self.master_pid() is not None:
                subprocess.run([_program("postfix"), "-c", str(self.config_dir), "stop"],
                               stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=STOP_TIMEOUT, check=False)  # fmt: skip
        except subprocess.TimeoutExpired:
            # a loaded machine can keep master from winding down its children in time; the
            # SIGKILL below ends what is left, which is all a test needs of its teardown
            pass
        finally:
            try:
                pid = self.master_pid()
                if pid is not None:
                    try:
                        os.killpg(pid, signal.SIGKILL)  # master leads its process group
                    except ProcessLookupError:
                        pass
            finally:
                self._keep_and_remove()

    def _keep_and_remove(self) -> None:
        if self.keep.is_symlink():
            self.keep.unlink()
        self.keep.mkdir(exist_ok=True)
        if self.config_dir.is_dir():
            shutil.copytree(self.config_dir, self.keep / "config", symlinks=True)
        if self.maillog.exists():
            shutil.copy2(self.maillog, self.keep / "maillog")
        shutil.rmtree(self.directory, ignore_errors=True)
        self.maillog = self.keep / "maillog"  # log() keeps working after the stop

    def master_pid(self) -> int | None:
        """The PID of this instance's running master process, or None."""
        try:
            pid = int((self.queue_directory / "pid" / "master.pid").read_text().split()[0])
            with open(f"/proc/{pid}/stat") as handle:
                status = handle.read().rsplit(")", 1)[1].split()[0]
        except (OSError, ValueError, IndexError):
            return None
        return pid if status not in ("Z", "X") else None

    # -- looking at it -------------------------------------------------------------------------

    def log(self) -> str:
        """The instance's maillog so far ("" before anything was logged)."""
        try:
            return self.maillog.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def mark(self) -> int:
        """Where the log ends now: pass it to :meth:`wait_for_log` to see only later lines."""
        return len(self.log())

    def wait_for_log(self, pattern: str, timeout: float = 10.0, since: int = 0) -> re.Match[str]:
        """The first match of ``pattern`` (a regex, matched per line) in the log after
        position ``since``; AssertionError with the log's tail after ``timeout`` seconds."""
        regex = re.compile(pattern, re.MULTILINE)
        deadline = time.monotonic() + timeout
        while True:
            found = regex.search(self.log(), since)
            if found:
                return found
            if time.monotonic() > deadline:
                tail = "\n".join(self.log()[since:].splitlines()[-20:])
                raise AssertionError(f"no log line matching {pattern!r} within {timeout:g} s; "
                                     f"the log ends:\n{tail}")  # fmt: skip
            time.sleep(0.05)

    def port(self, service: str = "smtp") -> int:
        try:
            return self.ports[service]
        except KeyError:
            raise HarnessError(f"no inet service {service!r} (there are: "
                               f"{', '.join(self.ports) or 'none'})") from None  # fmt: skip

    def client(
        self,
        service: str = "smtp",
        source: str = "127.0.0.1",
        timeout: float = 10.0,
        *,
        transcript: Transcript | None = None,
        server_hostname: str | None = None,
        implicit_tls: ssl.SSLContext | None = None,
    ) -> smtplib.SMTP:
        """An SMTP client connected to ``service`` from the address ``source`` (such as
        ``sandbox.foreign_address``); the greeting has been read.

        Every line it exchanges lands in ``transcript`` (see :mod:`.smtp_client`).
        ``server_hostname`` is the name TLS checks the certificate against (``starttls``, or
        ``implicit_tls``: a context for a service that speaks TLS from the first byte).
        """
        address = (source, 0)
        client: smtplib.SMTP
        if implicit_tls is not None:
            client = RecordingSMTPS(implicit_tls, transcript, server_hostname, timeout, address)
        else:
            client = RecordingSMTP(transcript, server_hostname, timeout, address)
        if transcript is not None:
            transcript.note(f"{service} service (127.0.0.1:{self.port(service)}), client "
                            f"{source}")  # fmt: skip
        client.connect("127.0.0.1", self.port(service))
        return client

    def postconf(self, *args: str) -> str:
        """What ``postconf -c INSTANCE ARGS`` prints, run in the sandbox."""
        done = subprocess.run([_program("postconf"), "-c", str(self.config_dir), *args],
                              capture_output=True, text=True, timeout=30, check=False)  # fmt: skip
        if done.returncode != 0:
            raise HarnessError(f"postconf {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def sasl_socket(self, service: str = "smtp") -> Path:
        """Where smtpd of ``service`` looks for its SASL server (Dovecot's auth socket):
        smtpd_sasl_path from the service's -o or main.cf, under the queue directory."""
        master = self._read()[1]
        port = self.ports.get(service)
        entry = master.service(f"127.0.0.1:{port}", "inet") if port else None
        path = (entry.overrides.get("smtpd_sasl_path") if entry else None) or self.postconf(
            "-h", "smtpd_sasl_path"
        ).strip()
        return self.queue_directory / path

    def lmtp_socket(self, parameter: str = "virtual_transport") -> Path:
        """Where Postfix's LMTP client connects for ``parameter`` (``lmtp:unix:PATH``):
        PATH, relative to the queue directory, where Postfix's daemons run."""
        value = self.postconf("-h", parameter).strip()
        nexthop = value.partition(":")[2]
        if not nexthop.startswith("unix:"):
            raise HarnessError(f"{parameter} = {value}: no LMTP unix socket")
        return self.queue_directory / nexthop[len("unix:") :]


def _run_on_terminal(command: list[str], timeout: float) -> tuple[int, str]:
    """Run ``command`` with a pseudo-terminal as its stdout and stderr: (exit status, what
    it printed).  The postfix command writes its diagnostics to stderr only when that is a
    terminal, and an error in main.cf stops it before it knows where maillog_file is."""
    leader, follower = os.openpty()
    try:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=follower,
                                   stderr=follower, close_fds=True)  # fmt: skip
    except BaseException:
        os.close(leader)
        raise
    finally:
        os.close(follower)
    output = b""
    deadline = time.monotonic() + timeout
    try:
        while True:
            # The daemons Postfix leaves running may keep the terminal open: stop reading
            # once the command has exited and nothing more is waiting.
            ready, _, _ = select.select([leader], [], [], 0.05)
            chunk = b""
            if ready:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:  # EIO: every writer has closed the terminal
                    pass
                output += chunk
            if not chunk and process.poll() is not None:
                break
            if time.monotonic() > deadline:
                process.kill()
                process.wait()
                raise subprocess.TimeoutExpired(command, timeout, output=output)
    finally:
        os.close(leader)
    text = output.decode("utf-8", "replace").replace("\r\n", "\n")
    return process.wait(), text


def _listening_ports() -> set[int]:
    """The TCP ports with a listening socket on 127.0.0.1 or 0.0.0.0, in this thread's
    network namespace."""
    ports = set()
    with open("/proc/thread-self/net/tcp") as table:
        next(table)
        for row in table:
            fields = row.split()
            address, _, port = fields[1].partition(":")
            if fields[3] == "0A" and address in ("0100007F", "00000000"):
                ports.add(int(port, 16))
    return ports
