"""The seed article's main.cf (shared/seed/, read in place), linted with Postfix's stock master.cf
beside it.

The project exists so that following such an article ends well: every problem in it is
reported at its exact line, each blocklist item on its own physical line, and nothing on its
correct lines.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
from conftest import SHARED

from pfconf.lint.engine import lint
from pfconf.resources import rules_dir

SEED = SHARED / "seed" / "000_33dab53ce7119c59.txt"


def seed_main_cf() -> str:
    """The complete main.cf the article shows ("This should give you something like this")."""
    text = SEED.read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", text, re.DOTALL)
    (block,) = [b for b in blocks if "main.cf.dist" in b]
    return block


@pytest.fixture
def seed_dir(tmp_path):
    """The seed's main.cf next to Postfix's stock master.cf (the services a fresh install has)."""
    path = tmp_path / "with-master"
    path.mkdir()
    (path / "main.cf").write_text(seed_main_cf())
    (path / "master.cf").write_bytes((rules_dir() / "stock-master.cf").read_bytes())
    return path


@pytest.fixture
def seed_alone(tmp_path):
    """The seed's main.cf with no master.cf: pflint assumes the stock one and says so."""
    path = tmp_path / "alone"
    path.mkdir()
    (path / "main.cf").write_text(seed_main_cf())
    return path


# Every finding on the seed, stated directly: (line, column, code, severity) and why it is
# right.  The whole run must be exactly these, each once.
SEED_FINDINGS = [
    # Line 4, the first entry: no compatibility_level, so Postfix keeps its backwards-
    # compatible defaults and logs a warning for each one it uses.
    ((4, 1, "PAR013", "info"), "compatibility_level is not set"),
    # "reject_unknown_recipient_domain = yes" is a restriction written as a parameter: postconf
    # warns that it is unused, and the line does nothing.
    ((10, 1, "PAR002", "error"), "a restriction name used as a parameter"),
    # local(8) tries mailbox_command (line 27) before home_mailbox: Maildir/ is never used.
    ((23, 16, "PAR014", "warning"), "home_mailbox shadowed by mailbox_command"),
    # deimos.fr in mydestination and virtual_alias_domains: Postfix warns and treats it as
    # local; virtual_alias_maps still apply (to every domain), unlisted addresses go to
    # local(8) instead of being rejected.
    ((30, 25, "PAR016", "warning"), "a domain in two address classes"),
    # The client list rejects spamcop-listed clients at once, including the site's own users
    # that the recipient list would have let through with permit_mynetworks on line 37.
    ((34, 29, "RBL006", "warning"), "a blocklist checked before permit_mynetworks"),
    # reject_invalid_hostname: renamed reject_invalid_helo_hostname in Postfix 2.3.
    ((40, 33, "RLY001", "info"), "the old name of a restriction"),
    # blackhole.securitysage.com (client and sender forms) has not answered since 2007.
    ((45, 33, "RBL001", "warning"), "dead blocklist"),
    ((46, 33, "RBL001", "warning"), "dead blocklist"),
    # list.dsbl.org shut down in 2008 and was reported to answer "listed" for everything.
    ((47, 33, "RBL002", "error"), "a dead list that lists every address"),
    # cbl.abuseat.org: its data moved to the Spamhaus XBL, which sbl-xbl.spamhaus.org on
    # line 53 already queries, so the fix removes it rather than moving it.
    ((48, 33, "RBL001", "warning"), "moved blocklist"),
    # dul.dnsbl.sorbs.net: SORBS closed in 2024.
    ((49, 33, "RBL001", "warning"), "dead blocklist"),
    # multi.uribl.com lists domains from message bodies; reject_rbl_client asks for an IP.
    ((50, 33, "RBL005", "error"), "a domain list used as an IP list"),
    # dsn.rfc-ignorant.org closed in 2012, and it listed domains, not addresses.
    ((51, 33, "RBL001", "warning"), "dead blocklist"),
    ((51, 33, "RBL005", "error"), "a domain list used as an IP list"),
    # dul.dnsbl.sorbs.net again (line 49): dead, and a second query of the same list.
    ((52, 33, "RBL001", "warning"), "dead blocklist"),
    ((52, 33, "RBL003", "warning"), "the same blocklist twice"),
    # sbl-xbl.spamhaus.org still works (Spamhaus's table of zones lists it), but without a
    # result filter the 127.255.255.x refusal answers count as listings.
    ((53, 33, "RBL007", "warning"), "a Spamhaus zone without a result filter"),
    # bl.spamcop.net already asked by the client list on line 34.
    ((54, 33, "RBL003", "warning"), "the same blocklist twice"),
    # cbl.abuseat.org again (line 48).
    ((55, 33, "RBL001", "warning"), "moved blocklist"),
    ((55, 33, "RBL003", "warning"), "the same blocklist twice"),
    # ix.dnsbl.manitu.net closed in 2025; combined.rbl.msrbl.net and
    # rabl.nuclearelephant.com were discontinued long ago.
    ((56, 33, "RBL001", "warning"), "dead blocklist"),
    ((57, 33, "RBL001", "warning"), "dead blocklist"),
    ((58, 33, "RBL001", "warning"), "dead blocklist"),
    # smtp_sasl_auth_enable = yes with no smtp_sasl_password_maps: smtp(8) stops when it
    # starts (smtp_sasl_initialize), so outbound mail stays queued.
    ((64, 25, "SASL003", "error"), "client SASL without passwords stops smtp(8)"),
    # (smtp_sasl_security_options is left empty on line 66, but without a password table
    # the client never logs in: the empty value has no effect, and SASL002 is silent.)
    # broken_sasl_auth_clients only helps clients from before RFC 2554.
    ((68, 1, "SASL004", "info"), "a switch for very old clients"),
    # smtpd_sasl_application_name was renamed smtpd_sasl_path in Postfix 2.3, whose default
    # is the same "smtpd": the line has no effect.
    ((69, 1, "PAR006", "warning"), "a removed parameter"),
    # The article's headline mistake: AUTH on port 25 where TLS is optional and
    # smtpd_tls_auth_only = no, so passwords can cross the network in clear.
    ((75, 23, "SASL001", "warning"), "AUTH offered without TLS"),
    # smtp_use_tls and smtpd_use_tls: deprecated since 3.9, use the *_tls_security_level.
    ((76, 1, "PAR005", "warning"), "a deprecated parameter"),
    ((77, 1, "PAR005", "warning"), "a deprecated parameter"),
    # content_filter = amavis:...: the stock master.cf defines no amavis service, and no
    # smtpd listens on 127.0.0.1:10025 to take the filtered mail back.
    ((91, 18, "XF001", "error"), "a transport master.cf does not define"),
    ((91, 18, "XF002", "error"), "a content filter with no way back"),
]


