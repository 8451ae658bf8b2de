"""The end-to-end harness itself: a client from outside mynetworks, the fake DNS, the SMTP
sink, the sandbox's changes to a configuration, and clean-up whatever happens."""

from __future__ import annotations

import os
import pwd
import smtplib
from pathlib import Path

import pytest
from conftest import CORPUS, invoke
from harness import (
    FakeDns,
    HarnessError,
    Sandbox,
    ScratchPostfix,
    SmtpSink,
    reversed_name,
)
from harness.dns import NXDOMAIN, lookup
from harness.dovecot import Dovecot
from harness.fixtures import ScratchPostfixFactory, require_dovecot, require_e2e
from harness.postfix import SANDBOX_PARAMETERS, stock_master_cf
from harness.smtp_client import RecordingSMTP, Transcript
from harness.tls import Certificates

from pfconf import load
from pfconf.cli.pfedit import cli as pfedit

pytestmark = pytest.mark.e2e

RELAY_BY_MYNETWORKS = """\
compatibility_level = 3.7
myhostname = mail.example.com
mydestination = localhost
alias_maps =
{mynetworks}smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
"""

MESSAGE = b"Subject: harness\r\n\r\nhello\r\n"


@pytest.mark.slow
@pytest.mark.parametrize(
    "mynetworks",
    ["mynetworks = 127.0.0.0/8 [::1]/128\n", ""],
    ids=["mynetworks-127/8", "mynetworks-style-host"],
)
def test_a_client_outside_mynetworks_may_not_relay(
    sandbox: Sandbox,
    scratch_postfix: ScratchPostfixFactory,
    smtp_sink: SmtpSink,
    mynetworks: str,
) -> None:
    postfix = scratch_postfix(RELAY_BY_MYNETWORKS.format(mynetworks=mynetworks),
                              outbound=smtp_sink.nexthop)  # fmt: skip
    # The foreign network is routed to lo without being an address of lo: Postfix's idea of
    # "this machine" (mynetworks_style = host) does not include it.
    assert "198.51.100." not in postfix.postconf("-h", "mynetworks")

    inside = postfix.client(source="127.0.0.1")
    inside.ehlo("inside.test")
    assert inside.mail("alice@example.org")[0] == 250
    assert inside.rcpt("bob@example.net")[0] == 250
    assert inside.data(MESSAGE)[0] == 250
    inside.quit()

    outside = postfix.client(source=sandbox.foreign_address)
    outside.ehlo("outside.test")
    assert outside.mail("mallory@example.org")[0] == 250
    code, text = outside.rcpt("bob@example.net")
    outside.quit()
    assert (code, text) == (554, b"5.7.1 <bob@example.net>: Relay access denied")
    postfix.wait_for_log(
        r"NOQUEUE: reject: RCPT from unknown\[198\.51\.100\.10\]: 554 5\.7\.1 "
        r"<bob@example\.net>: Relay access denied"
    )

    [relayed] = smtp_sink.wait_for_messages(1)
    assert (relayed.mail_from, relayed.rcpt_tos) == ("alice@example.org", ["bob@example.net"])
    assert b"\r\nSubject: harness\r\n" in relayed.data
    assert relayed.data.endswith(b"\r\n\r\nhello\r\n")
    assert relayed.helo == "mail.example.com"


