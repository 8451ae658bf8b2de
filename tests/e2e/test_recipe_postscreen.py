"""``pfedit apply postscreen`` proven on a running Postfix: Debian's default configuration
(tests/harness/recipes.py) before and after the recipe, with clients on the sandbox's
foreign network listed in the recipe's default blocklists by the fake DNS on 127.0.0.1,
which the scratch instance and its dnsblog ask.

Before: port 25 is smtpd; a client the lists name twice over is greeted by smtpd and its mail
taken (no list is asked).  After: postscreen answers first; a client whose lists weigh the
threshold (3) or more gets postscreen's own dialogue and "550 5.7.1 Service unavailable;
client [...] blocked using ZONE" at RCPT TO (postscreen/postscreen_early.c,
PSC_DNSBL_FORMAT, with the zone of the largest weight: postscreen_dnsbl.c); a client below
the threshold, one in no list, and one for which Spamhaus refuses the query
(127.255.255.254, outside the recipe's filter) pass to smtpd, which takes their mail.

Every new client waits postscreen_greet_wait (6 s: the pregreet test) before it passes or
is refused, so the clients after the recipe talk at the same time, each from an address of
its own (postscreen caches each address's results in postscreen_cache_map).
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import attrs
import pytest
from conftest import invoke
from harness.dns import FakeDns, reversed_name
from harness.fixtures import ScratchPostfixFactory
from harness.postfix import ScratchPostfix
from harness.recipes import DEBIAN, HELO, MESSAGE, SENDER, make_config
from harness.smtp_client import Transcript, Transcripts
from harness.tls import Certificates

from pfconf.cli.pfedit import cli as pfedit

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ZEN, SPAMCOP, PSBL = "zen.spamhaus.org", "bl.spamcop.net", "psbl.surriel.com"

#: client address -> (zone, answer) listings; the weights are the recipe's: 3, 2 and 1,
#: threshold 3
LISTED_TWICE = "198.51.100.21"  # SpamCop and PSBL: 2 + 1 = 3, blocked
ON_SPAMHAUS = "198.51.100.22"  # Spamhaus XBL (127.0.0.4): 3, blocked
ON_PSBL = "198.51.100.23"  # PSBL alone: 1, passes
SPAMHAUS_REFUSED = "198.51.100.24"  # Spamhaus says "query refused", not "listed": passes
UNLISTED = "198.51.100.25"  # no list: passes
GREETING_AFTER = [
    "S: 220-mail.example.com ESMTP Postfix (Debian/GNU)",
    "S: 220 mail.example.com ESMTP Postfix (Debian/GNU)",
]
LISTINGS = {
    LISTED_TWICE: [(SPAMCOP, "127.0.0.2"), (PSBL, "127.0.0.2")],
    ON_SPAMHAUS: [(ZEN, "127.0.0.4")],
    ON_PSBL: [(PSBL, "127.0.0.2")],
    SPAMHAUS_REFUSED: [(ZEN, "127.255.255.254")],
}


@attrs.frozen
class Session:
    """What one client saw: the greeting's lines, and the replies to RCPT TO and DATA
    (DATA only when the recipient was accepted)."""

    greeting: list[str]
    rcpt: tuple[int, bytes]
    data: tuple[int, bytes] | None


def send_mail(postfix: ScratchPostfix, source: str, transcript: Transcript) -> Session:
    """From ``source``, a message for Debian's local postmaster address (root)."""
    client = postfix.client(source=source, transcript=transcript)  # smtplib insists on 220
    try:
        greeting = [line for line in transcript.lines if line.startswith("S: ")]
        client.ehlo(HELO)
        code, text = client.mail(SENDER)
        assert code == 250, text
        rcpt = client.rcpt(DEBIAN.local_recipient)
        data = client.data(MESSAGE) if rcpt[0] == 250 else None
        client.quit()
    finally:
        client.close()
    return Session(greeting, rcpt, data)


def blocked(address: str, zone: str) -> bytes:
    return f"5.7.1 Service unavailable; client [{address}] blocked using {zone}".encode()


def log_address(address: str) -> str:
    return re.escape(f"[{address}]")


