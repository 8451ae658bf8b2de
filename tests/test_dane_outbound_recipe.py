"""The dane-outbound recipe, read back with postconf (DNSSEC cannot be reached from here, so
no end-to-end test): DANE where it adds security, and nothing weakened or turned back on."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_recipes import _pfedit, _postconf, _setup


@pytest.fixture
def postconf() -> str:
    from oracle import require_postconf

    return str(require_postconf())


def _apply(directory: Path, version: str = "3.7", status: int = 0) -> str:
    return str(_pfedit(directory, "apply", "dane-outbound", "--postfix-version", version,
                       expect=status).output)  # fmt: skip


@pytest.mark.parametrize("start", ["seed+stock", "debian-fresh", "minimal"])
def test_dane_on_opportunistic_starts(tmp_path: Path, postconf: str, start: str) -> None:
    directory = _setup(tmp_path, start)
    _apply(directory)
    values = _postconf(postconf, directory, "-n")
    assert values["smtp_dns_support_level"] == "dnssec"
    assert values["smtp_tls_security_level"] == "dane"
    # a second run changes nothing, and --check agrees
    before = (directory / "main.cf").read_bytes()
    _apply(directory)
    assert (directory / "main.cf").read_bytes() == before
    _pfedit(directory, "apply", "dane-outbound", "--postfix-version", "3.7", "--check")


@pytest.mark.parametrize(
    "setting",
    [
        "smtp_tls_security_level = encrypt",  # relay-client's mandatory TLS to the relay
        "smtp_tls_security_level = dane-only",
        "smtp_tls_security_level = none",  # chosen by the administrator: not ours to change
        "smtp_enforce_tls = yes",  # legacy mandatory TLS, in force while the level is empty
    ],
)
def test_a_stricter_or_chosen_client_level_is_kept(
    tmp_path: Path, postconf: str, setting: str
) -> None:
    directory = _setup(tmp_path, "minimal")
    with open(directory / "main.cf", "a") as handle:
        handle.write(setting + "\n")
    _apply(directory)
    values = _postconf(postconf, directory, "-n")
    name, _, value = setting.partition(" = ")
    assert values[name] == value
    assert values.get("smtp_tls_security_level", "") != "dane"


@pytest.mark.parametrize(
    "setting", ["disable_dns_lookups = yes", "smtp_dns_support_level = disabled"]
)
def test_dns_turned_off_stays_off(tmp_path: Path, postconf: str, setting: str) -> None:
    """dnssec would turn DNS back on (a non-empty level makes Postfix ignore
    disable_dns_lookups), and dane without DNSSEC is only "may": both are left alone."""
    directory = _setup(tmp_path, "minimal")
    with open(directory / "main.cf", "a") as handle:
        handle.write(setting + "\n")
    before = (directory / "main.cf").read_bytes()
    _apply(directory)
    assert (directory / "main.cf").read_bytes() == before


def test_before_2_11_nothing_changes(tmp_path: Path, postconf: str) -> None:
    directory = _setup(tmp_path, "minimal")
    before = (directory / "main.cf").read_bytes()
    _apply(directory, version="2.10")
    assert (directory / "main.cf").read_bytes() == before
