"""``pfedit apply virtual-mailboxes`` proven on a running Postfix, with Dovecot's LMTP server
storing the mail: Debian's default configuration for mail.example.com
(tests/harness/recipes.py) learns to host hosted.example, and keeps its own local mail.

Dovecot runs beside each instance with LMTP on the socket the recipe points
virtual_transport at (under the instance's queue directory), its users named by address,
their maildirs under the test's directory.  Before the recipe Postfix does not know the
domain: a foreign client is refused ("Relay access denied") and a client of mynetworks has
its mail sent on to the Internet (here, the SMTP sink).  After it, a known address's mail
lands in Dovecot's maildir, an unknown one is refused at RCPT, and mail for the host's own
names still goes to local(8).  A domain the host already counts as local is refused by the
recipe; written by hand, the same settings make Postfix warn and keep the domain local.

Reply texts are Postfix 3.7's (smtpd_check.c: check_rcpt_maps(), "User unknown in virtual
mailbox table" and "... local recipient table"; reject_unauth_destination(): "Relay access
denied", 454 from Debian's defer_unauth_destination).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import invoke
from harness import Sandbox, SmtpSink
from harness.dovecot import Dovecot
from harness.fixtures import DovecotFactory, ScratchPostfixFactory
from harness.recipes import DEBIAN, MESSAGE, PASSWORD, SENDER, Mail, make_config, relay
from harness.smtp_client import Transcripts
from harness.tls import Certificates

from pfconf.cli.pfedit import cli as pfedit

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

HOSTED = "hosted.example"
MAILBOX = f"alice@{HOSTED}"
UNKNOWN = f"nobody@{HOSTED}"
#: A local address of Debian's configuration: mydestination has $myhostname, and the
#: aliases send postmaster to root, whose mailbox local(8) writes.
LOCAL = "postmaster@mail.example.com"
#: Where the recipe points virtual_transport by default, under the queue directory.
LMTP_SOCKET = "private/dovecot-lmtp"


Run = Callable[..., tuple[Mail, Dovecot]]


@pytest.fixture
def run(
    sandbox: Sandbox,
    scratch_postfix: ScratchPostfixFactory,
    dovecot: DovecotFactory,
    smtp_sink: SmtpSink,
    transcripts: Transcripts,
    certificates: Certificates,
) -> Run:
    """``run(config, users, lmtp=None)``: a scratch Postfix from ``config`` with Dovecot
    beside it taking mail over LMTP for ``users`` (addresses), at ``lmtp`` under the queue
    directory (default: where virtual_transport points); outbound mail goes to the sink."""

    def start(config: Path, users: list[str], lmtp: str | None = None) -> tuple[Mail, Dovecot]:
        postfix = scratch_postfix(config_dir=config, start=False, outbound=smtp_sink.nexthop)
        socket = postfix.queue_directory / lmtp if lmtp else postfix.lmtp_socket()
        store = dovecot(postfix, dict.fromkeys(users, PASSWORD), lmtp=socket)
        sandbox.start(postfix)
        mail = Mail(postfix, certificates, transcripts, sandbox.foreign_address, smtp_sink, store)
        return mail, store

    return start


def apply_recipe(config: Path, domains: str, expect: int = 0) -> str:
    result = invoke(pfedit, ["-c", config, "apply", "virtual-mailboxes", "--domains", domains],
                    expect)  # fmt: skip
    return str(result.output)


def fill_table(config: Path, *addresses: str) -> None:
    """What the administrator does after the recipe: the addresses, then postmap."""
    table = config / "vmailbox"
    with open(table, "a") as handle:
        handle.writelines(f"{address}    mailbox\n" for address in addresses)
    subprocess.run(["postmap", "-c", str(config), f"hash:{table}"], check=True,
                   capture_output=True, timeout=30)  # fmt: skip


def local_delivery(mail: Mail, since: int) -> None:
    """postmaster@ reached root's mailbox through local(8), not Dovecot."""
    mail.postfix.wait_for_log(
        r"to=<root@mail\.example\.com>, orig_to=<postmaster@mail\.example\.com>, relay=local, "
        r".*status=sent \(delivered to mailbox\)", since=since,
    )  # fmt: skip
    mailbox = (mail.postfix.mail_directory / "root").read_bytes()
    assert b"Subject: end to end" in mailbox