def test_postscreen_blocks_by_weight(
    tmp_path: Path,
    certificates: Certificates,
    scratch_postfix: ScratchPostfixFactory,
    fake_dns: FakeDns,
    transcripts: Transcripts,
) -> None:
    for domain in ("example.org", "mail.example.com"):
        fake_dns.add(domain, "A", "192.0.2.25")
    for address, listings in LISTINGS.items():
        for zone, answer in listings:
            fake_dns.list_address(zone, address, answer, reason=f"listed by the test in {zone}")
    config = make_config(DEBIAN, tmp_path / "config", certificates)

    # -- before: smtpd on port 25, no list asked -------------------------------------------------
    before = scratch_postfix(config_dir=config)
    mark = before.mark()
    session = send_mail(before, LISTED_TWICE,
                        transcripts.new("debian, before postscreen: a client in SpamCop "
                                        "and PSBL (weights 2 + 1)"))  # fmt: skip
    # one line: smtpd's greeting, at once
    assert session.greeting == ["S: 220 mail.example.com ESMTP Postfix (Debian/GNU)"]
    assert session.rcpt[0] == 250 and session.data is not None and session.data[0] == 250
    before.wait_for_log(r"postfix/smtpd\[\d+\]: connect from unknown"
                        + log_address(LISTED_TWICE), since=mark)  # fmt: skip
    assert "postscreen" not in before.log()
    for zone, _ in LISTINGS[LISTED_TWICE]:
        assert fake_dns.asked(reversed_name(LISTED_TWICE, zone)) == []
    before.stop()

    # -- the recipe -------------------------------------------------------------------------------
    invoke(pfedit, ["-c", config, "apply", "postscreen"], 0)
    assert invoke(pfedit, ["-c", config, "apply", "postscreen"], 0).output == ""

    # -- after: postscreen first, smtpd for those who pass ---------------------------------------
    after = scratch_postfix(config_dir=config)
    assert "postscreen" in after.postconf("-M", "127.0.0.1:" + str(after.port("smtp")) + "/inet")
    mark = after.mark()
    clients = {
        LISTED_TWICE: "in SpamCop and PSBL (2 + 1 = 3): blocked",
        ON_SPAMHAUS: "in Spamhaus XBL (3): blocked",
        ON_PSBL: "in PSBL alone (1): passes",
        SPAMHAUS_REFUSED: "Spamhaus refuses the query (127.255.255.254): passes",
        UNLISTED: "in no list: passes",
    }
    recorded = {a: transcripts.new(f"debian, after postscreen: a client {what}")
                for a, what in clients.items()}  # fmt: skip
    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        futures = {a: pool.submit(send_mail, after, a, recorded[a]) for a in clients}
        sessions = {a: future.result() for a, future in futures.items()}

    for address, zone in ((LISTED_TWICE, SPAMCOP), (ON_SPAMHAUS, ZEN)):
        session = sessions[address]
        # postscreen's "220-" at once, the rest after the tests: its own dialogue, where
        # the client may talk until RCPT TO
        assert session.greeting == GREETING_AFTER, session
        assert session.rcpt == (550, blocked(address, zone)), session
        assert session.data is None
        after.wait_for_log(r"postfix/postscreen\[\d+\]: NOQUEUE: reject: RCPT from "
                           + log_address(address) + r":\d+: 550 5\.7\.1 Service unavailable",
                           since=mark)  # fmt: skip
    after.wait_for_log(r"postfix/postscreen\[\d+\]: DNSBL rank 3 for "
                       + log_address(LISTED_TWICE), since=mark)  # fmt: skip
    for address in (ON_PSBL, SPAMHAUS_REFUSED, UNLISTED):
        session = sessions[address]
        # postscreen's "220-", then smtpd's "220 " once the client passed
        assert session.greeting == GREETING_AFTER, session
        assert session.rcpt[0] == 250, session
        assert session.data is not None and session.data[0] == 250, session
        after.wait_for_log(r"postfix/postscreen\[\d+\]: PASS NEW " + log_address(address),
                           since=mark)  # fmt: skip
        after.wait_for_log(r"postfix/smtpd\[\d+\]: connect from unknown" + log_address(address),
                           since=mark)  # fmt: skip
    log = after.log()[mark:]
    for address in (LISTED_TWICE, ON_SPAMHAUS):
        # refused by postscreen: smtpd never saw them
        assert not re.search(r"postfix/smtpd\[\d+\]: connect from unknown" + log_address(address),
                             log)  # fmt: skip
    # the lists were asked through dnsblog, and the unlisted client too (NXDOMAIN)
    for zone in (ZEN, SPAMCOP, PSBL):
        assert "A" in fake_dns.asked(reversed_name(UNLISTED, zone))
    assert not re.search(r"DNSBL rank \d+ for " + log_address(SPAMHAUS_REFUSED), log)