@pytest.mark.slow
def test_reject_rbl_client_asks_the_fake_dns(
    sandbox: Sandbox, scratch_postfix: ScratchPostfixFactory, fake_dns: FakeDns,
    smtp_sink: SmtpSink,
) -> None:  # fmt: skip
    listed, unlisted = "198.51.100.10", "198.51.100.11"
    fake_dns.list_address("rbl.test", listed, reason="listed by the test")
    postfix = scratch_postfix(
        "compatibility_level = 3.7\n"
        "myhostname = mail.example.com\n"
        "mydestination = localhost\n"
        "relay_domains = example.net\n"
        "smtpd_client_restrictions = reject_rbl_client rbl.test\n",
        outbound=smtp_sink.nexthop,
    )
    replies = {}
    for source in (listed, unlisted):
        client = postfix.client(source=source)
        client.ehlo("client.test")
        client.mail("sender@example.org")
        replies[source] = client.rcpt("user@example.net")
        if replies[source][0] == 250:
            client.data(MESSAGE)
        client.quit()

    blocked = (b"5.7.1 Service unavailable; Client host [198.51.100.10] blocked using "
               b"rbl.test; listed by the test")  # fmt: skip
    assert replies[listed] == (554, blocked)
    assert replies[unlisted][0] == 250
    # Both were looked up: the unlisted one got NXDOMAIN, not a failed lookup.
    assert "A" in fake_dns.asked(reversed_name(unlisted, "rbl.test"))
    postfix.wait_for_log(r"reject: RCPT from unknown\[198\.51\.100\.10\]: 554 5\.7\.1 Service "
                         r"unavailable; Client host \[198\.51\.100\.10\] blocked using rbl\.test")
    [delivered] = smtp_sink.wait_for_messages(1)
    assert delivered.rcpt_tos == ["user@example.net"]


@pytest.mark.slow
def test_a_directory_pfedit_just_edited(
    tmp_path: Path, scratch_postfix: ScratchPostfixFactory, smtp_sink: SmtpSink
) -> None:
    """The stock submission service, enabled by pfedit with overrides pfedit set, answers on
    its own port with its own restrictions; the smtp service beside it has main.cf's."""
    config = tmp_path / "etc-postfix"
    config.mkdir()
    main_cf = RELAY_BY_MYNETWORKS.format(mynetworks="mynetworks = 127.0.0.0/8\n")
    (config / "main.cf").write_text(main_cf)
    (config / "master.cf").write_text(stock_master_cf())
    invoke(pfedit, ["-c", config, "service", "add", "submission inet n - y - - smtpd"], 0)
    invoke(pfedit, ["-c", config, "service", "set", "submission/inet",
                    "syslog_name=postfix/submission",
                    "smtpd_relay_restrictions=reject_unauth_destination"], 0)  # fmt: skip
    postfix = scratch_postfix(config_dir=config, outbound=smtp_sink.nexthop)
    assert set(postfix.ports) == {"smtp", "submission"}

    replies = {}
    for service in ("smtp", "submission"):
        client = postfix.client(service)
        client.ehlo("inside.test")
        client.mail("alice@example.org")
        replies[service] = client.rcpt("bob@example.net")
        client.quit()
    assert replies["smtp"][0] == 250  # permit_mynetworks, from main.cf
    assert replies["submission"] == (554, b"5.7.1 <bob@example.net>: Relay access denied")
    postfix.wait_for_log(r"postfix/submission/smtpd\[\d+\]: NOQUEUE: reject: RCPT from "
                         r"localhost\[127\.0\.0\.1\]: 554 5\.7\.1 <bob@example\.net>: Relay "
                         r"access denied")  # fmt: skip