def _found(run) -> Counter:  # type: ignore[no-untyped-def]
    return Counter((f.line, f.column, f.code, f.severity) for f in run.findings)


def test_seed_findings_are_exactly_these(seed_dir):
    run = lint([str(seed_dir / "main.cf")])
    assert _found(run) == Counter(key for key, _ in SEED_FINDINGS)
    assert all(f.path.endswith("main.cf") for f in run.findings)
    assert not any("stock master.cf" in note for note in run.notes)


def test_seed_agrees_with_postconf_on_unknown_names(seed_dir):
    """postconf's only two complaints are among pflint's findings, on the right lines."""
    from oracle import read_main

    reading = read_main((seed_dir / "main.cf").read_bytes())
    assert set(reading.raw) == {"smtpd_sasl_application_name", "reject_unknown_recipient_domain"}
    lines = {f.parameter: f.line for f in lint([str(seed_dir / "main.cf")]).findings}
    assert lines["reject_unknown_recipient_domain"] == 10
    assert lines["smtpd_sasl_application_name"] == 69


def test_seed_sasl001_is_judged_for_port_25_and_carries_a_fix(seed_dir):
    run = lint([str(seed_dir / "main.cf")])
    (finding,) = [f for f in run.findings if f.code == "SASL001"]
    assert finding.service == "smtp/inet" and finding.fix is not None


def test_seed_xf001_marks_the_transport_name(seed_dir):
    run = lint([str(seed_dir / "main.cf")])
    (finding,) = [f for f in run.findings if f.code == "XF001"]
    assert (finding.column, finding.end_column) == (18, 24)  # the word "amavis"


def test_seed_alone_assumes_the_stock_master_cf(seed_alone):
    """Without master.cf pflint assumes the stock one and says so: the same findings, minus
    the cross-file ones, which need the real master.cf."""
    alone = lint([str(seed_alone / "main.cf")])
    assert any("stock master.cf" in note for note in alone.notes)
    assert _found(alone) == Counter(
        key for key, _ in SEED_FINDINGS if not key[2].startswith("XF")
    )
