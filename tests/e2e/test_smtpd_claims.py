"""RLY012's claims on a running Postfix: what smtpd does with an RBL reply template it cannot
use, for a client the sandbox's fake DNS lists (runtime.toml cannot list a client).

The corpus cases are the configurations; the expected texts are Postfix 3.7's
(smtpd_check.c, rbl_reject_reply() and smtpd_check_reject()).
"""

from __future__ import annotations

import smtplib
from pathlib import Path

import pytest
from conftest import CORPUS, invoke
from harness import Sandbox
from harness.dns import FakeDns
from harness.fixtures import ScratchPostfixFactory
from harness.postfix import stock_master_cf

from pfconf.cli.pflint import cli as pflint

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CASES = CORPUS / "rules" / "RLY012"


def _reported(tmp_path: Path, main_cf: str) -> str:
    config = tmp_path / "linted"
    config.mkdir()
    (config / "main.cf").write_text(main_cf)
    (config / "master.cf").write_text(stock_master_cf())
    return str(invoke(pflint, ["--select", "RLY012", config], 1).output)


def _rcpt_reply(postfix, source: str) -> tuple[int, bytes]:  # type: ignore[no-untyped-def]
    client = postfix.client(source=source, timeout=10)
    try:
        client.ehlo("client.example.com")
        client.mail("sender@example.com")
        return client.rcpt("postmaster@localhost")
    finally:
        try:
            client.quit()
        except smtplib.SMTPException:
            pass


def test_an_undefined_name_in_default_rbl_reply_stops_smtpd(
    tmp_path: Path, sandbox: Sandbox, fake_dns: FakeDns, scratch_postfix: ScratchPostfixFactory
) -> None:
    main_cf = (CASES / "fire" / "main.cf").read_text()
    assert 'unknown macro name "myhostname"' in _reported(tmp_path, main_cf)
    fake_dns.list_address("rbl.test", sandbox.foreign_address, reason="listed by the test")
    postfix = scratch_postfix(main_cf)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        _rcpt_reply(postfix, sandbox.foreign_address)
    postfix.wait_for_log(r"postfix/smtpd\[\d+\]: fatal: rbl_reject_reply: bad default rbl reply "
                         r"template: \$rbl_code Blocked, see http://\$myhostname/rbl\.html")  # fmt: skip


@pytest.mark.parametrize("case", ["fire-code", "fire-maps"])
def test_a_template_without_a_code_gives_450(
    tmp_path: Path, sandbox: Sandbox, fake_dns: FakeDns, scratch_postfix: ScratchPostfixFactory,
    case: str,
) -> None:  # fmt: skip
    main_cf = (CASES / case / "main.cf").read_text()
    assert "does not start with a 4xx or 5xx code" in _reported(tmp_path, main_cf)
    fake_dns.list_address("rbl.test", sandbox.foreign_address, reason="listed by the test")
    postfix = scratch_postfix(main_cf)
    assert _rcpt_reply(postfix, sandbox.foreign_address) == (450, b"4.7.1 Service unavailable")
    postfix.wait_for_log(r"postfix/smtpd\[\d+\]: warning: rbl response code configuration "
                         r"error: ")  # fmt: skip