def test_the_sandbox_changes_only_addresses_ports_chroot_paths_and_logging(
    sandbox: Sandbox, scratch_postfix: ScratchPostfixFactory
) -> None:
    master_cf = (CORPUS / "demo" / "master.cf").read_text() + (
        "127.0.0.1:10025 inet n  -       n       -       -       smtpd\n"
        "  -o content_filter=\n"
        "  -o { smtpd_client_restrictions = permit_mynetworks, reject }\n"
    )
    main_cf = (CORPUS / "demo" / "main.cf").read_text()
    postfix = scratch_postfix(main_cf, master_cf, start=False)
    main, master = load(postfix.config_dir / "main.cf"), load(postfix.config_dir / "master.cf")
    before_main = load(CORPUS / "demo" / "main.cf").effective()

    assert set(postfix.ports) == {"smtp", "submission", "127.0.0.1:10025"}
    changed = {k for k, v in main.effective().items() if before_main.get(k) != v}
    assert changed <= SANDBOX_PARAMETERS
    assert main.effective()["inet_interfaces"] == "127.0.0.1"
    assert main.effective()["smtpd_banner"] == before_main["smtpd_banner"]
    for old_name, port in postfix.ports.items():
        service = master.service(f"127.0.0.1:{port}", "inet")
        assert service is not None, old_name
    filter_service = master.service(f"127.0.0.1:{postfix.ports['127.0.0.1:10025']}", "inet")
    assert filter_service.overrides == {
        "content_filter": "", "smtpd_client_restrictions": "permit_mynetworks, reject",
    }  # fmt: skip
    submission = master.service(f"127.0.0.1:{postfix.ports['submission']}", "inet")
    assert submission.overrides["smtpd_client_restrictions"] == "permit_sasl_authenticated, reject"
    assert {s.chroot for s in master.services} == {"n"}
    assert master.service("postlog", "unix-dgram") is not None
    assert all("scratch Postfix" in change for change in postfix.changes)
    # where a Dovecot component will have to put its auth socket (smtpd_sasl_path)
    assert postfix.sasl_socket("submission") == postfix.queue_directory / "private" / "auth"
    # the sandbox's files are pfconf's verified edits: the comments are all still there
    original = (CORPUS / "demo" / "master.cf").read_text()
    comments = [line for line in original.splitlines() if line.startswith("#")]
    assert [line for line in master.dumps().splitlines() if line.startswith("#")] == comments


def test_a_disabled_inet_service_is_refused(
    sandbox: Sandbox, scratch_postfix: ScratchPostfixFactory
) -> None:
    with pytest.raises(HarnessError, match="master_service_disable names submission/inet"):
        scratch_postfix("master_service_disable = submission/inet\n",
                        (CORPUS / "demo" / "master.cf").read_text(), start=False)  # fmt: skip


def test_the_fake_dns_answers_from_its_records(sandbox: Sandbox, fake_dns: FakeDns) -> None:
    fake_dns.add("mx.example.test", "A", "192.0.2.25")
    fake_dns.add("example.test", "MX", "10 mx.example.test")
    fake_dns.add("example.test", "TXT", "v=spf1 -all")
    server = ("127.0.0.1", 53)
    assert lookup("MX.Example.Test.", "A", server) == (0, [bytes([192, 0, 2, 25])])
    assert lookup("example.test", "MX", server) == (
        0, [b"\x00\x0a\x02mx\x07example\x04test\x00"],
    )  # fmt: skip
    assert lookup("example.test", "TXT", server) == (0, [b"\x0bv=spf1 -all"])
    assert lookup("example.test", "A", server) == (0, [])  # the name exists: NODATA
    assert lookup("nowhere.test", "A", server) == (NXDOMAIN, [])
    assert fake_dns.asked("mx.example.test") == ["A"]


def test_the_sink_records_envelopes_and_credentials(sandbox: Sandbox) -> None:
    sink = sandbox.start(SmtpSink(credentials={"carol": "s3cret"}))
    for mechanism in ("PLAIN", "LOGIN"):
        with smtplib.SMTP("127.0.0.1", sink.port, timeout=5) as client:
            client.ehlo("client.test")
            client.user, client.password = "carol", "s3cret"
            code, _ = client.auth(mechanism, getattr(client, f"auth_{mechanism.lower()}"),
                                  initial_response_ok=mechanism == "PLAIN")  # fmt: skip
            assert code == 235
            client.sendmail("carol@example.org", ["dave@example.net", "erin@example.net"],
                            b"Subject: x\r\n\r\n.leading dot\r\n")  # fmt: skip
    with smtplib.SMTP("127.0.0.1", sink.port, timeout=5) as client:
        client.ehlo("client.test")
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.login("carol", "wrong")
    first, second = sink.wait_for_messages(2)
    assert first.auth == ("PLAIN", "carol", "s3cret")
    assert second.auth == ("LOGIN", "carol", "s3cret")
    assert first.rcpt_tos == ["dave@example.net", "erin@example.net"]
    assert first.data == b"Subject: x\r\n\r\n.leading dot\r\n"
    assert sink.auth_attempts[-1][1:] == ("carol", "wrong")


