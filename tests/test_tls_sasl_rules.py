"""What the TLS and SASL rules say, beyond where they point (the corpus cases pin that): each
message tells what the running Postfix does (issue #11, item 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pfconf.lint import lint
from pfconf.lint.finding import Finding


def _findings(tmp_path: Path, code: str, main: str, master: str | None = None) -> list[Finding]:
    paths = [tmp_path / "main.cf"]
    paths[0].write_text(main)
    if master is not None:
        paths.append(tmp_path / "master.cf")
        paths[1].write_text(master)
    return [f for f in lint([str(p) for p in paths]).findings if f.code == code]


def test_tls003_says_starttls_is_announced_and_answered_with_454(tmp_path):
    """smtpd.c: STARTTLS follows the level (EHLO), starttls_cmd() answers 454 without a TLS
    context; proved by corpus/rules/TLS003/fire/runtime.toml."""
    (finding,) = _findings(tmp_path, "TLS003", "smtpd_tls_security_level = may\n")
    assert finding.severity == "warning"
    assert "announces STARTTLS" in finding.message
    assert "454 4.7.0 TLS not available due to local problem" in finding.message
    assert "will not offer" not in finding.message


def test_tls003_with_tls_required_no_client_can_send(tmp_path):
    (finding,) = _findings(tmp_path, "TLS003", "smtpd_tls_security_level = encrypt\n")
    assert finding.severity == "error"
    assert "530 5.7.0 Must issue a STARTTLS command first" in finding.message
    assert "no client can send mail" in finding.message


def test_tls003_in_wrapper_mode_every_connection_is_dropped(tmp_path):
    master = "smtps inet n - n - - smtpd\n  -o smtpd_tls_wrappermode=yes\n"
    (finding,) = _findings(tmp_path, "TLS003", "compatibility_level = 3.6\n", master)
    assert finding.severity == "error" and finding.path.endswith("master.cf")
    assert "drops every connection" in finding.message


SASL_CLIENT = (
    "smtp_sasl_auth_enable = yes\nsmtp_sasl_password_maps = hash:/etc/postfix/sasl_passwd\n"
    "smtp_sasl_security_options =\n"
)


@pytest.mark.parametrize(
    "extra, says",
    [
        # every session has TLS: only the anonymous part holds
        ("smtp_tls_security_level = encrypt\n", ["ANONYMOUS"]),
        # plain-text sessions happen: PLAIN or LOGIN may cross in clear too
        ("smtp_tls_security_level = may\n", ["ANONYMOUS", "PLAIN or LOGIN without TLS"]),
        # the filter is in a table: it may keep ANONYMOUS out
        ("smtp_tls_security_level = encrypt\nsmtp_sasl_mechanism_filter = hash:/m\n",
         ["ANONYMOUS", "unless the table in smtp_sasl_mechanism_filter leaves it out"]),
        # the filter keeps only PLAIN and LOGIN: no anonymous login, nothing to say
        ("smtp_tls_security_level = encrypt\nsmtp_sasl_mechanism_filter = plain, login\n", []),
    ],
)  # fmt: skip
def test_sasl002_says_what_the_mechanism_filter_leaves(tmp_path, extra, says):
    """smtp_sasl_mechanism_filter limits the mechanisms the client uses to those the server
    offers and the filter keeps (smtp_sasl_proto.c, sasl_mech_filter())."""
    found = _findings(tmp_path, "SASL002", SASL_CLIENT + extra)
    if not says:
        assert found == []
        return
    (finding,) = found
    for text in says:
        assert text in finding.message
    if "PLAIN or LOGIN without TLS" not in says:
        assert "PLAIN" not in finding.message


def test_tls005_with_a_policy_table_says_it_depends_on_it(tmp_path):
    main = (
        "relayhost = [smtp.example.net]:587\nsmtp_sasl_auth_enable = yes\n"
        "smtp_sasl_password_maps = hash:/p\nsmtp_sasl_security_options = noanonymous\n"
        "smtp_tls_security_level = may\nsmtp_tls_policy_maps = hash:/etc/postfix/tls_policy\n"
    )
    (finding,) = _findings(tmp_path, "TLS005", main)
    assert finding.severity == "info"
    assert "unless smtp_tls_policy_maps (hash:/etc/postfix/tls_policy) requires TLS" in (
        finding.message
    )


def test_sasl001_fix_is_safe_only_where_it_breaks_no_login(tmp_path):
    """smtpd_tls_auth_only = yes in main.cf also reaches a service with AUTH and no TLS,
    where it would switch AUTH off (smtpd.c, smtpd_proto()): there the fix is unsafe."""
    from pfconf.lint.finding import Applicability

    main = (
        "smtpd_sasl_auth_enable = yes\nsmtpd_tls_security_level = may\n"
        "smtpd_tls_chain_files = /etc/ssl/private/mail.pem\n"
    )
    master = "smtp inet n - n - - smtpd\n"
    (finding,) = _findings(tmp_path, "SASL001", main, master)
    assert finding.fix is not None and finding.fix.applicability is Applicability.SAFE
    master += "127.0.0.1:2525 inet n - n - - smtpd\n  -o smtpd_tls_security_level=none\n"
    found = {f.message.split()[0]: f for f in _findings(tmp_path, "SASL001", main, master)}
    fix = found["smtp/inet"].fix
    assert fix is not None and fix.applicability is Applicability.UNSAFE
    assert "127.0.0.1:2525/inet" in fix.description
    assert found["127.0.0.1:2525/inet"].fix is None  # no TLS there: TLS first
