"""``pfedit apply sasl-tls`` proven on a running Postfix, with Dovecot checking passwords and
clients speaking SMTP: the seed article's configuration and Debian's default one, each run
before the recipe and after it, so that the tests show a change and not only a state.

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
    which the harness's Dovecot serves).  The recipe itself, applied to the article's file
    without that line, gives the same configuration: :func:`test_the_recipe_gives_the_seed_the_same_result_either_way`.
debian
    What Debian's postinst writes for "Internet Site" (/var/lib/dpkg/info/postfix.postinst,
    postfix 3.7.11-0+deb12u1): /usr/share/postfix/main.cf.debian, main.cf.tls appended (as
    where the snakeoil key exists), then its ``postconf -e`` settings with the debconf
    defaults (postfix.config, postfix.templates) for a host named mail.example.com; the
    stock master.cf (/usr/share/postfix/master.cf.dist).  The snakeoil certificate and
    /etc/aliases become the test's.

The client comes from ``sandbox.foreign_address``, outside mynetworks; outbound mail goes
to the SMTP sink; the fake DNS answers for the domains used.  Expected reply texts are
Postfix 3.7's (smtpd.c: the command table's SMTPD_CMD_FLAG_PRE_TLS, "530 5.7.0 Must issue
a STARTTLS command first"; smtpd_sasl_proto.c: "503 5.5.1 Error: authentication not
enabled").
"""

from __future__ import annotations

import base64
import contextlib
import re
import smtplib
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
import pytest
from conftest import invoke
from harness import FakeDns, Sandbox, ScratchPostfix, SmtpSink
from harness.dovecot import Dovecot
from harness.fixtures import DovecotFactory, ScratchPostfixFactory
from harness.postfix import stock_master_cf
from harness.smtp_client import Transcripts
from harness.tls import Certificates
from test_seed import seed_main_cf

from pfconf.cli.pfedit import cli as pfedit

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

USER = "alice"
PASSWORD = "e2e-Secret-7f3c1a"
WRONG_PASSWORD = "e2e-Wrong-90b2de"
SENDER = "alice@example.org"
FOREIGN = "bob@example.net"  # a domain the instance is not a destination for
MESSAGE = b"Subject: sasl-tls end to end\r\n\r\nhello\r\n"
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
STARTS = [pytest.param(SEED, id="seed"), pytest.param(DEBIAN, id="debian")]


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
    if start is SEED:
        return seed_config(directory, certificates)
    if not DEBIAN_MAIN_CF.is_file():
        pytest.fail(f"{DEBIAN_MAIN_CF} is missing: Debian's postfix package installs it")
    return debian_config(directory, certificates)


def apply_recipe(directory: Path, certificates: Certificates) -> None:
    invoke(pfedit, ["-c", directory, "apply", "sasl-tls", "--cert", certificates.cert,
                    "--key", certificates.key], 0)  # fmt: skip


# -- talking to it ------------------------------------------------------------------------