def test_the_smarthost_sink_wants_auth_over_starttls(
    sandbox: Sandbox, certificates: Certificates
) -> None:
    sink = sandbox.start(SmtpSink(credentials={"carol": "s3cret"}, certificates=certificates,
                                  require_auth=True))  # fmt: skip
    client = RecordingSMTP(Transcript("to the smarthost sink"), certificates.hostname,
                           source_address=("127.0.0.1", 0))  # fmt: skip
    client.connect("127.0.0.1", sink.port)
    client.ehlo("client.test")
    assert client.has_extn("starttls") and not client.has_extn("auth")
    assert client.docmd("AUTH", "PLAIN AGNhcm9sAHMzY3JldA==")[0] == 538  # carol, s3cret
    assert client.docmd("MAIL", "FROM:<carol@example.org>")[0] == 530
    client.starttls(context=certificates.client_context())
    client.ehlo("client.test")
    assert client.has_extn("auth") and not client.has_extn("starttls")
    assert client.docmd("MAIL", "FROM:<carol@example.org>")[0] == 530
    client.login("carol", "s3cret")
    client.sendmail("carol@example.org", ["dave@example.net"], b"Subject: x\r\n\r\nhi\r\n")
    client.quit()
    [message] = sink.wait_for_messages(1)
    assert message.tls is not None and message.tls.startswith("TLSv1.")
    assert message.auth == ("PLAIN", "carol", "s3cret")
    # the AUTH refused before TLS had carried the password in clear all the same
    assert sink.auth_in_clear == [("PLAIN", "carol", "s3cret")]
    [session] = sink.sessions
    seen = session.render()
    assert "s3cret" not in seen and "AGNhcm9s" not in seen
    assert "C: AUTH PLAIN <credentials, not shown>" in session.lines
    assert any(line.startswith("-- TLS established: TLSv1.") for line in session.lines)
    assert session.lines[-5:] == ["C: <message: 3 lines>", "C: .",
                                  "S: 250 2.0.0 Ok: queued in the sink", "C: quit",
                                  "S: 221 2.0.0 Bye"]  # fmt: skip


def test_transcripts_keep_the_exchange_and_hide_credentials(sandbox: Sandbox) -> None:
    sink = sandbox.start(SmtpSink(credentials={"carol": "s3cret"}))
    transcript = Transcript("the sink")
    client = RecordingSMTP(transcript, source_address=("127.0.0.1", 0))
    client.connect("127.0.0.1", sink.port)
    client.ehlo("client.test")
    client.user, client.password = "carol", "s3cret"
    assert client.auth("LOGIN", client.auth_login, initial_response_ok=False)[0] == 235
    assert client.docmd("AUTH", "PLAIN AGNhcm9sAHMzY3JldA==")[0] == 235
    client.sendmail("carol@example.org", ["dave@example.net"],
                    b"Subject: x\r\n\r\n" + b"".join(b"line %d\r\n" % n for n in range(9)))  # fmt: skip
    client.quit()
    text = transcript.render()
    assert "s3cret" not in text and "czNjcmV0" not in text and "AGNhcm9s" not in text
    assert "Y2Fyb2w" not in text  # "carol", as LOGIN sends it
    lines = transcript.lines
    assert lines[:2] == ["S: 220 sink.test ESMTP sink", "C: ehlo client.test"]
    assert lines[2:7] == ["S: 250-sink.test", "S: 250-PIPELINING", "S: 250-8BITMIME",
                          "S: 250-AUTH PLAIN LOGIN", "S: 250 SMTPUTF8"]  # fmt: skip
    login = lines.index("C: AUTH LOGIN")
    assert lines[login : login + 6] == [
        "C: AUTH LOGIN", "S: 334 VXNlcm5hbWU6", "C: <credentials, not shown>",
        "S: 334 UGFzc3dvcmQ6", "C: <credentials, not shown>",
        "S: 235 2.7.0 Authentication successful",
    ]  # fmt: skip
    assert "C: AUTH PLAIN <credentials, not shown>" in lines
    body = lines.index("C: Subject: x")
    assert lines[body : body + 9] == [
        "C: Subject: x", "C: ", "C: line 0", "C: line 1", "C: line 2", "C: line 3",
        "C: ... (5 more lines)", "C: .", "S: 250 2.0.0 Ok: queued in the sink",
    ]  # fmt: skip


