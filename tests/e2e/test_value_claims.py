"""The value rules' claims (PAR011, PAR018-PAR028) checked against a running Postfix.

Each case lints a main.cf with pflint, then runs it in a scratch Postfix and finds what
pflint said would happen: smtpd stopping at its first client, or ``postfix start`` itself
refusing.  The expected texts are Postfix 3.7's own (global/mail_conf_*.c, mail_params.c,
util/name_mask.c, match_list.c, mac_parse.c, smtpd/smtpd_check.c, milter/milter.c).
"""

from __future__ import annotations

import smtplib
from pathlib import Path

import pytest
from conftest import invoke
from harness import PostfixStartError, Sandbox
from harness.fixtures import ScratchPostfixFactory
from harness.postfix import stock_master_cf

from pfconf.cli.pflint import cli as pflint

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

BASE = {
    "compatibility_level": "3.7",
    "myhostname": "mail.example.com",
    "mynetworks": "127.0.0.0/8",
    "alias_maps": "",
}


def main_cf(setting: str) -> str:
    """The base settings with ``setting`` (``name = value`` lines) in place of the base's."""
    values = dict(BASE)
    for line in setting.splitlines():
        name, _, value = line.partition("=")
        values[name.strip()] = value.strip()
    return "".join(f"{name} = {value}\n".replace(" = \n", " =\n") for name, value in values.items())


def lint(tmp_path: Path, text: str, code: str) -> str:
    """pflint's report on ``text`` beside the stock master.cf (exit status 1: findings)."""
    config = tmp_path / "linted"
    config.mkdir()
    (config / "main.cf").write_text(text)
    (config / "master.cf").write_text(stock_master_cf())
    return str(invoke(pflint, ["--select", code, config], 1).output)


SMTPD_STOPS = [
    ("smtpd_recipient_limit = 0", "PAR018",
     "fatal: invalid smtpd_recipient_limit parameter value 0 < 1"),
    ("smtpd_banner =", "PAR019", "fatal: bad string length 0 < 1: smtpd_banner = "),
    ("unknown_address_tempfail_action = reject", "PAR011",
     "fatal: bad configuration: unknown_address_tempfail_action = reject"),
    ("notify_classes = resource, sofware", "PAR028",
     'fatal: unknown notify_classes value "sofware" in "resource, sofware"'),
    ("smtpd_milters = { inet:127.0.0.1:8891, connect_timeout = 10s", "PAR026",
     ("fatal: milter service syntax error: missing '}' in "
     '"{ inet:127.0.0.1:8891, connect_timeout = 10s"')),
    # smtpd_client_event_limit_exceptions (default $mynetworks) is the first list parsed
    ("mynetworks = 127.0.0.0/8, ! 192.168.1.0/24", "PAR027",
     "fatal: smtpd_client_event_limit_exceptions: no pattern after '!'"),
]  # fmt: skip


@pytest.mark.parametrize(("setting", "code", "fatal"), SMTPD_STOPS, ids=[c[1] for c in SMTPD_STOPS])
def test_smtpd_stops_at_its_first_client(
    tmp_path: Path, scratch_postfix: ScratchPostfixFactory, setting: str, code: str, fatal: str
) -> None:
    text = main_cf(setting)
    assert f" {code} error " in lint(tmp_path, text, code)

    postfix = scratch_postfix(text)
    client = smtplib.SMTP(timeout=2)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        client.connect("127.0.0.1", postfix.port("smtp"))
    client.close()
    found = postfix.wait_for_log(r"postfix/smtpd\[\d+\]: (fatal: .*)$")
    assert found.group(1).rstrip() == fatal.rstrip()


START_FAILS = [
    ("relayhost = $myhostname", "PAR021",
     ("postfix: fatal: myhostname and relayhost parameter settings must not be identical: "
     "mail.example.com")),
    ("myorigin = example.com, example.net", "PAR022",
     ("postfix: fatal: myorigin parameter setting must not contain multiple values: "
     "example.com, example.net")),
    ("default_privs = postfix", "PAR023",
     "parameters default_privs and mail_owner specify the same user postfix"),
    ("myhostname = mail..example.com", "PAR020",
     "parameter myhostname: bad parameter value: mail..example.com"),
    ("in_flow_delay = 30s", "PAR018", "postfix: fatal: invalid in_flow_delay: 30 (max 10)"),
    ("mail_owner =", "PAR019", "postfix: fatal: bad string length 0 < 1: mail_owner = "),
    ("inet_protocols = IPv4", "PAR028",
     'postfix: fatal: unknown inet_protocols value "IPv4" in "IPv4"'),
    ("compatibility_level = three", "PAR024",
     'postfix: fatal: malformed compatibility level syntax: "three"'),
    # postfix-script runs postconf, which expands the parameters it knows
    ("smtpd_banner = ${myhostname ESMTP", "PAR025", "postconf: fatal: macro processing error"),
    # both operands all digits: strtol() in atol_or_die(), and this one does not fit a long
    ("smtpd_banner = ${{99999999999999999999} > {1}?{big}:{small}}", "PAR025",
     "postconf: fatal: mac_exp_eval: bad conversion: 99999999999999999999"),
]  # fmt: skip


@pytest.mark.parametrize(("setting", "code", "fatal"), START_FAILS, ids=[c[1] for c in START_FAILS])
def test_postfix_does_not_start(
    tmp_path: Path,
    sandbox: Sandbox,
    scratch_postfix: ScratchPostfixFactory,
    setting: str,
    code: str,
    fatal: str,
) -> None:
    text = main_cf(setting)
    assert f" {code} error " in lint(tmp_path, text, code)

    postfix = scratch_postfix(text, start=False)
    with pytest.raises(PostfixStartError) as failed:
        sandbox.start(postfix)
    assert fatal in failed.value.output
    assert sandbox.processes() == []


def test_a_client_level_on_the_server_runs_as_encrypt(
    tmp_path: Path, scratch_postfix: ScratchPostfixFactory
) -> None:
    text = main_cf("smtpd_tls_security_level = verify")
    assert " PAR011 warning " in lint(tmp_path, text, "PAR011")

    postfix = scratch_postfix(text)
    with postfix.client("smtp", timeout=5) as client:
        client.ehlo()
    postfix.wait_for_log(r'postfix/smtpd\[\d+\]: warning: smtpd_tls_security_level: '
                         r'unsupported TLS level "verify", using "encrypt"$')  # fmt: skip


def test_filter_classes_that_select_nothing_are_bad_input(
    tmp_path: Path, scratch_postfix: ScratchPostfixFactory
) -> None:
    """PAR028's warning: every word known, none mapped to a class by int_filt_flags(), which
    smtpd calls when it posts a postmaster notice (here for a protocol error)."""
    text = main_cf("internal_mail_filter_classes = verify\nnotify_classes = protocol")
    assert " PAR028 warning " in lint(tmp_path, text, "PAR028")

    postfix = scratch_postfix(text)
    with postfix.client("smtp", timeout=5) as client:
        client.ehlo()
        assert client.docmd("NO-SUCH-COMMAND")[0] == 500  # "command not recognized"
    postfix.wait_for_log(
        r"postfix/smtpd\[\d+\]: warning: internal_mail_filter_classes: bad input: verify$"
    )
