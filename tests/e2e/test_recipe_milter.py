"""``pfedit apply milter`` proven on a running Postfix: every message passes the filter, and
a filter that is down stops no mail.

The filter is tests/harness/milter.py: it adds ``X-Test-Milter: seen`` to each message.  The
starting point is Debian's default configuration; outbound mail goes to the SMTP sink, where
the test reads the header.  Postfix 3.7's own milter_default_action is "tempfail": with it,
a filter that does not answer defers every message (milter8.c, milter8_conn_event(); the
recipe writes "accept" instead, unless the administrator chose otherwise).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import invoke
from harness import Sandbox
from harness.fixtures import MailFactory
from harness.milter import HEADER, Milter
from harness.recipes import DEBIAN, FOREIGN, make_config, relay
from harness.tls import Certificates

from pfconf.cli.pfedit import cli as pfedit

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _header(data: bytes) -> bool:
    name, value = HEADER
    head = data.split(b"\r\n\r\n", 1)[0].replace(b"\r\n", b"\n")
    return f"{name}: {value}".encode() in head.split(b"\n")


def test_every_message_passes_the_filter_and_a_filter_that_is_down_stops_nothing(
    tmp_path: Path, sandbox: Sandbox, certificates: Certificates, mail_server: MailFactory
) -> None:
    milter = sandbox.start(Milter())
    config = make_config(DEBIAN, tmp_path / "config", certificates)

    before = mail_server(config, sasl=False)
    with before.session(
        "debian, before milter: mail from this network", source="127.0.0.1"
    ) as client:
        assert relay(client, FOREIGN)[0] == 250
    (message,) = before.sink.wait_for_messages(1)
    assert not _header(message.data)
    assert milter.seen == 0

    invoke(pfedit, ["-c", config, "apply", "milter", "--milter", milter.endpoint], 0)
    after = mail_server(config, sasl=False)
    with after.session(
        "debian, after milter: mail from this network", source="127.0.0.1"
    ) as client:
        assert relay(client, FOREIGN)[0] == 250
    # one sink for the whole test: the first message is the one sent before the recipe
    marked = after.sink.wait_for_messages(2)[-1]
    assert _header(marked.data)
    assert milter.seen == 1

    # the filter goes away: mail still flows, unfiltered, and Postfix says why
    milter.stop()
    with after.session("debian, after milter: the filter is down", source="127.0.0.1") as client:
        assert relay(client, FOREIGN)[0] == 250
    unmarked = after.sink.wait_for_messages(3)[-1]
    assert not _header(unmarked.data)
    after.postfix.wait_for_log(
        rf"warning: connect to Milter service {milter.endpoint}: Connection refused"
    )


def test_with_tempfail_a_filter_that_is_down_defers_mail(
    tmp_path: Path, sandbox: Sandbox, certificates: Certificates, mail_server: MailFactory
) -> None:
    """The choice the recipe leaves to the administrator, and why it is not the default."""
    endpoint = f"inet:127.0.0.1:{sandbox.free_port()}"  # nothing listens there
    config = make_config(DEBIAN, tmp_path / "config", certificates)
    invoke(pfedit, ["-c", config, "apply", "milter", "--milter", endpoint,
                    "--default-action", "tempfail"], 0)  # fmt: skip
    running = mail_server(config, sasl=False)
    with running.session("debian, milter with tempfail: the filter is down",
                         source="127.0.0.1") as client:  # fmt: skip
        # refused at the first command after the connection (MAIL), or at RCPT
        code, text = client.mail("alice@example.org")
        if code == 250:
            code, text = client.rcpt(FOREIGN)
    assert code == 451 and b"Service unavailable - try again later" in text, (code, text)
