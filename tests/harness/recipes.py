"""What the recipes' end-to-end tests share: the configurations they start from, and a
running instance to talk to (:class:`Mail`), with the SMTP steps they repeat.

The starting points, and what the harness had to change in them to run here (file locations
only; no setting's meaning):

seed
    The seed article's main.cf (tests/test_seed.py reads it from shared/seed/) beside the
    machine's stock master.cf.  Its tables (/etc/aliases, /etc/postfix/virtual, the MIME
    header checks) become files of the same role in the configuration directory
    ($config_directory, which is /etc/postfix on the article's machine and the scratch copy
    here), /etc/mailname a file there too, and its certificate, key and CA the test's.
    The article checks passwords with Cyrus SASL and saslauthd; here Dovecot does
    (``smtpd_sasl_type = dovecot`` added, smtpd_sasl_path left at its default "smtpd",
    which the harness's Dovecot serves).  sasl-tls, applied to the article's file without
    that line, gives the same configuration (tests/e2e/test_recipe_sasl_tls.py shows it).
debian
    What Debian's postinst writes for "Internet Site" (/var/lib/dpkg/info/postfix.postinst,
    postfix 3.7.11-0+deb12u1): /usr/share/postfix/main.cf.debian, main.cf.tls appended (as
    where the snakeoil key exists), then its ``postconf -e`` settings with the debconf
    defaults (postfix.config, postfix.templates) for a host named mail.example.com; the
    stock master.cf (/usr/share/postfix/master.cf.dist).  The snakeoil certificate and
    /etc/aliases become the test's.
"""

from __future__ import annotations

import base64
import contextlib
import re
import smtplib
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs

from .dovecot import Dovecot
from .postfix import ScratchPostfix, stock_master_cf
from .sandbox import HarnessError
from .smtp_client import Transcripts
from .smtp_sink import SmtpSink
from .tls import Certificates

USER = "alice"
PASSWORD = "e2e-Secret-7f3c1a"
WRONG_PASSWORD = "e2e-Wrong-90b2de"
SENDER = "alice@example.org"
FOREIGN = "bob@example.net"  # a domain the instance is not a destination for
MESSAGE = b"Subject: end to end\r\n\r\nhello\r\n"
HELO = "client.example.org"

DEBIAN_MAIN_CF = Path("/usr/share/postfix/main.cf.debian")
DEBIAN_MAIN_CF_TLS = Path("/usr/share/postfix/main.cf.tls")
#: postinst's settings for "Internet Site" with the debconf defaults, for mail.example.com
#: (mydestination keeps postfix.config's empty item between its commas).
DEBIAN_SETTINGS = (
    "smtpd_relay_restrictions=permit_mynetworks permit_sasl_authenticated defer_unauth_destination",
    "myhostname=mail.example.com",
    "alias_maps=hash:/etc/aliases",
    "alias_database=hash:/etc/aliases",
    "myorigin=/etc/mailname",
    "mydestination=$myhostname, mail.example.com, localhost.example.com, , localhost",
    "relayhost=",
    "mynetworks=127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128",
    "mailbox_size_limit=0",
    "recipient_delimiter=+",
    "inet_interfaces=all",
    "inet_protocols=all",
)


@attrs.frozen
class Start:
    """A starting point: its name, a local recipient, and whether it offers AUTH on port 25."""

    name: str
    local_recipient: str
    auth_on_port_25: bool
    #: whether relayed mail goes out to the sink (the seed's content_filter keeps it queued
    #: for an amavis service its master.cf does not have)
    delivers_outbound: bool


SEED = Start("seed", "root@deimos.fr", auth_on_port_25=True, delivers_outbound=False)
DEBIAN = Start("debian", "root@mail.example.com", auth_on_port_25=False, delivers_outbound=True)
# -- the starting points ------------------------------------------------------------------


def _relocate(text: str, moves: dict[str, str]) -> str:
    """``text`` with each file name moved; each must be there (a seed that changed would
    otherwise be run unchanged)."""
    for old, new in moves.items():
        assert old in text, f"{old} is no longer in the starting point"
        text = text.replace(old, new)
    return text


def _tables(directory: Path) -> None:
    """The files the relocated names point at: aliases (Debian's postinst writes
    "postmaster: root"), an empty virtual table, no MIME header checks, the mail name."""
    (directory / "aliases").write_text("postmaster: root\n")
    (directory / "virtual").write_text("")
    (directory / "mime_header_checks.regexp").write_text("")
    (directory / "mailname").write_text("mail.example.com\n")
    for command in (["postalias", "-c", directory, f"hash:{directory}/aliases"],
                    ["postmap", "-c", directory, f"hash:{directory}/virtual"]):  # fmt: skip
        subprocess.run([str(c) for c in command], check=True, capture_output=True, timeout=30)