def test_before_the_recipe(tmp_path: Path, certificates: Certificates, run: Run) -> None:
    """Postfix does not know hosted.example: a foreign client is refused, a trusted one's
    mail goes out to the Internet (the sink); Dovecot, listening where the recipe will
    point Postfix, gets nothing.  Local mail goes to local(8)."""
    config = make_config(DEBIAN, tmp_path / "config", certificates)
    mail, store = run(config, [MAILBOX], lmtp=LMTP_SOCKET)
    name = "debian, before virtual-mailboxes"

    with mail.session(f"{name}: a foreign client, mail for {MAILBOX}") as client:
        code, text = relay(client, MAILBOX)
        assert (code, text) == (454, f"4.7.1 <{MAILBOX}>: Relay access denied".encode())

    with mail.session(f"{name}: a client of mynetworks, mail for {MAILBOX}",
                      source="127.0.0.1") as client:  # fmt: skip
        assert relay(client, MAILBOX)[0] == 250
    [sent_on] = mail.sink.wait_for_messages(1)
    assert (sent_on.mail_from, sent_on.rcpt_tos) == (SENDER, [MAILBOX])

    mark = mail.postfix.mark()
    with mail.session(f"{name}: a foreign client, mail for {LOCAL}") as client:
        assert relay(client, LOCAL)[0] == 250
    local_delivery(mail, mark)
    assert store.messages(MAILBOX) == []
    assert "lmtp(" not in store.log()


def test_after_the_recipe(tmp_path: Path, certificates: Certificates, run: Run) -> None:
    config = make_config(DEBIAN, tmp_path / "config", certificates)
    output = apply_recipe(config, HOSTED)
    assert "virtual_mailbox_domains = hosted.example" in output
    invoke(pfedit, ["-c", config, "apply", "virtual-mailboxes", "--domains", HOSTED, "--check"],
           0)  # fmt: skip
    fill_table(config, MAILBOX)
    mail, store = run(config, [MAILBOX])
    assert store.lmtp == mail.postfix.queue_directory / LMTP_SOCKET
    name = "debian, after virtual-mailboxes"

    with mail.session(f"{name}: a foreign client, mail for {MAILBOX}") as client:
        assert relay(client, MAILBOX)[0] == 250
    mail.postfix.wait_for_log(
        rf"to=<{MAILBOX}>, relay=[^,]*\[{LMTP_SOCKET}\], .*status=sent "
        rf"\(250 2\.0\.0 <{MAILBOX}> .*Saved\)"
    )  # fmt: skip
    [stored] = store.messages(MAILBOX)
    assert stored.endswith(MESSAGE.replace(b"\r\n", b"\n"))
    assert f"Delivered-To: {MAILBOX}".encode() in stored

    with mail.session(f"{name}: a foreign client, mail for {UNKNOWN}") as client:
        code, text = relay(client, UNKNOWN)
        assert (code, text) == (550, f"5.1.1 <{UNKNOWN}>: Recipient address rejected: User "
                                     "unknown in virtual mailbox table".encode())  # fmt: skip

    mark = mail.postfix.mark()
    with mail.session(f"{name}: a foreign client, mail for {LOCAL}") as client:
        assert relay(client, LOCAL)[0] == 250
    local_delivery(mail, mark)
    assert len(store.messages(MAILBOX)) == 1  # the local message did not go to Dovecot
    assert mail.sink.messages == []
    assert "do not list domain" not in mail.postfix.log()


def test_a_local_domain_is_refused(tmp_path: Path, certificates: Certificates, run: Run) -> None:
    """With $mydomain in mydestination, example.com is this host's own: the recipe refuses to
    host it and writes nothing.  The same settings written by hand show why: Postfix warns
    and keeps the domain local, so the Dovecot user's mail is refused as an unknown local
    user and Dovecot gets nothing."""
    config = make_config(DEBIAN, tmp_path / "config", certificates)
    subprocess.run(["postconf", "-c", str(config), "-e",
                    "mydestination = $myhostname, $mydomain, localhost"], check=True,
                   capture_output=True, timeout=30)  # fmt: skip
    before = {p.name: p.read_bytes() for p in config.iterdir()}
    output = apply_recipe(config, "example.com", expect=2)
    assert (
        "pfedit: mydestination lists example.com (as $mydomain): that domain's mail goes "
        "to local users (mydestination comes first)"
    ) in output
    assert {p.name: p.read_bytes() for p in config.iterdir()} == before

    with open(config / "main.cf", "a") as handle:
        handle.write("virtual_mailbox_domains = example.com\n"
                     f"virtual_mailbox_maps = hash:{config}/vmailbox\n"
                     f"virtual_transport = lmtp:unix:{LMTP_SOCKET}\n")  # fmt: skip
    (config / "vmailbox").write_text("")
    fill_table(config, "alice@example.com")
    mail, store = run(config, ["alice@example.com"])
    with mail.session("debian with example.com local and hosted by hand: mail for "
                      "alice@example.com") as client:  # fmt: skip
        code, text = relay(client, "alice@example.com")
        unknown = b"5.1.1 <alice@example.com>: Recipient address rejected: User unknown in local"
        assert (code, text) == (550, unknown + b" recipient table")
    mail.postfix.wait_for_log(r"warning: do not list domain example\.com in BOTH mydestination "
                              r"and virtual_mailbox_domains")  # fmt: skip
    assert store.messages("alice@example.com") == []