@pytest.mark.slow
def test_dovecot_checks_passwords_for_smtpd_and_stops_cleanly(tmp_path: Path) -> None:
    """Dovecot's socket where smtpd looks, usable by smtpd's user; a good password is
    accepted and a wrong one refused; nothing but Postfix listens on TCP; leaving the
    sandbox while an smtpd still holds the auth socket kills nothing."""
    require_e2e()
    require_dovecot()
    box = Sandbox()
    with box:
        box.start(FakeDns())
        postfix = box.adopt(ScratchPostfix(box, tmp_path / "postfix", (
            "compatibility_level = 3.7\nalias_maps =\nsmtpd_sasl_auth_enable = yes\n"
            "smtpd_sasl_type = dovecot\nsmtpd_sasl_path = private/auth\n"
        )))  # fmt: skip
        postfix.prepare()
        socket_path = postfix.sasl_socket()
        dovecot = box.start(Dovecot(box, tmp_path / "dovecot", socket_path, {"carol": "s3cret"}))
        info = socket_path.stat()
        assert (info.st_uid, oct(info.st_mode & 0o777)) == (pwd.getpwnam("postfix").pw_uid,
                                                            "0o660")  # fmt: skip
        box.start(postfix)
        client = postfix.client(source=box.foreign_address)
        client.ehlo("client.test")
        assert client.esmtp_features["auth"].split() == ["PLAIN", "LOGIN"]
        assert client.docmd("AUTH", "PLAIN AGNhcm9sAHdyb25n")[0] == 535  # carol, "wrong"
        assert client.docmd("AUTH", "PLAIN AGNhcm9sAHMzY3JldA==")[0] == 235  # carol, "s3cret"
        # the client stays connected: Dovecot's auth process still serves its smtpd
    assert box.killed == []
    assert "passwd-file(carol,198.51.100.10): Password mismatch" in dovecot.log()
    assert "s3cret" not in dovecot.log() and "wrong" not in dovecot.log()
    assert (tmp_path / "dovecot" / "dovecot.conf").is_file()
    assert not dovecot.directory.exists()


@pytest.mark.slow
def test_everything_stops_even_when_the_test_fails(tmp_path: Path) -> None:
    require_e2e()
    home = os.stat("/proc/thread-self/ns/net").st_ino
    box = Sandbox()
    with pytest.raises(RuntimeError, match="the test failed"), box:
        assert os.stat("/proc/thread-self/ns/net").st_ino != home
        box.start(FakeDns())
        box.start(SmtpSink())
        postfix = box.start(ScratchPostfix(box, tmp_path / "postfix", "alias_maps =\n"))
        postfix.wait_for_log(r"daemon started")  # postlogd writes the log a moment later
        running = box.processes()
        assert any(name == "master" for _, name in running)
        instance = postfix.directory
        raise RuntimeError("the test failed")
    assert os.stat("/proc/thread-self/ns/net").st_ino == home
    assert box.killed == []  # postfix stop ended every process; nothing was left to kill
    for pid, _ in running:
        assert not os.path.exists(f"/proc/{pid}") or _is_zombie(pid)
    assert not instance.exists()
    assert "daemon started" in (tmp_path / "postfix" / "maillog").read_text()
    assert (tmp_path / "postfix" / "config" / "main.cf").is_file()


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True
