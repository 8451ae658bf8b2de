"""What pflint says Postfix will do, checked against a running Postfix (issue #11's pattern).

Each test lints a configuration with pflint, then runs it in a scratch Postfix and asserts
what a client sees and what Postfix logs.  The expected texts are Postfix 3.7's own:
smtpd_check.c (fail_required) and mail_params.c (mail_params_init) print them.
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


def lint(tmp_path: Path, main_cf: str, select: str) -> str:
    """pflint's report on ``main_cf`` beside the stock master.cf (exit status 1: findings)."""
    config = tmp_path / "linted"
    config.mkdir()
    (config / "main.cf").write_text(main_cf)
    (config / "master.cf").write_text(stock_master_cf())
    return str(invoke(pflint, ["--select", select, config], 1).output)


NO_RELAY_CHECK = """\
compatibility_level = 3.7
myhostname = mail.example.com
mynetworks = 127.0.0.0/8
alias_maps =
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated
smtpd_recipient_restrictions = permit_mynetworks
"""

#: smtpd_check.c, fail_required(): the list of rcpt_required[] as Postfix 3.7 prints it.
NO_RELAY_CHECK_FATAL = (
    "fatal: in parameter smtpd_relay_restrictions or smtpd_recipient_restrictions, specify at "
    "least one working instance of: reject_unauth_destination, defer_unauth_destination, "
    "reject, defer, defer_if_permit or check_relay_domains"
)


def test_without_reject_unauth_destination_smtpd_refuses_to_serve(
    tmp_path: Path, scratch_postfix: ScratchPostfixFactory
) -> None:
    assert "smtpd refuses to start" in lint(tmp_path, NO_RELAY_CHECK, "RLY003")

    postfix = scratch_postfix(NO_RELAY_CHECK)
    # master listens and the kernel accepts the connection, but every smtpd dies before it
    # takes it: the client waits for a greeting that never comes.
    client = smtplib.SMTP(timeout=2)
    with pytest.raises(smtplib.SMTPServerDisconnected, match="timed out"):
        client.connect("127.0.0.1", postfix.port("smtp"))
    client.close()
    fatal = postfix.wait_for_log(r"postfix/smtpd\[\d+\]: (fatal: .*)$")
    assert fatal.group(1) == NO_RELAY_CHECK_FATAL
    postfix.wait_for_log(r"postfix/master\[\d+\]: warning: process \S+/smtpd pid \d+ exit "
                         r"status 1$")  # fmt: skip
    # master then waits (service_throttle_time, 60 s) before it starts another smtpd
    postfix.wait_for_log(r"postfix/master\[\d+\]: warning: \S+/smtpd: bad command startup "
                         r"-- throttling$")  # fmt: skip


@pytest.mark.parametrize(
    ("myhostname", "fatal_parameter", "fatal_value"),
    [
        ("mail.example.com", "mydomain", "example.com # comment"),
        # every parameter built from $mydomain carries the comment along
        ("mail.$mydomain", "myhostname", "mail.example.com # comment"),
    ],
)
def test_a_trailing_comment_in_mydomain_stops_postfix(
    tmp_path: Path,
    sandbox: Sandbox,
    scratch_postfix: ScratchPostfixFactory,
    myhostname: str,
    fatal_parameter: str,
    fatal_value: str,
) -> None:
    main_cf = (f"compatibility_level = 3.7\nmyhostname = {myhostname}\n"
               "mydomain = example.com # comment\n")  # fmt: skip
    report = lint(tmp_path, main_cf, "SYN004")
    assert '"# comment" is part of the value of mydomain, not a comment' in report

    postfix = scratch_postfix(main_cf, start=False)
    with pytest.raises(PostfixStartError) as failed:
        sandbox.start(postfix)
    # The postfix command itself stops while reading main.cf, before it knows maillog_file:
    # the reason goes to its terminal only, and no daemon ever starts.
    fatal = (f"postfix: fatal: file {postfix.config_dir}/main.cf: parameter "
             f"{fatal_parameter}: bad parameter value: {fatal_value}")  # fmt: skip
    assert failed.value.output.splitlines() == [
        f"postfix: warning: valid_hostname: invalid character 32(decimal): {fatal_value}",
        fatal,
    ]
    assert postfix.log() == ""
    assert sandbox.processes() == []
    with pytest.raises(ConnectionRefusedError):
        postfix.client("smtp", timeout=3)
