"""The milter recipe read back with postconf: the filter is added after any already there,
once, for network and local mail; a filter that is down lets mail through unless the
administrator chose otherwise.  tests/e2e/test_recipe_milter.py runs it with a real filter."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_recipes import _pfedit, _postconf, _setup

OPENDKIM = "inet:127.0.0.1:8891"
RSPAMD = "inet:127.0.0.1:11332"


@pytest.fixture
def postconf() -> str:
    from oracle import require_postconf

    return str(require_postconf())


def _apply(directory: Path, *args: str, status: int = 0) -> str:
    return str(_pfedit(directory, "apply", "milter", "--postfix-version", "3.7", *args,
                       expect=status).output)  # fmt: skip


def _append(directory: Path, text: str) -> None:
    with open(directory / "main.cf", "a") as handle:
        handle.write(text)


def test_a_first_milter(tmp_path: Path, postconf: str) -> None:
    directory = _setup(tmp_path, "debian-fresh")
    _apply(directory, "--milter", OPENDKIM)
    values = _postconf(postconf, directory, "-n")
    assert values["smtpd_milters"] == OPENDKIM
    assert values["non_smtpd_milters"] == OPENDKIM
    assert values["milter_default_action"] == "accept"
    before = (directory / "main.cf").read_bytes()
    _apply(directory, "--milter", OPENDKIM)
    assert (directory / "main.cf").read_bytes() == before
    _apply(directory, "--milter", OPENDKIM, "--check")


def test_a_second_milter_goes_after_the_first(tmp_path: Path, postconf: str) -> None:
    directory = _setup(tmp_path, "debian-fresh")
    _append(directory, f"smtpd_milters = {OPENDKIM}\nmilter_default_action = tempfail\n")
    _apply(directory, "--milter", RSPAMD)
    values = _postconf(postconf, directory, "-n")
    assert values["smtpd_milters"].replace(",", " ").split() == [OPENDKIM, RSPAMD]
    assert values["non_smtpd_milters"] == RSPAMD
    # the administrator's choice stays
    assert values["milter_default_action"] == "tempfail"


def test_a_list_that_names_the_milter_through_a_parameter(tmp_path: Path, postconf: str) -> None:
    """``non_smtpd_milters = $smtpd_milters`` (rspamd's guide) already yields the new
    filter once it is in smtpd_milters: adding it again would run it twice."""
    directory = _setup(tmp_path, "debian-fresh")
    _append(directory, "non_smtpd_milters = $smtpd_milters\n")
    _apply(directory, "--milter", RSPAMD)
    values = _postconf(postconf, directory, "-n")
    assert values["non_smtpd_milters"] == "$smtpd_milters"
    assert _postconf(postconf, directory, "-x", "non_smtpd_milters")["non_smtpd_milters"] == RSPAMD


def test_the_default_action_asked_for(tmp_path: Path, postconf: str) -> None:
    directory = _setup(tmp_path, "debian-fresh")
    _append(directory, "milter_default_action = accept\n")
    _apply(directory, "--milter", OPENDKIM, "--default-action", "tempfail")
    assert _postconf(postconf, directory, "-n")["milter_default_action"] == "tempfail"


def test_an_unknown_action_is_a_usage_error(tmp_path: Path) -> None:
    directory = _setup(tmp_path, "debian-fresh")
    before = (directory / "main.cf").read_bytes()
    _apply(directory, "--milter", OPENDKIM, "--default-action", "ignore", status=2)
    assert (directory / "main.cf").read_bytes() == before
