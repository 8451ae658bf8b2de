"""Recipes on realistic starting points, checked with postconf -n and -P, for idempotence,
kept comments and untouched lines, and with pflint afterwards."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest
from conftest import CORPUS, invoke

from pfconf import loads, postfix
from pfconf.cli.pfedit import cli
from pfconf.edit.recipes import builtin_recipes, load_recipe
from pfconf.lint.engine import lint

DEBIAN_SHARE = Path("/usr/share/postfix")


def _seed_main() -> str:
    from test_seed import seed_main_cf

    return seed_main_cf()


def _debian_fresh_main() -> str:
    """What Debian's postinst writes: main.cf.debian, main.cf.tls, then its postconf -e lines."""
    text = (DEBIAN_SHARE / "main.cf.debian").read_text() + (DEBIAN_SHARE / "main.cf.tls").read_text()
    return text + (
        "smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated defer_unauth_destination\n"
        "myhostname = mail.example.com\nalias_maps = hash:/etc/aliases\n"
        "alias_database = hash:/etc/aliases\nmydestination = $myhostname, localhost\n"
        "relayhost = \nmynetworks = 127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128\n"
        "mailbox_size_limit = 0\nrecipient_delimiter = +\ninet_interfaces = all\n"
        "inet_protocols = all\n"
    )


def _stock_master() -> str:
    return (DEBIAN_SHARE / "master.cf.dist").read_text()


STARTS = {
    "seed+stock": (_seed_main, _stock_master),
    "debian-fresh": (_debian_fresh_main, _stock_master),
    "corpus-debian": (
        lambda: (CORPUS / "main" / "debian-default.cf").read_text(),
        lambda: (CORPUS / "master" / "debian-default.cf").read_text(),
    ),
    "corpus-rhel": (lambda: (CORPUS / "main" / "rhel-default.cf").read_text(), _stock_master),
    "minimal": (lambda: "# a host name and nothing else\nmyhostname = mail.example.com\n", _stock_master),
    "corpus-full-server": (
        lambda: (CORPUS / "main" / "full-server-dovecot-rspamd.cf").read_text(),
        lambda: (CORPUS / "master" / "debian-default.cf").read_text(),
    ),
}


@pytest.fixture
def postconf():
    from oracle import require_postconf

    return require_postconf()


def _setup(tmp_path: Path, start: str) -> Path:
    main, master = STARTS[start]
    (tmp_path / "main.cf").write_text(main())
    (tmp_path / "master.cf").write_text(master())
    return tmp_path


def _postconf_text(directory: Path, *args: str) -> str:
    for name in ("main.cf", "master.cf"):
        os.utime(directory / name, (0, 0))  # postconf trusts files older than a second
    proc = postfix.run("postconf", args, config_dir=str(directory))
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.decode()


def _postconf(postconf: str, directory: Path, *args: str) -> dict[str, str]:
    out = _postconf_text(directory, *args)
    result = {}
    for line in out.splitlines():
        name, _, value = line.partition(" =")
        result[name] = value.strip()
    return result


def _pfedit(directory: Path, *args: str, expect: int = 0):  # type: ignore[no-untyped-def]
    """pfedit -c directory ARGS..., insisting on the exit status (0 unless told)."""
    return invoke(cli, ["-c", directory, *args], expect)


def _subsequence(small: list[str], big: list[str]) -> bool:
    it = iter(big)
    return all(line in it for line in small)


