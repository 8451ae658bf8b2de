"""LIVE025: the files of tables that hold passwords or private keys, on files each test
builds with the installed postmap, chmod and chown."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_live_tables import Site, _at

from pfconf.lint import Finding


@pytest.fixture
def site(tmp_path: Path) -> Site:
    from oracle import require_postconf

    require_postconf()
    return Site(tmp_path)


def _password_table(site: Site, source_mode: int, database_mode: int) -> str:
    source = site.write("sasl_passwd", "[smtp.example.net]:587 user:secret\n")
    site.main(f"smtp_sasl_password_maps = hash:{source}\n")
    site.postmap(f"hash:{source}")
    os.chmod(source, source_mode)
    os.chmod(source + ".db", database_mode)
    return source


def _lint(site: Site) -> list[Finding]:
    return site.lint("LIVE025")


def test_live025_fires_on_a_password_source_every_user_can_read(site):
    source = _password_table(site, 0o644, 0o600)
    findings = _lint(site)
    assert _at(findings) == [("LIVE025", 1, 27, "warning")]
    assert findings[0].message == (
        f"hash:{source} holds SMTP client passwords: {source} can be read by group root "
        "and every user of this host (mode 0644); chmod go-rwx"
    )


def test_live025_fires_on_a_group_readable_database(site):
    source = _password_table(site, 0o600, 0o640)
    findings = _lint(site)
    assert len(findings) == 1
    assert f"{source}.db can be read by group root (mode 0640)" in findings[0].message


@pytest.mark.skipif(os.geteuid() != 0 and not os.environ.get("CI"), reason="chown needs root")
def test_live025_fires_on_a_password_table_root_does_not_own(site):
    source = _password_table(site, 0o600, 0o600)
    os.chown(source, 65534, 65534)  # nobody
    findings = _lint(site)
    assert len(findings) == 1
    assert f"{source} is owned by nobody, not root, who can read and change it" in (
        findings[0].message
    )


def test_live025_fires_on_an_override_of_one_smtp_service(site):
    source = site.write("relay_passwd", "[smtp.example.net]:587 user:secret\n", mode=0o604)
    site.main(
        "compatibility_level = 3.7\n",
        "smtp      unix  -       -       n       -       -       smtp\n"
        "relay     unix  -       -       n       -       -       smtp\n"
        f"  -o smtp_sasl_password_maps=texthash:{source}\n",
    )
    findings = _lint(site)
    assert [(f.path.endswith("master.cf"), f.line) for f in findings] == [(True, 3)]
    assert "every user of this host (mode 0604)" in findings[0].message


def test_live025_fires_on_an_sni_database_others_can_read(site):
    source = site.write("sni", "example.com /etc/postfix/example.com.pem\n", mode=0o644)
    site.main(f"tls_server_sni_maps = hash:{source}\n")
    site.postmap(f"hash:{source}")
    os.chmod(source + ".db", 0o644)
    findings = _lint(site)
    # the source holds file names only: just the database
    assert len(findings) == 1
    assert f"holds TLS private keys: {source}.db can be read" in findings[0].message


def test_live025_quiet_on_root_only_password_files(site):
    _password_table(site, 0o600, 0o600)
    assert _lint(site) == []


def test_live025_quiet_on_a_proxied_table_its_group_can_read(site):
    # proxymap opens it as mail_owner, who needs the group permission
    source = site.write("sasl_passwd", "[smtp.example.net]:587 user:secret\n", mode=0o640)
    site.main(
        f"smtp_sasl_password_maps = proxy:hash:{source}\n"
        "proxy_read_maps = $smtp_sasl_password_maps\n"
    )
    site.postmap(f"hash:{source}")
    os.chmod(source + ".db", 0o640)
    assert _lint(site) == []


def test_live025_quiet_on_an_sni_source_that_only_names_files(site):
    source = site.write("sni", "example.com /etc/postfix/example.com.pem\n", mode=0o644)
    site.main(f"tls_server_sni_maps = hash:{source}\n")
    site.postmap(f"hash:{source}")
    os.chmod(source + ".db", 0o600)
    assert _lint(site) == []
