"""LIVE027: the /file/name items of match lists, on files each test writes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_live_tables import Site, _at

SMTPD = "smtp      inet  n       -       n       -       -       smtpd\n"


@pytest.fixture
def site(tmp_path: Path) -> Site:
    from oracle import require_postconf

    require_postconf()
    return Site(tmp_path)


def test_live027_fires_on_a_missing_list_file(site):
    missing = site.path("networks")
    site.main(f"mynetworks = 127.0.0.0/8, {missing}\n", SMTPD)
    findings = site.lint("LIVE027")
    # mynetworks is also the default of other lists: one finding, at the item
    assert _at(findings) == [("LIVE027", 1, 27, "error")]
    assert findings[0].end_column == 27 + len(missing)
    assert findings[0].message == (
        f"mynetworks: the list file {missing} does not exist: every match against "
        "mynetworks fails with a lookup error"
    )


def test_live027_fires_on_a_file_named_inside_a_list_file(site):
    inner = site.path("more-networks")
    outer = site.write("networks", f"# trusted\n192.0.2.0/24\n!{inner} # not here\n")
    site.main(f"mynetworks = {outer}\n", SMTPD)
    findings = site.lint("LIVE027")
    assert len(findings) == 1
    assert f"the list file {inner} (named in {outer}, line 3) does not exist" in (
        findings[0].message
    )


def test_live027_fires_on_a_directory_in_an_override(site):
    os.mkdir(site.path("domains"))
    site.main(
        "compatibility_level = 3.7\n",
        SMTPD
        + "relay     unix  -       -       n       -       -       smtp\n"
        + f"  -o debug_peer_list={site.path('domains')}\n",
    )
    findings = site.lint("LIVE027")
    assert [(f.path.endswith("master.cf"), f.line) for f in findings] == [(True, 3)]
    assert "is a directory, not a regular file" in findings[0].message


def test_live027_quiet_on_list_files_that_exist(site):
    inner = site.write("more-networks", "198.51.100.0/24\n")
    outer = site.write("networks", f"192.0.2.0/24, {inner}\n# {site.path('commented')}\n")
    site.main(f"mynetworks = 127.0.0.0/8 {outer}\nrelay_domains = {outer}\n", SMTPD)
    assert site.lint("LIVE027") == []


def test_live027_quiet_after_a_comment_word(site):
    # Postfix stops reading a line at a word that starts with '#'
    outer = site.write("networks", f"192.0.2.0/24 #old {site.path('gone')}\n")
    site.main(f"mynetworks = {outer}\n", SMTPD)
    assert site.lint("LIVE027") == []
