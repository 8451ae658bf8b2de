"""LIVE026: tables read through proxy:, which proxymap opens as mail_owner, on files and
directories each test builds with the modes it needs."""

from __future__ import annotations

import os
import pwd
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_live_tables import Site, _at

SMTPD = "smtp      inet  n       -       n       -       -       smtpd\n"
PROXYMAP = SMTPD + "proxymap  unix  -       -       n       -       -       proxymap\n"


@pytest.fixture
def site() -> Iterator[Site]:
    from oracle import require_postconf

    require_postconf()
    try:
        pwd.getpwnam("postfix")
    except KeyError:
        if os.environ.get("CI"):
            raise
        pytest.skip("no postfix user on this host")
    # a directory every user may pass, as /etc/postfix is (pytest's tmp_path is not)
    root = Path(tempfile.mkdtemp(prefix="pflint-proxy-"))
    root.chmod(0o755)
    made = Site(root)
    made.conf.chmod(0o755)
    yield made
    shutil.rmtree(root)


def _table(site: Site, mode: int, group: str = "root") -> str:
    source = site.write("client_access", "192.0.2.1 REJECT\n")
    site.main(
        f"smtpd_client_restrictions = check_client_access proxy:hash:{source}\n"
        "proxy_read_maps = $smtpd_client_restrictions\n",
        PROXYMAP,
    )
    site.postmap(f"hash:{source}")
    os.chmod(source + ".db", mode)
    shutil.chown(source + ".db", "root", group)
    return source


def test_live026_fires_on_a_database_only_root_may_read(site):
    source = _table(site, 0o600)
    findings = site.lint("LIVE026")
    assert _at(findings) == [("LIVE026", 1, 55, "error")]
    assert findings[0].message == (
        f"hash:{source}: proxymap opens it as postfix, and {source}.db (mode 0600, "
        "root:root) does not let postfix read it: every lookup in the table fails"
    )


def test_live026_fires_on_a_directory_postfix_may_not_pass(site):
    _table(site, 0o644)
    os.chmod(site.root, 0o700)
    findings = site.lint("LIVE026")
    assert len(findings) == 1
    assert f"the directory {site.root} (mode 0700, root:root) does not let postfix pass" in (
        findings[0].message
    )


def test_live026_fires_on_a_mysql_configuration_made_private(site):
    config = site.write("mysql.cf", "hosts = 127.0.0.1\npassword = secret\n", mode=0o600)
    site.main(
        f"virtual_mailbox_maps = proxy:mysql:{config}\nproxy_read_maps = $virtual_mailbox_maps\n",
        PROXYMAP,
    )
    findings = site.lint("LIVE026")
    assert len(findings) == 1
    assert f"{config} (mode 0600, root:root) does not let postfix read it" in findings[0].message


def test_live026_fires_on_a_chrooted_proxymap_that_finds_no_table(site):
    source = site.write("client_access", "192.0.2.1 REJECT\n")
    queue = site.root / "spool"
    queue.mkdir()
    site.main(
        f"queue_directory = {queue}\n"
        f"smtpd_client_restrictions = check_client_access proxy:hash:{source}\n"
        "proxy_read_maps = $smtpd_client_restrictions\n",
        PROXYMAP.replace(
            "       n       -       -       proxymap", "       y       -       -       proxymap"
        ),
    )
    site.postmap(f"hash:{source}")
    findings = site.lint("LIVE026")
    assert len(findings) == 1
    assert f"proxymap runs chrooted and opens {queue}{source}.db, which does not exist" in (
        findings[0].message
    )


def test_live026_quiet_when_postfix_may_read_the_table(site):
    _table(site, 0o640, group="postfix")
    assert site.lint("LIVE026") == []


def test_live026_quiet_when_the_table_is_not_proxied(site):
    source = site.write("client_access", "192.0.2.1 REJECT\n")
    site.main(f"smtpd_client_restrictions = check_client_access hash:{source}\n", PROXYMAP)
    site.postmap(f"hash:{source}")
    os.chmod(source + ".db", 0o600)
    assert site.lint("LIVE026") == []


def test_live026_quiet_when_proxymap_runs_as_root(site):
    _table(site, 0o600)
    master = site.conf / "master.cf"
    master.write_text(SMTPD + "proxymap  unix  -       n       n       -       -       proxymap\n")
    site.age(str(master), 60)
    assert site.lint("LIVE026") == []