@pytest.mark.parametrize("start", sorted(STARTS))
def test_sasl_tls(tmp_path, start, postconf):
    if not (DEBIAN_SHARE / "master.cf.dist").exists():
        pytest.fail("Postfix's shared files are missing: .ci/run installs postfix")
    directory = _setup(tmp_path, start)
    before_main = (directory / "main.cf").read_text()
    args = ["apply", "sasl-tls", "--postfix-version", "3.7"]
    if start == "minimal":  # no certificate configured yet
        args += ["--cert", "/etc/ssl/mail.pem", "--key", "/etc/ssl/mail.key"]

    _pfedit(directory, *args, "--check", expect=1)
    result = _pfedit(directory, *args)
    _pfedit(directory, *args, "--check")  # idempotent
    second = _pfedit(directory, *args)
    assert second.output == ""

    values = _postconf(postconf, directory, "-n")
    assert values["smtpd_tls_security_level"] == "may"
    assert values["smtpd_tls_auth_only"] == "yes"
    assert values["smtp_tls_security_level"] == "may"
    assert values["smtpd_sasl_type"] == "dovecot"
    assert values["smtpd_sasl_path"] == "private/auth"
    assert values["smtpd_tls_mandatory_protocols"] in (">=TLSv1.2",)
    for obsolete in ("smtpd_use_tls", "smtp_use_tls", "smtpd_enforce_tls", "smtpd_sasl_application_name"):
        assert obsolete not in values
    assert values.get("smtpd_tls_cert_file") or values.get("smtpd_tls_chain_files")

    overrides = _postconf(postconf, directory, "-P")
    assert overrides["submission/inet/smtpd_tls_security_level"] == "encrypt"
    assert overrides["submission/inet/smtpd_sasl_auth_enable"] == "yes"
    assert overrides["submission/inet/smtpd_client_restrictions"] == "permit_sasl_authenticated,reject"
    port465 = "submissions" if "submissions/inet/smtpd_tls_wrappermode" in overrides else "smtps"
    assert overrides[f"{port465}/inet/smtpd_tls_wrappermode"] == "yes"
    services = _postconf_text(directory, "-M")
    assert len(re.findall(r"^submission\s+inet", services, re.MULTILINE)) == 1

    after_main = (directory / "main.cf").read_text()
    comments = [l for l in before_main.splitlines() if l.lstrip().startswith("#")]
    assert _subsequence(comments, after_main.splitlines())  # every comment kept, in order
    # every line of an entry the recipe did not touch is byte-identical, in order
    touched = set(re.findall(r"^main\.cf: ([A-Za-z0-9_.-]+)", result.output, re.MULTILINE))
    untouched = [
        line
        for entry in loads(before_main).entries
        if entry.name not in touched
        for line in entry.node.dump().splitlines()
    ]
    assert _subsequence(untouched, after_main.splitlines())

    run = lint([str(directory / "main.cf")])
    errors = [f for f in run.findings if f.code.startswith(("TLS", "SASL")) and f.severity == "error"]
    assert errors == []


def test_sasl_tls_refuses_without_a_certificate(tmp_path):
    directory = _setup(tmp_path, "minimal")
    before = (directory / "main.cf").read_bytes()
    result = _pfedit(directory, "apply", "sasl-tls", "--postfix-version", "3.7", expect=2)
    assert "no TLS certificate" in result.output
    assert (directory / "main.cf").read_bytes() == before


def test_sasl_tls_with_cyrus_writes_smtpd_conf(tmp_path, postconf):
    directory = _setup(tmp_path, "debian-fresh")
    (directory / "sasl").mkdir()
    _pfedit(directory, "apply", "sasl-tls", "--sasl", "cyrus", "--postfix-version", "3.7")
    assert "saslauthd" in (directory / "sasl" / "smtpd.conf").read_text()
    values = _postconf(postconf, directory, "-n")
    assert values["smtpd_sasl_type"] == "cyrus" and values["smtpd_sasl_path"] == "smtpd"


def test_protocol_syntax_follows_the_target_version(tmp_path, postconf):
    directory = _setup(tmp_path, "debian-fresh")
    _pfedit(directory, "apply", "tls-hardening", "--postfix-version", "3.5")
    values = _postconf(postconf, directory, "-n")
    assert values["smtpd_tls_mandatory_protocols"] == "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1"
    other = tmp_path / "new"
    other.mkdir()
    _setup(other, "debian-fresh")
    _pfedit(other, "apply", "tls-hardening", "--postfix-version", "3.9")
    assert _postconf(postconf, other, "-n")["smtpd_tls_mandatory_protocols"] == ">=TLSv1.2"


def test_stricter_protocols_are_kept(tmp_path, postconf):
    directory = _setup(tmp_path, "corpus-full-server")
    before = _postconf(postconf, directory, "-n")
    assert before["smtpd_tls_protocols"] == ">=TLSv1.2"  # stricter than the recipe's floor
    result = _pfedit(directory, "apply", "tls-hardening", "--postfix-version", "3.9")
    assert result.output  # the recipe did change other settings...
    after = _postconf(postconf, directory, "-n")
    assert after["smtpd_tls_protocols"] == ">=TLSv1.2"  # ...but not this one
    assert after != before
    text = (directory / "main.cf").read_text()
    assert len(re.findall(r"^smtpd_tls_protocols\s*=", text, re.MULTILINE)) == 1
    assert "smtpd_tls_protocols" not in result.output


