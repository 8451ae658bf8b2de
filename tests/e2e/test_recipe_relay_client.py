"""``pfedit apply relay-client`` proven on a running Postfix: Debian's default configuration
(tests/harness/recipes.py) sends its mail through a provider's relay, a smarthost sink on
127.0.0.1:587 that requires AUTH over STARTTLS and records the credentials it got.

Before the recipe the mail goes straight to the recipient domain (and, in the sandbox,
nowhere); after it, to the relay, logged in, over TLS; and when the relay stops offering
STARTTLS, Postfix keeps the mail rather than send the password in clear.  The relay's name,
relay.example.com, resolves to 127.0.0.1 in the fake DNS; relay-client's ``encrypt`` level
does not check the relay's certificate name (postconf(5) smtp_tls_security_level).

Postfix's SMTP client authenticates through the Cyrus SASL library, whose PLAIN and LOGIN
mechanisms Debian ships in libsasl2-modules (only suggested by the postfix package;
.ci/run installs it): without it Postfix logs "no mechanism available" and defers.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from conftest import invoke
from harness import FakeDns, Sandbox, SmtpSink
from harness.fixtures import MailFactory
from harness.recipes import DEBIAN, FOREIGN, SENDER, make_config, relay
from harness.smtp_client import Transcripts
from harness.tls import Certificates

from pfconf.cli.pfedit import cli as pfedit

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

RELAY_NAME = "relay.example.com"
RELAYHOST = f"[{RELAY_NAME}]:587"
RELAY_USER = "customer42"
RELAY_PASSWORD = "e2e-Relay-5d77aa"


def test_relay_client_logs_in_over_tls_and_never_in_clear(
    sandbox: Sandbox,
    tmp_path: Path,
    certificates: Certificates,
    fake_dns: FakeDns,
    mail_server: MailFactory,
    transcripts: Transcripts,
) -> None:
    fake_dns.add(RELAY_NAME, "A", "127.0.0.1")
    smarthost = sandbox.start(SmtpSink(
        port=587, hostname=RELAY_NAME, credentials={RELAY_USER: RELAY_PASSWORD},
        certificates=certificates, require_auth=True,
    ))  # fmt: skip

    # before: no relayhost; the mail goes to example.net's own server, not to the relay
    before = mail_server(make_config(DEBIAN, tmp_path / "before", certificates), sasl=False,
                         outbound=False)  # fmt: skip
    with before.session("debian, before relay-client: a message from mynetworks",
                        source="127.0.0.1") as client:  # fmt: skip
        assert relay(client)[0] == 250
    before.postfix.wait_for_log(r"to=<bob@example\.net>, relay=none, .*status=deferred "
                                r"\(connect to example\.net\[192\.0\.2\.25\]:25")  # fmt: skip
    assert smarthost.messages == [] and smarthost.auth_attempts == []

    # after: everything through the relay, logged in over TLS
    config = make_config(DEBIAN, tmp_path / "after", certificates)
    invoke(pfedit, ["-c", config, "apply", "relay-client", "--relayhost", RELAYHOST,
                    "--user", RELAY_USER], 0, env={"PFEDIT_RELAY_PASSWORD": RELAY_PASSWORD})  # fmt: skip
    table = config / "sasl_passwd"
    assert stat.S_IMODE(os.stat(table).st_mode) == 0o600
    assert table.read_text() == f"{RELAYHOST} {RELAY_USER}:{RELAY_PASSWORD}\n"
    after = mail_server(config, sasl=False, outbound=False)
    with after.session("debian, after relay-client: a message from mynetworks",
                       source="127.0.0.1") as client:  # fmt: skip
        assert relay(client)[0] == 250
    [relayed] = smarthost.wait_for_messages(1)
    assert (relayed.mail_from, relayed.rcpt_tos) == (SENDER, [FOREIGN])
    assert relayed.auth is not None and relayed.auth[1:] == (RELAY_USER, RELAY_PASSWORD)
    assert relayed.tls is not None and relayed.tls.startswith("TLSv1.")
    assert smarthost.auth_in_clear == []
    after.postfix.wait_for_log(r"to=<bob@example\.net>, relay=relay\.example\.com\[127\.0\.0\.1\]"
                               r":587, .*status=sent")  # fmt: skip
    record(transcripts, smarthost, "the relay, after relay-client")

    # the relay stops offering STARTTLS: the mail waits, the password stays home
    smarthost.stop()
    clear = sandbox.start(SmtpSink(port=587, hostname=RELAY_NAME,
                                   credentials={RELAY_USER: RELAY_PASSWORD}))  # fmt: skip
    with after.session("debian, after relay-client: a message while the relay has no TLS",
                       source="127.0.0.1") as client:  # fmt: skip
        assert relay(client)[0] == 250
    after.postfix.wait_for_log(r"to=<bob@example\.net>, relay=relay\.example\.com\[127\.0\.0\.1\]"
                               r":587, .*status=deferred \(TLS is required, but was not offered "
                               r"by host relay\.example\.com\[127\.0\.0\.1\]\)")  # fmt: skip
    assert clear.messages == [] and clear.auth_attempts == [] and clear.auth_in_clear == []
    record(transcripts, clear, "a relay without STARTTLS, after relay-client")
    for log in (before.postfix.log(), after.postfix.log()):
        assert RELAY_PASSWORD not in log


def record(transcripts: Transcripts, sink: SmtpSink, what: str) -> None:
    """The sink's sessions (what Postfix's SMTP client said to it) in the test's report."""
    for session in sink.sessions:
        session.title = f"{what}: {session.title}"
        transcripts.sessions.append(session)
