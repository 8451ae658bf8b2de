"""What pflint says Postfix will do, checked against a running Postfix (issue #11's pattern).

Each test lints a configuration with pflint, then runs it in a scratch Postfix and asserts
what a client sees and what Postfix logs.  The expected texts are Postfix 3.7's own:
smtpd_check.c (fail_required) and mail_params.c (mail_params_init) print them.
"""

from __future__ import annotations

import re
import smtplib
from pathlib import Path

import pytest
from conftest import invoke
from harness import PostfixStartError, Sandbox
from harness.fixtures import ScratchPostfixFactory
from harness.postfix import stock_master_cf

from pfconf._toml import loads as toml_loads
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


# -- rule cases with a claim about the running Postfix ------------------------------------------
#
# A corpus case directory may hold runtime.toml: what Postfix does with that main.cf (and
# master.cf), which this test checks on a scratch instance.  Keys:
#
#   claim  = "start-fails"  `postfix start` refuses: `output` matches what it printed;
#            "log"          Postfix starts; after `connect` (an inet service to open, as a
#                           client would) the log matches `log`;
#            "reply"        Postfix starts; a client on `connect` that says EHLO, MAIL FROM
#                           `sender` and RCPT TO `recipient` gets a reply matching `reply`
#                           at the step `at` ("ehlo", "starttls", "mail", "rcpt": by
#                           default the first failure, or the last reply; STARTTLS is sent
#                           only when `at` names it);
#            "ehlo"         Postfix starts; the EHLO reply on `connect` lists each keyword of
#                           `has` and none of `lacks`;
#   client = "foreign" to connect from an address outside mynetworks (default: 127.0.0.1);
#   send   = true: for "log", first send a message from 127.0.0.1 to `recipient` (or to
#            each of `recipients`, in one message) to make the delivery agents run.
#   try_recipient = for "log", first say RCPT TO this address from 127.0.0.1, whatever the
#            reply (or none: a daemon that hangs is often the claim).
#   source = the Postfix code whose behaviour this is (file and function), for the reader.

RUNTIME_CASES = sorted(Path(__file__).parents[2].glob("corpus/rules/*/*/runtime.toml"))


def _case_id(path: Path) -> str:
    return f"{path.parent.parent.name}/{path.parent.name}"


def _converse(postfix, claim: dict, source: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """The first reply that is not a success, or the last reply, as (code, text)."""
    client = postfix.client(claim.get("connect", "smtp"), source=source, timeout=10)
    try:
        steps = [
            ("ehlo", lambda: client.ehlo("client.example.com")),
            *(
                [("starttls", lambda: client.docmd("STARTTLS"))]
                if claim.get("at") == "starttls"
                else []
            ),
            ("mail", lambda: client.mail(claim.get("sender", "sender@example.com"))),
            ("rcpt", lambda: client.rcpt(claim.get("recipient", "user@example.com"))),
        ]
        code, text = 0, b""
        for step, run in steps:
            code, text = run()
            if step == claim.get("at") or code >= 400:
                break
        return code, text.decode("utf-8", "replace")
    finally:
        client.close()


def test_every_runtime_claim_has_a_source() -> None:
    """A runtime.toml says which Postfix code makes the claim true."""
    assert RUNTIME_CASES, "no corpus case carries a runtime claim"
    for path in RUNTIME_CASES:
        claim = toml_loads(path.read_text(encoding="utf-8"))
        assert claim.get("claim") in ("start-fails", "log", "reply", "ehlo"), path
        assert claim.get("source"), f"{path}: no source"


@pytest.mark.parametrize("path", RUNTIME_CASES, ids=_case_id)
def test_rule_case_on_a_running_postfix(
    path: Path, tmp_path: Path, sandbox: Sandbox, scratch_postfix: ScratchPostfixFactory
) -> None:
    """pflint reports the case (test_rule_cases checks where), and a running Postfix does
    what the rule says it does."""
    claim = toml_loads(path.read_text(encoding="utf-8"))
    case = path.parent
    code = case.parent.name
    main_cf = (case / "main.cf").read_text(encoding="utf-8")
    master = case / "master.cf"
    master_cf = master.read_text(encoding="utf-8") if master.exists() else None
    linted = tmp_path / "linted"
    linted.mkdir()
    (linted / "main.cf").write_text(main_cf)
    (linted / "master.cf").write_text(master_cf if master_cf is not None else stock_master_cf())
    # a case that names its Postfix version (``#! version: X.Y``) is linted for it
    version = re.search(r"^#!\s*version:\s*(\S+)", main_cf, re.MULTILINE)
    options = ["--postfix-version", version.group(1)] if version else []
    assert f" {code} " in str(invoke(pflint, [*options, "--select", code, linted], 1).output)

    postfix = scratch_postfix(main_cf, master_cf, start=False)
    if claim["claim"] == "start-fails":
        with pytest.raises(PostfixStartError) as failed:
            sandbox.start(postfix)
        assert re.search(claim["output"], failed.value.output, re.MULTILINE), failed.value.output
        return
    sandbox.start(postfix)
    source = sandbox.foreign_address if claim.get("client") == "foreign" else "127.0.0.1"
    if claim["claim"] == "log":
        if "try_recipient" in claim:
            try:
                with postfix.client("smtp", timeout=3) as client:
                    client.ehlo("client.example.com")
                    client.mail("sender@example.com")
                    client.rcpt(claim["try_recipient"])
            except (OSError, smtplib.SMTPException):
                pass
        if claim.get("send"):
            with postfix.client("smtp", timeout=10) as client:
                recipients = claim.get("recipients") or [claim["recipient"]]
                client.sendmail("sender@example.com", recipients,
                                b"Subject: runtime claim\r\n\r\nbody\r\n")  # fmt: skip
        if "connect" in claim:
            try:
                postfix.client(claim["connect"], timeout=3).close()
            except (OSError, smtplib.SMTPException):
                pass  # the daemon may die before it greets: that is often the claim
        postfix.wait_for_log(claim["log"], timeout=float(claim.get("timeout", 10)))
        return
    if claim["claim"] == "ehlo":
        with postfix.client(claim.get("connect", "smtp"), source=source) as client:
            code, reply = client.ehlo("client.example.com")
        assert code == 250, reply
        keywords = {line.split()[0].upper() for line in reply.decode().splitlines()[1:] if line}
        assert set(claim.get("has", ())) <= keywords, keywords
        assert not set(claim.get("lacks", ())) & keywords, keywords
        return
    code_text = _converse(postfix, claim, source)
    assert re.search(claim["reply"], f"{code_text[0]} {code_text[1]}"), code_text
