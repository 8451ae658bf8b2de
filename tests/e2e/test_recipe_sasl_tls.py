"""``pfedit apply sasl-tls`` proven on a running Postfix, with Dovecot checking passwords and
clients speaking SMTP: the seed article's configuration and Debian's default one
(tests/harness/recipes.py says how each is made), each run before the recipe and after it,
so that the tests show a change and not only a state.

The client comes from ``sandbox.foreign_address``, outside mynetworks; outbound mail goes
to the SMTP sink; the fake DNS answers for the domains used.  Expected reply texts are
Postfix 3.7's (smtpd.c: the command table's SMTPD_CMD_FLAG_PRE_TLS, "530 5.7.0 Must issue
a STARTTLS command first"; smtpd_sasl_proto.c: "503 5.5.1 Error: authentication not
enabled").
"""

from __future__ import annotations

import base64
import socket
import subprocess
from pathlib import Path

import pytest
from conftest import invoke
from harness.fixtures import MailFactory
from harness.recipes import (
    DEBIAN,
    FOREIGN,
    HELO,
    PASSWORD,
    SEED,
    SENDER,
    USER,
    WRONG_PASSWORD,
    Mail,
    Start,
    make_config,
    offers_auth,
    plain,
    relay,
    seed_config,
    wait_for,
)  # fmt: skip
from harness.tls import Certificates

from pfconf.cli.pfedit import cli as pfedit

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

STARTS = [pytest.param(SEED, id="seed"), pytest.param(DEBIAN, id="debian")]


def apply_recipe(directory: Path, certificates: Certificates) -> None:
    invoke(pfedit, ["-c", directory, "apply", "sasl-tls", "--cert", certificates.cert,
                    "--key", certificates.key], 0)  # fmt: skip


# -- the tests ----------------------------------------------------------------------------


@pytest.mark.parametrize("start", STARTS)
def test_before_the_recipe(
    start: Start, tmp_path: Path, certificates: Certificates, mail_server: MailFactory
) -> None:
    """The starting point as it is: STARTTLS on port 25 in both; the seed offers AUTH in
    clear and takes a password there (its flaw); no submission services."""
    running = mail_server(make_config(start, tmp_path / "config", certificates))
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
def test_after_the_recipe(
    start: Start, tmp_path: Path, certificates: Certificates, mail_server: MailFactory
) -> None:
    config = make_config(start, tmp_path / "config", certificates)
    apply_recipe(config, certificates)
    running = mail_server(config)
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
    assert running.dovecot is not None
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
