"""The seed article's main.cf (shared/seed/, read in place), linted with Postfix's stock master.cf
beside it.

The project exists so that following such an article ends well: every problem in it is
reported at its exact line, each blocklist item on its own physical line, and nothing on its
correct lines.
"""

from __future__ import annotations

import re

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


# (line, code): what the parameter rules must report, and nothing else.
PARAMETER_FINDINGS = {
    (4, "PAR013"),  # no compatibility_level: backwards-compatible defaults
    (10, "PAR002"),  # reject_unknown_recipient_domain = yes: a restriction, not a parameter
    (23, "PAR014"),  # home_mailbox never used next to mailbox_command (line 27)
    (30, "PAR016"),  # deimos.fr in both mydestination and virtual_alias_domains
    (69, "PAR006"),  # smtpd_sasl_application_name: renamed smtpd_sasl_path in 2.3
    (76, "PAR005"),  # smtp_use_tls: deprecated, use smtp_tls_security_level
    (77, "PAR005"),  # smtpd_use_tls: deprecated, use smtpd_tls_security_level
}


def test_seed_parameter_findings(seed_dir):
    run = lint([str(seed_dir / "main.cf")])
    found = {(f.line, f.code) for f in run.findings if f.code[:3] in ("SYN", "PAR", "PFL")}
    assert found == PARAMETER_FINDINGS
    assert not any("stock master.cf" in note for note in run.notes)


def test_seed_agrees_with_postconf_on_unknown_names(seed_dir):
    """postconf's only two complaints are among pflint's findings, on the right lines."""
    from oracle import read_main

    reading = read_main((seed_dir / "main.cf").read_bytes())
    assert set(reading.raw) == {"smtpd_sasl_application_name", "reject_unknown_recipient_domain"}
    lines = {f.parameter: f.line for f in lint([str(seed_dir / "main.cf")]).findings}
    assert lines["reject_unknown_recipient_domain"] == 10
    assert lines["smtpd_sasl_application_name"] == 69


# (line, code): the DNS blocklist findings, each on the physical line of its item.
DNSBL_FINDINGS = {
    (34, "RBL006"),  # bl.spamcop.net in the client list, before the recipient list's permits
    (45, "RBL001"),  # blackhole.securitysage.com: down since 2007
    (46, "RBL001"),
    (47, "RBL002"),  # list.dsbl.org: reported to list every address
    (48, "RBL001"),  # cbl.abuseat.org: replaced by zen.spamhaus.org
    (49, "RBL001"),  # dul.dnsbl.sorbs.net: SORBS closed in 2024
    (50, "RBL005"),  # multi.uribl.com: a URI list, not an IP list
    (51, "RBL001"),  # dsn.rfc-ignorant.org: closed in 2012
    (51, "RBL005"),  # ... and a domain list
    (52, "RBL001"),
    (52, "RBL003"),  # dul.dnsbl.sorbs.net again
    (53, "RBL001"),  # sbl-xbl.spamhaus.org: replaced by zen.spamhaus.org
    (54, "RBL003"),  # bl.spamcop.net again (line 34)
    (55, "RBL001"),
    (55, "RBL003"),  # cbl.abuseat.org again
    (56, "RBL001"),  # ix.dnsbl.manitu.net: closed in 2025
    (57, "RBL001"),  # combined.rbl.msrbl.net: discontinued
    (58, "RBL001"),  # rabl.nuclearelephant.com: gone since the 2000s
}


def test_seed_dnsbl_findings(seed_dir):
    run = lint([str(seed_dir / "main.cf")])
    found = {(f.line, f.code) for f in run.findings if f.code.startswith("RBL")}
    assert found == DNSBL_FINDINGS


def test_seed_restriction_findings(seed_dir):
    run = lint([str(seed_dir / "main.cf")])
    found = {(f.line, f.code) for f in run.findings if f.code.startswith("RLY")}
    # reject_invalid_hostname: renamed reject_invalid_helo_hostname in Postfix 2.3.  The final
    # "permit" ends the list, so nothing after it is unreachable; the list has a working
    # reject_unauth_destination after the permits for mynetworks and SASL: no open relay.
    assert found == {(40, "RLY001")}


def test_seed_tls_and_sasl_findings(seed_dir):
    """The article's headline mistake: AUTH on port 25 with smtpd_tls_auth_only = no."""
    run = lint([str(seed_dir / "main.cf")])
    found = {(f.line, f.code) for f in run.findings if f.code.startswith(("TLS", "SASL"))}
    assert found == {
        (64, "SASL003"),  # smtp_sasl_auth_enable without smtp_sasl_password_maps
        (66, "SASL002"),  # smtp_sasl_security_options left empty
        (68, "SASL004"),  # broken_sasl_auth_clients, for 1990s clients
        (75, "SASL001"),  # AUTH offered on port 25 without TLS
    }
    (finding,) = [f for f in run.findings if f.code == "SASL001"]
    assert finding.service == "smtp/inet" and finding.fix is not None


CROSS_FILE_FINDINGS = {
    (91, "XF001"),  # content_filter = amavis:...: no amavis service in the stock master.cf
    (91, "XF002"),  # ... and no reinjection listener (127.0.0.1:10025) for the filtered mail
}


def test_seed_cross_file_findings(seed_dir):
    run = lint([str(seed_dir / "main.cf")])
    found = {(f.line, f.code) for f in run.findings if f.code.startswith(("XF", "MST"))}
    assert found == CROSS_FILE_FINDINGS
    xf001 = [f for f in run.findings if f.code == "XF001"]
    assert xf001[0].column == 18 and xf001[0].end_column == 24  # the word "amavis"


def test_seed_every_finding_is_expected(seed_dir):
    """Nothing else: each finding is one of the problems named above, on its line."""
    run = lint([str(seed_dir / "main.cf")])
    expected = (
        PARAMETER_FINDINGS
        | DNSBL_FINDINGS
        | {(40, "RLY001")}
        | {(64, "SASL003"), (66, "SASL002"), (68, "SASL004"), (75, "SASL001")}
        | CROSS_FILE_FINDINGS
    )
    assert {(f.line, f.code) for f in run.findings} == expected
    assert all(f.path.endswith("main.cf") for f in run.findings)


def test_seed_alone_assumes_the_stock_master_cf(seed_alone, seed_dir):
    """Without master.cf the same main.cf findings, minus what needs the real master.cf."""
    alone = lint([str(seed_alone / "main.cf")])
    assert any("stock master.cf" in note for note in alone.notes)
    beside = lint([str(seed_dir / "main.cf")])
    assert {(f.line, f.code) for f in alone.findings} == {
        (f.line, f.code) for f in beside.findings if not f.code.startswith("XF")
    }