def test_relay_client_hides_the_password(tmp_path, postconf):
    directory = _setup(tmp_path, "debian-fresh")
    secret = tmp_path / "pw"
    secret.write_text("s3cr3t-Pa55\n")
    args = [
        "apply", "relay-client", "--relayhost", "[smtp.example.net]:587", "--user", "me@example.net",
        "--password-file", str(secret),
    ]  # fmt: skip
    diff = _pfedit(directory, *args, "--diff")
    assert "s3cr3t" not in diff.output and "secret content not shown" in diff.output
    result = _pfedit(directory, *args)
    assert "s3cr3t" not in result.output
    assert f"ran postmap -c {directory} hash:{directory}/sasl_passwd" in result.output
    table = directory / "sasl_passwd"
    assert table.read_text() == "[smtp.example.net]:587 me@example.net:s3cr3t-Pa55\n"
    assert stat.S_IMODE(table.stat().st_mode) == 0o600
    assert (directory / "sasl_passwd.db").exists()  # built by postmap -c DIR hash:...
    values = _postconf(postconf, directory, "-n")
    assert values["relayhost"] == "[smtp.example.net]:587"
    assert values["smtp_tls_security_level"] == "encrypt"
    assert values["smtp_sasl_password_maps"] == f"hash:{directory}/sasl_passwd"
    _pfedit(directory, *args, "--check")
    run = lint([str(directory / "main.cf")])
    assert not [f for f in run.findings if f.code in ("TLS005", "SASL002", "SASL003")]


def test_submission_only(tmp_path, postconf):
    directory = _setup(tmp_path, "seed+stock")
    _pfedit(directory, "apply", "sasl-tls", "--postfix-version", "3.7")
    _pfedit(directory, "apply", "submission-only", "--postfix-version", "3.7")
    assert "smtpd_sasl_auth_enable" not in _postconf(postconf, directory, "-n")
    overrides = _postconf(postconf, directory, "-P")
    assert overrides["submission/inet/smtpd_sasl_auth_enable"] == "yes"
    _pfedit(directory, "apply", "submission-only", "--postfix-version", "3.7", "--check")


def test_every_builtin_recipe_loads():
    assert set(builtin_recipes()) >= {"sasl-tls", "relay-client", "submission-only", "tls-hardening"}
    for name in builtin_recipes():
        recipe = load_recipe(name)
        assert recipe.summary and recipe.steps


def test_user_recipe_file(tmp_path):
    directory = _setup(tmp_path, "debian-fresh")
    recipe = tmp_path / "mine.toml"
    recipe.write_text(
        '[recipe]\nname = "mine"\nsummary = "x"\n[[steps]]\naction = "set"\n'
        'name = "disable_vrfy_command"\nvalue = "yes"\nreason = "no address probing"\n'
    )
    result = _pfedit(directory, "apply", "--recipe-file", str(recipe), "--postfix-version", "3.7")
    assert "no address probing" in result.output
    bad = tmp_path / "bad.toml"
    bad.write_text('[recipe]\nsummary = "x"\n[[steps]]\naction = "explode"\n')
    broken = _pfedit(directory, "apply", "--recipe-file", str(bad), expect=2)
    assert "unknown action" in broken.output


@pytest.mark.parametrize(
    "client, kept",
    [
        ("smtp_sasl_auth_enable = yes\n", False),
        # a table named through $name counts: the recipe asks the model, not the text
        ("smtp_sasl_auth_enable = yes\nmy_table = hash:/etc/postfix/sasl_passwd\n"
         + "smtp_sasl_password_maps = $my_table\n", True),
        ("smtp_sasl_auth_enable = no\n", True),
    ],
)  # fmt: skip
def test_sasl_tls_switches_off_client_sasl_without_passwords(tmp_path, client, kept):
    """smtp(8) with SASL on and no password table stops at start: the recipe switches the
    client's SASL off, unless a table (however written) is there for it to use."""
    (tmp_path / "main.cf").write_text(
        "smtpd_tls_cert_file = /etc/ssl/mail.pem\nsmtpd_tls_key_file = /etc/ssl/mail.key\n"
        + client
    )
    (tmp_path / "master.cf").write_text(_stock_master())
    _pfedit(tmp_path, "apply", "sasl-tls", "--postfix-version", "3.7")
    text = (tmp_path / "main.cf").read_text()
    assert ("smtp_sasl_auth_enable" in text) == kept