@attrs.define
class Mail:
    """A running scratch Postfix with Dovecot, and how the tests talk to it."""

    postfix: ScratchPostfix
    certificates: Certificates
    transcripts: Transcripts
    source: str
    sink: SmtpSink
    dovecot: Dovecot

    @contextlib.contextmanager
    def session(self, title: str, service: str = "smtp", implicit_tls: bool = False
                ) -> Iterator[object]:  # fmt: skip
        context = self.certificates.client_context() if implicit_tls else None
        client = self.postfix.client(
            service, self.source, transcript=self.transcripts.new(title),
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

    def starttls(self, client) -> None:  # type: ignore[no-untyped-def]
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
    return "PLAIN " + base64.b64encode(f"\0{user}\0{password}".encode()).decode()


def offers_auth(client) -> bool:  # type: ignore[no-untyped-def]
    return bool(client.has_extn("auth"))


def relay(client, recipient: str = FOREIGN) -> tuple[int, bytes]:  # type: ignore[no-untyped-def]
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


@pytest.fixture
def mail(
    sandbox: Sandbox,
    scratch_postfix: ScratchPostfixFactory,
    dovecot: DovecotFactory,
    fake_dns: FakeDns,
    smtp_sink: SmtpSink,
    transcripts: Transcripts,
    certificates: Certificates,
):  # type: ignore[no-untyped-def]
    """``mail(config_dir)``: the instance started with Dovecot beside it."""
    for domain in ("example.org", "example.net", "deimos.fr", "example.com"):
        fake_dns.add(domain, "A", "192.0.2.25")

    def run(config: Path) -> Mail:
        postfix = scratch_postfix(config_dir=config, outbound=smtp_sink.nexthop, start=False)
        auth = dovecot(postfix, {USER: PASSWORD})
        sandbox.start(postfix)
        return Mail(postfix, certificates, transcripts, sandbox.foreign_address, smtp_sink, auth)

    return run


# -- the tests ----------------------------------------------------------------------------


@pytest.mark.parametrize("start", STARTS)
def test_before_the_recipe(start: Start, tmp_path: Path, certificates: Certificates, mail) -> None:  # type: ignore[no-untyped-def]
    """The starting point as it is: STARTTLS on port 25 in both; the seed offers AUTH in
    clear and takes a password there (its flaw); no submission services."""
    running = mail(make_config(start, tmp_path / "config", certificates))
    assert set(running.postfix.ports) == {"smtp"}  # stock master.cf: 587 and 465 are off
    name = f"{start.name}, before sasl-tls"

    with running.session(f"{name}: port 25 without TLS") as client:
        assert client.has_extn("starttls")
        assert offers_auth(client) is start.auth_on_port_25
        code, text = client.docmd("AUTH", plain(USER, PASSWORD))
        if start.auth_on_port_25:
            # the flaw: a password crosses the network in clear, and is accepted; the
            # client may then relay without ever starting TLS
            assert code == 235, text
            assert relay(client)[0] == 250
        else:
            assert (code, text) == (503, b"5.5.1 Error: authentication not enabled")

    with running.session(f"{name}: port 25 without TLS, no AUTH, relaying refused") as client:
        code, text = relay(client)
        assert code in (454, 554) and b"Relay access denied" in text, (code, text)

    if start.auth_on_port_25:
        with running.session(f"{name}: port 25 without TLS, a wrong password") as client:
            assert client.docmd("AUTH", plain(USER, WRONG_PASSWORD))[0] == 535
        assert_no_password_logged(running)


@pytest.mark.parametrize("start", STARTS)
def test_after_the_recipe(start: Start, tmp_path: Path, certificates: Certificates, mail) -> None:  # type: ignore[no-untyped-def]
    config = make_config(start, tmp_path / "config", certificates)
    apply_recipe(config, certificates)
    running = mail(config)
    assert set(running.postfix.ports) == {"smtp", "submission", "submissions"}
    name = f"{start.name}, after sasl-tls"
    check_port_25(running, start, name)
    check_port_587(running, start, name)
    check_port_465(running, start, name)

    # a wrong password, with either mechanism, is refused
    with running.session(f"{name}: port 587 with TLS, a wrong password (PLAIN)",
                         "submission") as client:  # fmt: skip
        running.starttls(client)
        code, text = client.docmd("AUTH", plain(USER, WRONG_PASSWORD))
        assert code == 535 and text.startswith(b"5.7.8 Error: authentication failed"), text
    with running.session(f"{name}: port 465, a wrong password (LOGIN)", "submissions",
                         implicit_tls=True) as client:  # fmt: skip
        assert client.docmd("AUTH", "LOGIN")[0] == 334
        assert client.docmd(base64.b64encode(USER.encode()).decode())[0] == 334
        code, text = client.docmd(base64.b64encode(WRONG_PASSWORD.encode()).decode())
        assert code == 535, text
    assert_no_password_logged(running)


def check_port_25(running: Mail, start: Start, name: str) -> None:
    """STARTTLS offered; AUTH neither offered nor accepted before it; after it, AUTH only
    where the starting point had it on port 25; relaying only with AUTH; local mail needs
    neither."""
    with running.session(f"{name}: port 25 without TLS, AUTH refused") as client:
        assert client.has_extn("starttls")
        assert not offers_auth(client)
        code, text = client.docmd("AUTH", plain(USER, PASSWORD))
        assert (code, text) == (503, b"5.5.1 Error: authentication not enabled")

    with running.session(f"{name}: port 25 without TLS, mail to a local recipient") as client:
        assert relay(client, start.local_recipient)[0] == 250

    with running.session(f"{name}: port 25 with TLS, no AUTH, relaying refused") as client:
        running.starttls(client)
        assert offers_auth(client) is start.auth_on_port_25
        code, text = relay(client)
        assert code in (454, 554) and b"Relay access denied" in text, (code, text)

    with running.session(f"{name}: port 25 with TLS, AUTH") as client:
        running.starttls(client)
        code, text = client.docmd("AUTH", plain(USER, PASSWORD))
        if start.auth_on_port_25:
            assert code == 235, text
            assert relay(client)[0] == 250
        else:
            assert (code, text) == (503, b"5.5.1 Error: authentication not enabled")


#: What port 587 answers before STARTTLS: every command but the few smtpd's command table
#: allows before TLS (SMTPD_CMD_FLAG_PRE_TLS: HELO, EHLO, XCLIENT, STARTTLS, NOOP, QUIT).
BEFORE_TLS = [
    ("MAIL", f"FROM:<{SENDER}>"), ("RCPT", f"TO:<{FOREIGN}>"), ("DATA", ""), ("RSET", ""),
    ("VRFY", "root"), ("ETRN", "example.org"), ("AUTH", plain(USER, PASSWORD)),
]  # fmt: skip
MUST_STARTTLS = (530, b"5.7.0 Must issue a STARTTLS command first")


def check_port_587(running: Mail, start: Start, name: str) -> None:
    """Before TLS nothing but the greeting, EHLO, STARTTLS and QUIT (and NOOP); after it,
    AUTH works and only an authenticated client may send."""
    with running.session(f"{name}: port 587 without TLS", "submission") as client:
        assert client.has_extn("starttls")
        assert not offers_auth(client)
        for verb, argument in BEFORE_TLS:
            assert client.docmd(verb, argument) == MUST_STARTTLS, verb
        assert client.docmd("NOOP")[0] == 250  # allowed before TLS, and harmless

    with running.session(f"{name}: port 587 with TLS, no AUTH", "submission") as client:
        running.starttls(client)
        assert offers_auth(client)
        code, text = relay(client)
        denied = b"5.7.1 <unknown[198.51.100.10]>: Client host rejected: Access denied"
        assert (code, text) == (554, denied)

    sent = len(running.sink.messages)
    with running.session(f"{name}: port 587 with TLS and AUTH", "submission") as client:
        running.starttls(client)
        assert client.docmd("AUTH", plain(USER, PASSWORD))[0] == 235
        assert relay(client)[0] == 250
    if start.delivers_outbound:
        relayed = running.sink.wait_for_messages(sent + 1)[-1]
        assert (relayed.mail_from, relayed.rcpt_tos) == (SENDER, [FOREIGN])


def check_port_465(running: Mail, start: Start, name: str) -> None:
    """TLS from the first byte (a client speaking SMTP in clear gets no greeting); AUTH
    works and an authenticated client may send."""
    transcript = running.transcripts.new(f"{name}: port 465, a client that does not speak TLS")
    port = running.postfix.port("submissions")
    transcript.note(f"submissions service (127.0.0.1:{port}), client {running.source}")
    with socket.create_connection(("127.0.0.1", port), timeout=3,
                                  source_address=(running.source, 0)) as raw:  # fmt: skip
        raw.sendall(f"EHLO {HELO}\r\n".encode())
        transcript.lines.append(f"C: EHLO {HELO}")
        try:
            answer, outcome = raw.recv(1024), "answered"
        except TimeoutError:
            answer, outcome = b"", "said nothing for 3 s"
        except ConnectionResetError:
            answer, outcome = b"", "reset the connection"
    if answer:
        outcome = f"sent {len(answer)} bytes that are not SMTP ({answer[:8]!r}...)"
    transcript.note(f"the server {outcome}: a TLS handshake was expected")
    assert not answer.startswith(b"220")

    with running.session(f"{name}: port 465, AUTH", "submissions", implicit_tls=True) as client:
        assert not client.has_extn("starttls")
        assert offers_auth(client)
        assert client.docmd("AUTH", plain(USER, PASSWORD))[0] == 235
        assert relay(client)[0] == 250


def assert_no_password_logged(running: Mail) -> None:
    """Neither Postfix's maillog nor Dovecot's log holds a password, in clear or in the
    base64 the client sent; both did log the attempts."""
    running.postfix.wait_for_log(r"SASL (PLAIN|LOGIN) authentication failed")
    running.postfix.wait_for_log(r"sasl_method=PLAIN, sasl_username=alice")
    dovecot_log = wait_for(running.dovecot.log, r"passwd-file\(alice,[^)]*\): Password mismatch")
    for password in (PASSWORD, WRONG_PASSWORD):
        forms = [password, base64.b64encode(password.encode()).decode(),
                 plain(USER, password).split()[1]]  # fmt: skip
        for log_name, log in (("maillog", running.postfix.log()), ("Dovecot's log", dovecot_log)):
            for form in forms:
                assert form not in log, f"{log_name} holds a password ({form})"


def test_the_recipe_gives_the_seed_the_same_result_either_way(
    tmp_path: Path, certificates: Certificates
) -> None:
    """The seed run here has ``smtpd_sasl_type = dovecot`` added (the article used Cyrus
    with saslauthd); the recipe, applied to the article's file without it, chooses Dovecot
    itself and ends with the same configuration, as postconf reads both."""
    readings = []
    for dovecot in (True, False):
        config = seed_config(tmp_path / f"dovecot-{dovecot}", certificates, dovecot=dovecot)
        apply_recipe(config, certificates)
        readings.append([
            subprocess.run(["postconf", "-c", str(config), *args], check=True, text=True,
                           capture_output=True, timeout=30).stdout.replace(str(config), "DIR")
            for args in (["-n"], ["-M"], ["-P"])
        ])  # fmt: skip
    with_line, without = readings
    assert with_line == without
    assert "smtpd_sasl_type = dovecot" in with_line[0]
    assert "smtpd_sasl_path = private/auth" in with_line[0]