def seed_config(directory: Path, certificates: Certificates, *, dovecot: bool = True) -> Path:
    from test_seed import seed_main_cf  # tests/, on the path under pytest

    directory.mkdir()
    main_cf = _relocate(seed_main_cf(), {
        "hash:/etc/aliases": "hash:$config_directory/aliases",
        "hash:/etc/postfix/virtual": "hash:$config_directory/virtual",
        "regexp:/etc/postfix/mime_header_checks.regexp":
            "regexp:$config_directory/mime_header_checks.regexp",
        "myorigin = /etc/mailname": "myorigin = $config_directory/mailname",
        "/etc/postfix/ssl/smtpd.key": str(certificates.key),
        "/etc/postfix/ssl/smtpd.crt": str(certificates.cert),
        "/etc/postfix/ssl/cacert.pem": str(certificates.ca),
    })  # fmt: skip
    if dovecot:
        main_cf += "\n# the harness: Dovecot checks passwords instead of saslauthd\n"
        main_cf += "smtpd_sasl_type = dovecot\n"
    (directory / "main.cf").write_text(main_cf)
    (directory / "master.cf").write_text(stock_master_cf())
    _tables(directory)
    return directory


def debian_config(directory: Path, certificates: Certificates) -> Path:
    directory.mkdir()
    main_cf = directory / "main.cf"
    main_cf.write_text(DEBIAN_MAIN_CF.read_text() + DEBIAN_MAIN_CF_TLS.read_text())
    (directory / "master.cf").write_text(stock_master_cf())
    subprocess.run(["postconf", "-c", str(directory), "-e", *DEBIAN_SETTINGS], check=True,
                   capture_output=True, timeout=30)  # fmt: skip
    main_cf.write_text(_relocate(main_cf.read_text(), {
        "/etc/ssl/certs/ssl-cert-snakeoil.pem": str(certificates.cert),
        "/etc/ssl/private/ssl-cert-snakeoil.key": str(certificates.key),
        "hash:/etc/aliases": "hash:$config_directory/aliases",
        "myorigin = /etc/mailname": "myorigin = $config_directory/mailname",
    }))  # fmt: skip
    _tables(directory)
    return directory


def make_config(start: Start, directory: Path, certificates: Certificates) -> Path:
    """The configuration directory of ``start``, made in ``directory``."""
    if start is SEED:
        return seed_config(directory, certificates)
    if not DEBIAN_MAIN_CF.is_file():
        raise HarnessError(f"{DEBIAN_MAIN_CF} is missing: Debian's postfix package installs it")
    return debian_config(directory, certificates)


# -- talking to it ------------------------------------------------------------------------


@attrs.define
class Mail:
    """A running scratch Postfix (with Dovecot beside it, when it checks passwords), and
    how the tests talk to it: clients from ``source`` whose sessions land in
    ``transcripts``, TLS checked against the test CA."""

    postfix: ScratchPostfix
    certificates: Certificates
    transcripts: Transcripts
    source: str
    sink: SmtpSink
    dovecot: Dovecot | None

    @contextlib.contextmanager
    def session(self, title: str, service: str = "smtp", implicit_tls: bool = False,
                source: str | None = None) -> Iterator[Any]:  # fmt: skip
        """A client that said EHLO; QUIT when the block ends."""
        context = self.certificates.client_context() if implicit_tls else None
        client = self.postfix.client(
            service, source or self.source, transcript=self.transcripts.new(title),
            server_hostname=self.certificates.hostname, implicit_tls=context,
        )  # fmt: skip
        try:
            client.ehlo(HELO)
            yield client
        finally:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()

    def starttls(self, client: Any) -> None:
        code, _ = client.starttls(context=self.certificates.client_context())
        assert code == 220
        client.ehlo(HELO)


def wait_for(read: Callable[[], str], pattern: str, timeout: float = 10.0) -> str:
    """What ``read()`` returns once ``pattern`` is in it; AssertionError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not re.search(pattern, text := read()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{pattern!r} never appeared in:\n{text[-2000:]}")
        time.sleep(0.05)
    return text


def plain(user: str, password: str) -> str:
    """AUTH's argument for PLAIN with an initial response."""
    return "PLAIN " + base64.b64encode(f"\0{user}\0{password}".encode()).decode()


def offers_auth(client: Any) -> bool:
    return bool(client.has_extn("auth"))


def relay(client: Any, recipient: str = FOREIGN) -> tuple[int, bytes]:
    """MAIL, RCPT; DATA when the recipient was accepted: the RCPT reply, or DATA's when it
    failed."""
    code, text = client.mail(SENDER)
    assert code == 250, text
    reply = client.rcpt(recipient)
    if reply[0] != 250:
        client.rset()
        return reply
    data = client.data(MESSAGE)
    assert data[0] == 250, data
    return reply
