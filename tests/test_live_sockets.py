"""The live socket rules (LIVE017-LIVE019) on sockets each test makes: real AF_UNIX
listeners, and a regular file, a FIFO or nothing where a socket should be, looked for
inside queue_directory for chrooted services and on the host's own path for the others.

Each rule has ``test_<code>_fires...`` and ``test_<code>_quiet...`` functions, which
tests/test_rule_cases.py asks for in place of corpus cases.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from oracle import require_postconf

from pfconf.lint import Finding, Options, lint
from pfconf.semantics.endpoints import milter
from pfconf.semantics.sasl import dovecot_socket

#: master.cf services every test's Postfix has besides the ones it adds
BASE_MASTER = """\
cleanup   unix  n       -       n       -       0       cleanup
rewrite   unix  -       -       n       -       -       trivial-rewrite
local     unix  -       n       n       -       -       local
"""
LOCAL = "local     unix  -       n       n       -       -       local\n"


class Site:
    """A configuration directory and a queue directory under a short directory of /tmp
    (AF_UNIX paths hold at most 107 bytes, more than pytest's tmp_path may leave)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.conf = root / "etc"
        self.conf.mkdir()
        self.queue = root / "q"
        self.queue.mkdir()
        self.sockets: list[socket.socket] = []

    def path(self, name: str) -> str:
        return str(self.root / name)

    def inside(self, path: str) -> str:
        """Where a chrooted daemon finds the absolute ``path``."""
        return str(self.queue) + path

    @staticmethod
    def _parent(path: str) -> None:
        os.makedirs(os.path.dirname(path), exist_ok=True)

    def listen(self, path: str) -> str:
        """A listening AF_UNIX socket at ``path``."""
        self._parent(path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(path)
        sock.listen(1)
        self.sockets.append(sock)
        return path

    def file(self, path: str) -> str:
        self._parent(path)
        Path(path).write_text("not a socket\n", encoding="utf-8")
        return path

    def fifo(self, path: str) -> str:
        self._parent(path)
        os.mkfifo(path)
        return path

    def main(self, text: str, master: str = "", base: str = BASE_MASTER) -> None:
        (self.conf / "main.cf").write_text(
            f"queue_directory = {self.queue}\n" + text, encoding="utf-8"
        )
        (self.conf / "master.cf").write_text(base + master, encoding="utf-8")
        when = time.time() - 60  # postconf rereads files a second old
        for name in ("main.cf", "master.cf"):
            os.utime(self.conf / name, (when, when))

    def lint(self, *codes: str) -> list[Finding]:
        files = [str(self.conf / "main.cf"), str(self.conf / "master.cf")]
        return lint(files, Options(select=codes, live=True)).findings

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()


@pytest.fixture
def site() -> Iterator[Site]:
    require_postconf()
    root = Path(tempfile.mkdtemp(prefix="pfs", dir="/tmp"))
    made = Site(root)
    try:
        yield made
    finally:
        made.close()
        shutil.rmtree(root, ignore_errors=True)


def _at(findings: list[Finding]) -> list[tuple[str, str, int, int, str]]:
    return [(f.code, os.path.basename(f.path), f.line, f.column, f.severity) for f in findings]


# -- LIVE017: Dovecot's SASL socket -----------------------------------------------------------

SASL = "smtpd_sasl_auth_enable = yes\nsmtpd_sasl_type = dovecot\n"


def test_live017_fires_on_a_missing_path_a_file_and_a_fifo(site):
    site.file(str(site.queue / "private/file"))
    site.fifo(str(site.queue / "private/fifo"))
    site.main(
        SASL + "smtpd_sasl_path = private/auth\n",
        "smtp      inet  n       -       n       -       -       smtpd\n"
        "submission inet n       -       n       -       -       smtpd\n"
        "  -o smtpd_sasl_path=private/file\n"
        "smtps     inet  n       -       n       -       -       smtpd\n"
        "  -o smtpd_sasl_path=unix:private/fifo\n",
    )
    findings = site.lint("LIVE017")
    assert _at(findings) == [
        ("LIVE017", "main.cf", 4, 19, "error"),
        ("LIVE017", "master.cf", 6, 6, "error"),
        ("LIVE017", "master.cf", 8, 6, "error"),
    ]
    missing, file, fifo = (f.message for f in findings)
    assert missing.startswith("the Dovecot SASL socket private/auth: smtpd (smtp/inet) takes")
    assert f"{site.queue}/private/auth, which does not exist" in missing
    assert "no SASL authentication mechanisms" in missing
    assert f"{site.queue}/private/file, which is a regular file, not a socket" in file
    # the unix: prefix is dropped, as xsasl_dovecot_server_connect() does
    assert "socket unix:private/fifo" in fifo
    assert f"{site.queue}/private/fifo, which is a named pipe (FIFO), not a socket" in fifo


def test_live017_fires_on_a_chrooted_smtpd_whose_socket_is_outside_the_queue(site):
    # Debian's trap: the socket exists, but where only an unchrooted smtpd can reach it
    outside = site.listen(site.path("run/auth"))
    site.main(
        SASL + f"smtpd_sasl_path = {outside}\n",
        "smtp      inet  n       -       y       -       -       smtpd\n"
        "submission inet n       -       n       -       -       smtpd\n",
    )
    [finding] = site.lint("LIVE017")
    assert _at([finding]) == [("LIVE017", "main.cf", 4, 19, "error")]
    assert (
        f"smtpd (smtp/inet) runs chrooted in {site.queue}, so it connects to "
        f"{site.inside(outside)}, which does not exist" in finding.message
    )
    assert f"({outside} is a socket, but outside the chroot" in finding.message


def test_live017_quiet_on_listening_sockets_chrooted_or_not(site):
    site.listen(str(site.queue / "private/auth"))
    inside = site.listen(site.inside(site.path("run/auth")))
    site.main(
        SASL + "smtpd_sasl_path = private/auth\n",
        "smtp      inet  n       -       y       -       -       smtpd\n"
        "submission inet n       -       n       -       -       smtpd\n"
        # found only below queue_directory: right for a chrooted smtpd
        f"smtps     inet  n       -       y       -       -       smtpd\n"
        f"  -o smtpd_sasl_path={site.path('run/auth')}\n",
    )
    assert os.path.exists(inside) and not os.path.exists(site.path("run/auth"))
    assert site.lint("LIVE017") == []


def test_live017_fires_on_an_unchrooted_smtpd_whose_socket_is_only_in_the_queue(site):
    site.listen(site.inside(site.path("run/auth")))
    site.main(
        SASL + f"smtpd_sasl_path = {site.path('run/auth')}\n",
        "smtp      inet  n       -       n       -       -       smtpd\n",
    )
    [finding] = site.lint("LIVE017")
    assert f"{site.path('run/auth')}: {site.path('run/auth')}, which does not exist" in (
        finding.message
    )


def test_live017_quiet_when_sasl_is_off_cyrus_inet_or_never_offered(site):
    site.main(
        "smtpd_sasl_type = dovecot\nsmtpd_sasl_path = private/nothing\n",
        # SASL off
        "smtp      inet  n       -       n       -       -       smtpd\n"
        # Cyrus: smtpd_sasl_path is an application name
        "submission inet n       -       n       -       -       smtpd\n"
        "  -o smtpd_sasl_auth_enable=yes -o smtpd_sasl_type=cyrus\n"
        # a TCP endpoint
        "smtps     inet  n       -       n       -       -       smtpd\n"
        "  -o smtpd_sasl_auth_enable=yes -o smtpd_sasl_path=inet:127.0.0.1:12345\n"
        # AUTH only after TLS, and no TLS: smtpd never turns SASL on
        "2525      inet  n       -       n       -       -       smtpd\n"
        "  -o smtpd_sasl_auth_enable=yes -o smtpd_tls_auth_only=yes\n",
    )
    assert site.lint("LIVE017") == []
    # the same missing socket, with SASL on, is found (the case above is no accident)
    site.main(
        "smtpd_sasl_type = dovecot\nsmtpd_sasl_path = private/nothing\n",
        "smtp      inet  n       -       n       -       -       smtpd\n"
        "  -o smtpd_sasl_auth_enable=yes\n",
    )
    assert _at(site.lint("LIVE017")) == [("LIVE017", "main.cf", 3, 19, "error")]


# -- LIVE018: Milter sockets ---------------------------------------------------------------


def test_live018_fires_on_missing_file_and_fifo_sockets(site):
    site.file(str(site.queue / "milter/file"))
    site.fifo(site.path("fifo"))
    site.main(
        f"smtpd_milters = unix:milter/gone, {{ local:milter/file, default_action=accept }}\n"
        f"non_smtpd_milters = unix:{site.path('fifo')}\n",
        "smtp      inet  n       -       n       -       -       smtpd\n",
    )
    findings = site.lint("LIVE018")
    assert _at(findings) == [
        ("LIVE018", "main.cf", 2, 17, "error"),
        ("LIVE018", "main.cf", 2, 35, "error"),
        ("LIVE018", "main.cf", 3, 21, "error"),
    ]
    gone, file, fifo = (f.message for f in findings)
    assert gone.startswith("the Milter socket unix:milter/gone: smtpd (smtp/inet) takes it")
    assert f"{site.queue}/milter/gone, which does not exist" in gone
    assert "milter_default_action" in gone
    assert "socket local:milter/file" in file and "a regular file, not a socket" in file
    # non_smtpd_milters: the cleanup service connects
    assert fifo.startswith(f"the Milter socket unix:{site.path('fifo')}: {site.path('fifo')}")
    assert "a named pipe (FIFO), not a socket" in fifo


def test_live018_fires_on_the_debian_trap_a_chrooted_smtpd_and_a_socket_in_run(site):
    outside = site.listen(site.path("run/opendkim/opendkim.sock"))
    site.main(
        "smtpd_milters = inet:127.0.0.1:8891\n",
        "smtp      inet  n       -       y       -       -       smtpd\n"
        f"  -o smtpd_milters=unix:{outside}\n",
    )
    [finding] = site.lint("LIVE018")
    assert _at([finding]) == [("LIVE018", "master.cf", 5, 20, "error")]
    assert finding.message == (
        f"the Milter socket unix:{outside}: smtpd (smtp/inet) runs chrooted in {site.queue}, "
        f"so it connects to {site.inside(outside)}, which does not exist ({outside} is a "
        f"socket, but outside the chroot: put the socket below {site.queue}, or set the "
        "service's chroot column to n): the Milter fails, and milter_default_action "
        "(tempfail unless set) decides the fate of every message"
    )


def test_live018_fires_for_a_chrooted_cleanup(site):
    outside = site.listen(site.path("run/m.sock"))
    site.main(f"non_smtpd_milters = unix:{outside}\n")
    # BASE_MASTER's cleanup is unchrooted: the socket is where it looks
    assert site.lint("LIVE018") == []
    (site.conf / "master.cf").write_text(
        BASE_MASTER.replace(
            "cleanup   unix  n       -       n", "cleanup   unix  n       -       y"
        ),
        encoding="utf-8",
    )
    os.utime(site.conf / "master.cf", (time.time() - 60,) * 2)
    [finding] = site.lint("LIVE018")
    assert f"cleanup (cleanup/unix) runs chrooted in {site.queue}" in finding.message


def test_live018_quiet_on_listening_sockets_inet_and_no_milters(site):
    site.listen(str(site.queue / "milter/a"))
    outside = site.listen(site.path("run/b"))
    site.listen(site.inside(site.path("run/c")))
    site.main(
        f"smtpd_milters = unix:milter/a, {{ unix:{outside}, connect_timeout=10s }}, "
        "inet:127.0.0.1:8891\n"
        f"non_smtpd_milters = local:milter/a\n",
        "smtp      inet  n       -       n       -       -       smtpd\n"
        # chrooted: the socket is found below queue_directory only
        "submission inet n       -       y       -       -       smtpd\n"
        f"  -o smtpd_milters=unix:{site.path('run/c')}\n"
        # no_milters: smtpd makes no Milters at all
        "smtps     inet  n       -       y       -       -       smtpd\n"
        "  -o receive_override_options=no_milters\n",
    )
    assert site.lint("LIVE018") == []


# -- LIVE019: LMTP unix: next hops ----------------------------------------------------------

LMTP_CHROOTED = "lmtp      unix  -       -       y       -       -       lmtp\n"
LMTP_PLAIN = "lmtp      unix  -       -       n       -       -       lmtp\n"


def test_live019_fires_on_missing_file_and_fifo_sockets(site):
    site.file(str(site.queue / "private/file"))
    site.fifo(str(site.queue / "private/fifo"))
    site.main(
        "mailbox_transport = lmtp:unix:private/dovecot-lmtp\n"
        "virtual_mailbox_domains = example.com\n"
        "virtual_transport = lmtp:unix:private/file\n"
        "fallback_transport = lmtp:unix:private/fifo\n",
        LMTP_CHROOTED,
    )
    findings = site.lint("LIVE019")
    assert sorted(_at(findings)) == [
        ("LIVE019", "main.cf", 2, 26, "error"),
        ("LIVE019", "main.cf", 4, 26, "error"),
        ("LIVE019", "main.cf", 5, 27, "error"),
    ]
    by_line = {f.line: f.message for f in findings}
    assert by_line[2].startswith("the LMTP socket unix:private/dovecot-lmtp: lmtp (lmtp/unix)")
    assert f"{site.queue}/private/dovecot-lmtp, which does not exist" in by_line[2]
    assert "every delivery through it is deferred" in by_line[2]
    assert "a regular file, not a socket" in by_line[4]
    assert "a named pipe (FIFO), not a socket" in by_line[5]


def test_live019_fires_on_an_override_of_the_local_service(site):
    site.listen(str(site.queue / "private/dovecot-lmtp"))
    site.main(
        "mailbox_transport = lmtp:unix:private/dovecot-lmtp\n",
        LMTP_PLAIN + "local2    unix  -       n       n       -       -       local\n"
        "  -o mailbox_transport=lmtp:unix:private/other\n"
        "relay     unix  -       -       n       -       -       smtp\n",
    )
    # local2 gets no mail: no setting names it
    assert site.lint("LIVE019") == []
    site.main(
        "mailbox_transport = lmtp:unix:private/dovecot-lmtp\n",
        LMTP_PLAIN.replace("lmtp      unix", "dovecot   unix")
        + "local     unix  -       n       n       -       -       local\n"
        "  -o mailbox_transport=dovecot:unix:private/other\n",
        base=BASE_MASTER.replace(LOCAL, ""),
    )
    findings = site.lint("LIVE019")
    # the only local service overrides mailbox_transport: main.cf's value is read by
    # nobody, and the override names a socket that is not there
    assert _at(findings) == [("LIVE019", "master.cf", 5, 32, "error")]
    assert "the LMTP socket unix:private/other: lmtp (dovecot/unix)" in findings[0].message


def test_live019_chrooted_lmtp_looks_inside_the_queue(site):
    outside = site.listen(site.path("run/lmtp"))
    site.main(f"mailbox_transport = lmtp:unix:{outside}\n", LMTP_CHROOTED)
    [finding] = site.lint("LIVE019")
    assert f"runs chrooted in {site.queue}, so it connects to {site.inside(outside)}" in (
        finding.message
    )
    assert f"({outside} is a socket, but outside the chroot" in finding.message


def test_live019_quiet_on_listening_sockets_chrooted_or_not(site):
    site.listen(str(site.queue / "private/dovecot-lmtp"))
    site.listen(site.inside(site.path("run/lmtp")))
    site.main(
        "mailbox_transport = lmtp:unix:private/dovecot-lmtp\n"
        "virtual_mailbox_domains = example.com\n"
        f"virtual_transport = inside:unix:{site.path('run/lmtp')}\n",
        LMTP_PLAIN + "inside    unix  -       -       y       -       -       lmtp\n",
    )
    assert site.lint("LIVE019") == []


def test_live019_quiet_when_no_running_lmtp_service_gets_the_mail(site):
    settings = (
        # virtual_transport without virtual_mailbox_domains: no mail takes it
        "virtual_transport = lmtp:unix:private/none\n"
        # a service that runs smtp(8), which knows no unix: next hops
        "relay_domains = example.net\n"
        "relay_transport = relay:unix:private/none\n"
        # TCP
        "mailbox_transport = lmtp:inet:127.0.0.1:24\n"
        # a transport master.cf disables
        "fallback_transport = off:unix:private/none\n"
    )
    master = (
        LMTP_CHROOTED
        + "relay     unix  -       -       n       -       -       smtp\n"
        + "off       unix  -       -       n       -       -       lmtp\n"
    )
    site.main(settings + "master_service_disable = off/unix\n", master)
    assert site.lint("LIVE019") == []
    # with mail for a virtual domain, and the service enabled, both are found
    site.main(settings + "virtual_mailbox_domains = example.com\n", master)
    assert sorted(f.parameter for f in site.lint("LIVE019")) == [
        "fallback_transport",
        "virtual_transport",
    ]


def test_live018_fires_once_for_smtpd_and_cleanup_sharing_a_setting(site):
    site.main(
        "smtpd_milters = unix:milter/gone\nnon_smtpd_milters = $smtpd_milters\n",
        "smtp      inet  n       -       n       -       -       smtpd\n",
    )
    [finding] = site.lint("LIVE018")
    assert _at([finding]) == [("LIVE018", "main.cf", 2, 17, "error")]
    assert "smtpd (smtp/inet) and cleanup (cleanup/unix) take it from queue_directory" in (
        finding.message
    )


# -- the model's reading of the socket settings ------------------------------------------------


def test_the_socket_paths_as_postfix_takes_them():
    assert dovecot_socket("unix:private/auth", (3, 7, 0)) == "private/auth"
    assert dovecot_socket(" private/auth ", (3, 7, 0)) == "private/auth"
    assert dovecot_socket("inet:127.0.0.1:12345", (3, 7, 0)) is None
    # before 2.6 the whole value is the path
    assert dovecot_socket("unix:private/auth", (2, 5, 0)) == "unix:private/auth"
    assert milter("unix:/run/m.sock", (3, 7, 0)).unix_socket == "/run/m.sock"
    assert milter("local:m.sock", (3, 7, 0)).unix_socket == "m.sock"
    assert milter("{ unix:m.sock, default_action=accept }", (3, 7, 0)).unix_socket == "m.sock"
    assert milter("inet:127.0.0.1:8891", (3, 7, 0)).unix_socket is None
    # an entry smtpd stops on, or a transport milter8_connect() refuses: the static rules'
    assert milter("{ unix:m.sock, default_action = accept }", (3, 7, 0)).unix_socket is None
    assert milter("tcp:m.sock", (3, 7, 0)).unix_socket is None
