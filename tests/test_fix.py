"""pflint --fix: safe fixes through pfconf.edit, looped until nothing changes; --diff
previews; --unsafe-fixes adds the ones that change behaviour."""

from __future__ import annotations

import pytest
from conftest import invoke

from pfconf.cli.pflint import cli
from pfconf.lint.engine import lint
from pfconf.lint.fixer import fix_directory
from pfconf.resources import rules_dir


@pytest.fixture
def seed_dir(tmp_path):
    from test_seed import seed_main_cf

    (tmp_path / "main.cf").write_text(seed_main_cf())
    (tmp_path / "master.cf").write_bytes((rules_dir() / "stock-master.cf").read_bytes())
    return tmp_path


def codes(directory):  # type: ignore[no-untyped-def]
    return {(f.line, f.code) for f in lint([str(directory / "main.cf")]).findings}


def test_fix_the_seed(seed_dir):
    before_text = (seed_dir / "main.cf").read_text()
    # exit status 1: findings without a safe fix remain
    result = invoke(cli, ["--fix", seed_dir], 1)
    assert "fixed" in result.output
    after_text = (seed_dir / "main.cf").read_text()
    remaining = {code for _, code in codes(seed_dir)}
    for gone in ("RBL001", "RBL002", "RBL003", "RLY001", "SASL001", "SASL004", "PAR005"):
        assert gone not in remaining
    # what has no safe fix stays reported
    assert {"PAR002", "PAR016", "RBL005", "XF001"} <= remaining
    # every comment kept
    comments = [l for l in before_text.splitlines() if l.startswith("#")]
    assert comments == [l for l in after_text.splitlines() if l.startswith("#")]
    assert "smtpd_tls_auth_only = yes\n" in after_text
    assert "smtp_tls_security_level = may\n" in after_text  # smtp_use_tls = yes, renamed
    assert "smtpd_use_tls" not in after_text  # the level is set: the switch only misled
    assert "reject_invalid_helo_hostname," in after_text
    # a second run has nothing left to do
    again = fix_directory(str(seed_dir))
    assert again.applied == [] and not again.workspace.changed


def test_fix_is_checked_by_postconf(seed_dir):
    from oracle import read_main

    fix = fix_directory(str(seed_dir))
    assert fix.rounds >= 2  # the last round found nothing more to do
    data = fix.workspace.main.dumps()
    reading = read_main(data if isinstance(data, bytes) else data.encode())
    assert reading.accepted
    assert reading.values["smtpd_tls_auth_only"] == "yes"
    assert "list.dsbl.org" not in reading.values["smtpd_recipient_restrictions"]
    assert reading.values["smtpd_recipient_restrictions"].count("reject_unauth_destination") == 1


def test_diff_writes_nothing(seed_dir):
    before = (seed_dir / "main.cf").read_bytes()
    result = invoke(cli, ["--fix", "--diff", seed_dir], 0)
    assert "-smtpd_tls_auth_only = no\n" in result.output
    assert "+smtpd_tls_auth_only = yes\n" in result.output
    assert (seed_dir / "main.cf").read_bytes() == before


def test_unsafe_fixes_only_when_asked(tmp_path):
    (tmp_path / "main.cf").write_text(
        "compatibility_level = 3.11\n"
        "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destinaton\n"
    )
    invoke(cli, ["--fix", tmp_path], 1)  # RLY005 stays: its fix is unsafe
    assert "destinaton" in (tmp_path / "main.cf").read_text()
    invoke(cli, ["--fix", "--unsafe-fixes", tmp_path], 0)
    assert (tmp_path / "main.cf").read_text().endswith("reject_unauth_destination\n")


def test_duplicates_removed_keep_the_effective_value(tmp_path):
    (tmp_path / "main.cf").write_text("biff = no\nmyhostname = a\nbiff = no\n")
    invoke(cli, ["--fix", "--select", "PAR", tmp_path], 1)  # PAR013: no compatibility_level
    assert (tmp_path / "main.cf").read_text() == "myhostname = a\nbiff = no\n"


def test_a_moved_blocklist_is_moved_not_deleted(tmp_path):
    """cbl.abuseat.org's data is the Spamhaus XBL now: the fix queries XBL in its place, with
    the filter that selects that data, and the result has no RBL finding left to fix."""
    (tmp_path / "main.cf").write_text(
        "compatibility_level = 3.11\n"
        "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination,\n"
        "    reject_rbl_client cbl.abuseat.org,\n"
        "    reject_rbl_client psbl.surriel.com\n"
    )
    fix = fix_directory(str(tmp_path))
    assert [f.code for f in fix.applied] == ["RBL001"]
    assert fix.workspace.main.dumps() == (
        b"compatibility_level = 3.11\n"
        b"smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination,\n"
        b"    reject_rbl_client xbl.spamhaus.org=127.0.0.[4..7],\n"
        b"    reject_rbl_client psbl.surriel.com\n"
    )


def test_a_moved_blocklist_already_asked_for_is_removed(tmp_path):
    """With zen.spamhaus.org (which holds the XBL) in the list, the CBL query goes."""
    (tmp_path / "main.cf").write_text(
        "compatibility_level = 3.11\n"
        "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination,\n"
        "    reject_rbl_client cbl.abuseat.org,\n"
        "    reject_rbl_client zen.spamhaus.org=127.0.0.[2..11]\n"
    )
    fix = fix_directory(str(tmp_path))
    assert fix.workspace.main.dumps() == (
        b"compatibility_level = 3.11\n"
        b"smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination,\n"
        b"    reject_rbl_client zen.spamhaus.org=127.0.0.[2..11]\n"
    )


