"""pfconf.postfix, the one way pfconf runs Postfix's programs: the installed version without
a main.cf, postmap with the configuration being edited, and a failure reported once."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import invoke
from oracle import require_postconf

from pfconf import postfix
from pfconf.cli.pfedit import cli as pfedit
from pfconf.cli.pflint import cli as pflint
from pfconf.kb import KnowledgeBase, version_text


def _back_date(*paths: Path) -> None:
    """Postfix rereads a file changed within the last second until it settles: date it back."""
    for path in paths:
        os.utime(path, (0, 0))


@pytest.fixture
def no_system_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Postfix as a fresh machine has it: no main.cf where Postfix looks by default.

    MAIL_CONFIG is how Postfix's programs are told their configuration directory; pointing
    it at an empty one stands in for a machine installed with "No configuration".
    """
    require_postconf()
    empty = tmp_path / "etc-postfix"
    empty.mkdir()
    monkeypatch.setenv("MAIL_CONFIG", str(empty))
    postfix.installed_version.cache_clear()
    yield empty
    postfix.installed_version.cache_clear()


def test_installed_version_needs_no_main_cf(no_system_config: Path) -> None:
    plain = subprocess.run(
        [require_postconf(), "-h", "mail_version"], capture_output=True, text=True, check=False
    )
    assert plain.returncode != 0  # what the old `postconf mail_version` did here
    version = postfix.installed_version()
    assert version.split(".")[0] == "3"


def test_pflint_auto_version_on_a_fresh_machine(no_system_config: Path, tmp_path: Path) -> None:
    (tmp_path / "main.cf").write_text("compatibility_level = 3.11\n")
    result = invoke(pflint, ["-v", "--select", "SYN", "--postfix-version", "auto", tmp_path], 0)
    assert f"judging for Postfix {postfix.installed_version()}" in result.output


def test_postmap_uses_the_edited_configuration(no_system_config: Path, tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "main.cf").write_text("default_database_type = hash\n")
    table = config / "access"
    table.write_text("example.com REJECT\n")
    _back_date(config / "main.cf", table)
    postfix.postmap(str(config), f"hash:{table}")
    assert (config / "access.db").is_file()


def test_postmap_failure_names_the_command(tmp_path: Path) -> None:
    require_postconf()
    (tmp_path / "main.cf").write_text("")
    _back_date(tmp_path / "main.cf")
    with pytest.raises(postfix.PostfixError) as info:
        postfix.postmap(str(tmp_path), f"hash:{tmp_path}/missing")
    message = str(info.value)
    assert message.startswith(f"postmap -c {tmp_path} hash:{tmp_path}/missing failed: ")
    assert "\n" not in message


def test_a_missing_program_is_reported_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without postconf, pfedit apply says once what it falls back to (and nothing about an
    empty version), and pflint --postfix-version auto fails with one line."""
    monkeypatch.setattr(postfix, "find_program", lambda name: None)
    postfix.installed_version.cache_clear()
    (tmp_path / "main.cf").write_text("smtpd_tls_cert_file = /etc/ssl/x.pem\n")
    (tmp_path / "master.cf").write_text("smtp inet n - n - - smtpd\n")
    result = invoke(pfedit, ["-c", tmp_path, "apply", "tls-hardening", "--diff"], 0)
    notes = [line for line in result.output.splitlines() if "--postfix-version auto" in line]
    newest = version_text(KnowledgeBase().newest[:2])
    assert notes == [
        ("pfedit: --postfix-version auto: postconf is not installed here (it comes with "
        f"Postfix); writing for Postfix {newest}, the newest known")
    ]
    assert "reported ''" not in result.output
    failed = invoke(pflint, ["--postfix-version", "auto", tmp_path], 2)
    assert failed.output.splitlines() == [
        ("--postfix-version auto: postconf is not installed here (it comes with Postfix); "
        "name a version like 3.9")
    ]
    postfix.installed_version.cache_clear()


def test_the_helper_finds_programs_outside_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """A user's PATH often lacks /usr/sbin, where Debian puts postconf."""
    require_postconf()
    monkeypatch.setenv("PATH", "/nonexistent")
    found = postfix.find_program("postconf")
    assert found is not None and os.access(found, os.X_OK)
