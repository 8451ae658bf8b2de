"""``pfedit show NAMES``, ``--service`` and ``--summary``: the model's answers, checked against
postconf where postconf can say the same thing."""

from __future__ import annotations

import pytest
from conftest import ROOT, invoke, real_files
from oracle import _lines, _run, fold, require_postconf

from pfconf import postfix
from pfconf.cli.pfedit import cli as pfedit
from pfconf.kb import KnowledgeBase

#: Defaults worth comparing besides what the files set: compatibility-level expressions,
#: $name chains, and values computed from the host name.
DEFAULTS = (
    "smtpd_relay_restrictions", "relay_domains", "mynetworks_style", "smtpd_tls_security_level",
    "myorigin", "mydomain", "local_transport", "append_dot_mydomain", "smtputf8_enable",
)  # fmt: skip


def _compare(tmp_path, main: bytes, master: bytes) -> int:
    """pfedit show -x NAMES and postconf -x NAMES agree on every name main.cf sets and on
    DEFAULTS; returns how many names were compared."""
    require_postconf()
    listed = _run(["-n"], {"main.cf": main, "master.cf": master})
    if listed.returncode != 0:
        return 0
    names = sorted({line.partition(" =")[0] for line in _lines(listed.stdout.decode())}
                   | set(DEFAULTS))  # fmt: skip
    shown = _run(["-x", *names], {"main.cf": main, "master.cf": master})
    if shown.returncode != 0:
        return 0
    directory = shown.directory  # type: ignore[attr-defined]
    expected = {}
    for line in _lines(shown.stdout.decode("utf-8", "surrogateescape")):
        name, _, value = line.partition(" =")
        expected[name] = fold(value.removeprefix(" ").replace(directory, "/etc/postfix"))
    (tmp_path / "main.cf").write_bytes(main)
    (tmp_path / "master.cf").write_bytes(master)
    version = postfix.installed_version()
    result = invoke(pfedit, ["-c", tmp_path, "show", "-x", "--postfix-version", version, *names], 0)
    ours = {}
    for line in result.output.splitlines():
        name, _, value = line.partition(" =")
        ours[name] = fold(value.removeprefix(" ").replace(str(tmp_path), "/etc/postfix"))
    kb = KnowledgeBase()
    differ = {n: (ours.get(n), expected[n]) for n in expected
              if ours.get(n) != expected[n] and n != "config_directory"
              # postconf -x expands a raw parameter too; daemons (and pfedit) do not
              and not (kb.parameter(n) or {}).get("raw")}  # fmt: skip
    assert not differ
    return len(expected)


def test_names_read_as_postconf_reads_them(tmp_path):
    main = (ROOT / "corpus" / "demo" / "main.cf").read_bytes()
    master = (ROOT / "corpus" / "demo" / "master.cf").read_bytes()
    assert _compare(tmp_path, main, master) > 20


@pytest.mark.slow
def test_names_read_as_postconf_reads_them_on_real_files(tmp_path):
    compared = 0
    for number, path in enumerate(real_files("main")[::6]):
        directory = tmp_path / str(number)
        directory.mkdir()
        compared += _compare(directory, path.read_bytes(), b"")
    assert compared > 300


def test_service_values_and_origins(tmp_path):
    (tmp_path / "main.cf").write_text(
        "myhostname = mx.example.com\nsmtpd_banner = $myhostname ESMTP\n"
        "smtpd_tls_security_level = may\n"
    )
    (tmp_path / "master.cf").write_text(
        "smtp inet n - y - - smtpd\n"
        "submission inet n - y - - smtpd -o myhostname=submit.example.com\n"
        "  -o smtpd_tls_security_level=encrypt\n"
    )
    args = ["-c", tmp_path, "show", "-x", "--origin", "--postfix-version", "3.9"]
    names = ["smtpd_banner", "smtpd_tls_security_level", "smtpd_tls_auth_only", "nope_x"]
    main_view = invoke(pfedit, [*args, *names], 0).output.splitlines()
    assert main_view == [
        "smtpd_banner = mx.example.com ESMTP  # line 2 of main.cf",
        "smtpd_tls_security_level = may  # line 3 of main.cf",
        "smtpd_tls_auth_only = no  # default",
        "# nope_x: unknown to Postfix 3.9",
    ]
    service_view = invoke(pfedit, [*args, "--service", "submission/inet", *names[:2]], 0)
    assert service_view.output.splitlines() == [
        "smtpd_banner = submit.example.com ESMTP  # line 2 of main.cf",
        "smtpd_tls_security_level = encrypt  # -o on line 3 of master.cf",
    ]
    missing = invoke(pfedit, ["-c", tmp_path, "show", "--service", "smtps/inet", "x"], 2)
    assert missing.output.strip() == f"--service: {tmp_path}/master.cf has no service smtps/inet"


def test_summary(tmp_path):
    (tmp_path / "main.cf").write_text(
        "compatibility_level = 3.6\nmyhostname = mx.example.com\n"
        "smtpd_tls_chain_files = /etc/ssl/mx.pem\nsmtpd_tls_security_level = may\n"
        "smtp_tls_security_level = dane\nmynetworks = 127.0.0.0/8\n"
        "virtual_mailbox_domains = example.org\nvirtual_transport = lmtp:unix:private/dovecot\n"
    )
    (tmp_path / "master.cf").write_text(
        "smtp inet n - y - 1 postscreen\nsmtpd pass - - y - - smtpd\n"
        "submission inet n - y - - smtpd -o smtpd_tls_security_level=encrypt\n"
        "  -o smtpd_sasl_auth_enable=yes -o smtpd_client_restrictions=permit_sasl_authenticated,reject\n"
        "smtp unix - - y - - smtp\n"
    )
    out = invoke(pfedit, ["-c", tmp_path, "show", "--summary", "--postfix-version", "3.9"], 0)
    lines = out.output.splitlines()
    assert "    TLS required (smtpd_tls_security_level = encrypt)" in lines
    assert "    AUTH after tls (smtpd_tls_security_level = encrypt)" in lines
    assert "    smtpd_client_restrictions: permit_sasl_authenticated, reject" in lines
    assert "smtp client smtp/unix: TLS dane; no SASL" in lines
    assert "postscreen smtp/inet: access list (ignore), pregreet (ignore)" in lines
    assert "mynetworks: 127.0.0.0/8" in lines
    assert "virtual mailbox domains: example.org -> lmtp:unix:private/dovecot" in lines
    assert invoke(pfedit, ["-c", tmp_path, "show", "--summary", "--json"], 2)