def test_a_moved_list_inside_another_is_one_finding_and_one_edit(tmp_path):
    """A CBL query next to zen is one cause: RBL001 says it moved and zen asks for its data
    already; RBL004 (part of zen) stays quiet rather than say it again; --fix removes the
    item once."""
    (tmp_path / "main.cf").write_text(
        "compatibility_level = 3.11\n"
        "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination,\n"
        "    reject_rbl_client zen.spamhaus.org=127.0.0.[2..11],\n"
        "    reject_rbl_client cbl.abuseat.org,\n"
        "    reject_rbl_client psbl.surriel.com\n"
    )
    on_item = [f for f in lint([str(tmp_path / "main.cf")]).findings if f.line == 4]
    assert [f.code for f in on_item] == ["RBL001"]
    descriptions = {f.fix.description for f in on_item if f.fix}
    assert descriptions == {"remove reject_rbl_client cbl.abuseat.org"}
    fix = fix_directory(str(tmp_path))
    assert [(f.line, f.code) for f in fix.applied] == [(4, "RBL001")]
    assert fix.workspace.main.dumps() == (
        b"compatibility_level = 3.11\n"
        b"smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination,\n"
        b"    reject_rbl_client zen.spamhaus.org=127.0.0.[2..11],\n"
        b"    reject_rbl_client psbl.surriel.com\n"
    )


def test_a_part_is_contained_only_where_the_filter_lets_its_answers_through(tmp_path):
    """zen filtered to the SBL's answers does not hold the XBL: the XBL query stays, and the
    CBL query goes because the XBL query asks for its data (before, RBL004 removed the XBL
    query as "part of zen" while RBL001 removed the CBL one as asked by the XBL query, and
    the XBL's data was lost)."""
    (tmp_path / "main.cf").write_text(
        "compatibility_level = 3.11\n"
        "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination,\n"
        "    reject_rbl_client zen.spamhaus.org=127.0.0.[2..3],\n"
        "    reject_rbl_client cbl.abuseat.org,\n"
        "    reject_rbl_client xbl.spamhaus.org=127.0.0.[4..7]\n"
    )
    fix = fix_directory(str(tmp_path))
    assert fix.workspace.main.dumps() == (
        b"compatibility_level = 3.11\n"
        b"smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination,\n"
        b"    reject_rbl_client zen.spamhaus.org=127.0.0.[2..3],\n"
        b"    reject_rbl_client xbl.spamhaus.org=127.0.0.[4..7]\n"
    )


def test_a_class_is_not_left_empty(tmp_path):
    """Removing the only item of a restriction class would stop smtpd ("restriction class
    ... needs a definition"): that fix is only described; beside another item it is made."""
    (tmp_path / "main.cf").write_text(
        "compatibility_level = 3.11\n"
        "smtpd_restriction_classes = sorbs, strict\n"
        "sorbs = reject_rbl_client dnsbl.sorbs.net\n"
        "strict = reject_unverified_sender, reject_rbl_client dnsbl.sorbs.net\n"
    )
    findings = [f for f in lint([str(tmp_path / "main.cf")]).findings if f.code == "RBL001"]
    assert [(f.line, f.fix.applies() if f.fix else None) for f in findings] == [
        (3, False),
        (4, True),
    ]
    fix = fix_directory(str(tmp_path))
    assert fix.workspace.main.dumps().endswith(
        b"sorbs = reject_rbl_client dnsbl.sorbs.net\nstrict = reject_unverified_sender\n"
    )


def test_postscreen_sites_keep_their_weight(tmp_path):
    (tmp_path / "main.cf").write_text(
        "compatibility_level = 3.11\n"
        "postscreen_dnsbl_sites = zen.spamhaus.org*3, cbl.abuseat.org*2, dnsbl.sorbs.net*1,\n"
        "    bl.spamcop.net\n"
    )
    fix = fix_directory(str(tmp_path))
    assert sorted(f.code for f in fix.applied) == ["RBL001", "RBL001", "RBL007"]
    value = fix.workspace.main.doc.get("postscreen_dnsbl_sites")
    assert value is not None
    assert value.value.replace(",", " ").split() == [
        "zen.spamhaus.org=127.0.0.[2..11]*3",
        "xbl.spamhaus.org=127.0.0.[4..7]*2",
        "bl.spamcop.net",
    ]


def test_fixing_lints_in_memory_and_writes_nothing_to_lint(seed_dir, monkeypatch):
    """Each round lints the editors' documents: no file is read or written for it."""
    import tempfile

    import pfconf.lint.engine

    def no_disk(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the fixer went to the disk to lint")

    result = fix_directory(str(seed_dir))  # the workspace reads the files it edits
    monkeypatch.setattr(pfconf.lint.engine, "_read", no_disk)
    monkeypatch.setattr(tempfile, "mkdtemp", no_disk)
    again = fix_directory(str(seed_dir))
    assert [f.code for f in again.applied] == [f.code for f in result.applied] != []
    assert again.workspace.main.text == result.workspace.main.text


def test_fixing_honours_per_file_ignores_for_the_file_it_fixes(tmp_path):
    from pfconf.lint.engine import Options

    (tmp_path / "main.cf").write_text(
        "compatibility_level = 3.11\nbroken_sasl_auth_clients = yes\n"
    )
    assert [f.code for f in fix_directory(str(tmp_path)).applied] == ["SASL004"]
    options = Options(per_file_ignores={str(tmp_path / "main.cf"): ("SASL004",)})
    assert fix_directory(str(tmp_path), options).applied == []
