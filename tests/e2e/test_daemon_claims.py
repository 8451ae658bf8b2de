"""The master.cf rules of rules/daemons.py (MST008-MST013) and MST001, checked against a
running Postfix: pflint reports the entry, and Postfix 3.7 logs what the rule says.

Each test changes one line of this machine's stock master.cf, lints the result, runs it in
a scratch Postfix and waits for the daemon's own message (the texts are those of
master/*_server.c, master/master_ent.c, master/master_conf.c, smtpd/smtpd_peer.c and
postscreen/postscreen_send.c).
"""

from __future__ import annotations

import os
import re
import smtplib
import time
from pathlib import Path

import pytest
from conftest import invoke
from harness import PostfixStartError, ScratchPostfix
from harness.fixtures import ScratchPostfixFactory
from harness.postfix import stock_master_cf

from pfconf.cli.pflint import cli as pflint

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

MAIN = """\
compatibility_level = 3.7
myhostname = mail.example.com
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
local_recipient_maps =
"""


def changed(pattern: str, replacement: str, master: str | None = None) -> str:
    """The stock master.cf (or ``master``) with the one line matching ``pattern`` replaced."""
    text = master if master is not None else stock_master_cf()
    new, count = re.subn(pattern, replacement, text, count=1, flags=re.MULTILINE)
    assert count == 1, f"no line matches {pattern!r}"
    return new


def lint(tmp_path: Path, master_cf: str, code: str, main_cf: str = MAIN) -> str:
    """pflint's report on the pair, for rule ``code`` only (exit status 1: findings)."""
    config = tmp_path / "linted"
    config.mkdir()
    (config / "main.cf").write_text(main_cf)
    (config / "master.cf").write_text(master_cf)
    return str(invoke(pflint, ["--postfix-version", "3.7", "--select", code, config], 1).output)


def line_of(master_cf: str, pattern: str) -> int:
    for number, line in enumerate(master_cf.splitlines(), start=1):
        if re.match(pattern, line):
            return number
    raise AssertionError(f"no line matches {pattern!r}")


def deliver(postfix: ScratchPostfix, recipient: str) -> None:
    with postfix.client() as client:
        client.sendmail("sender@example.com", [recipient], b"Subject: test\r\n\r\nbody\r\n")


def test_qmgr_with_a_process_limit_other_than_1_stops(
    tmp_path: Path, scratch_postfix: ScratchPostfixFactory
) -> None:
    master = changed(r"^qmgr .*$", "qmgr      unix  n       -       n       300     4       qmgr")
    report = lint(tmp_path, master, "MST008")
    assert f"master.cf:{line_of(master, 'qmgr ')}:49: MST008 error" in report

    postfix = scratch_postfix(MAIN, master)
    postfix.wait_for_log(r"postfix/qmgr\[\d+\]: fatal: service qmgr requires a process limit "
                         r"of 1$")  # fmt: skip


def test_local_marked_unprivileged_stops(
    tmp_path: Path, scratch_postfix: ScratchPostfixFactory
) -> None:
    master = changed(r"^local .*$", "local     unix  -       -       n       -       -       local")
    report = lint(tmp_path, master, "MST009")
    assert f"master.cf:{line_of(master, 'local ')}:25: MST009 error" in report

    postfix = scratch_postfix(MAIN, master)
    deliver(postfix, "someone@localhost")
    postfix.wait_for_log(r"postfix/local\[\d+\]: fatal: service local requires privileged "
                         r"operation$")  # fmt: skip


def test_smtpd_as_root_exits_on_every_connection(
    tmp_path: Path, scratch_postfix: ScratchPostfixFactory
) -> None:
    master = changed(r"^smtp +inet .*$",
                     "smtp      inet  n       n       y       -       -       smtpd")  # fmt: skip
    report = lint(tmp_path, master, "MST009")
    assert f"master.cf:{line_of(master, 'smtp +inet')}:25: MST009 error" in report

    postfix = scratch_postfix(MAIN, master)
    with pytest.raises((smtplib.SMTPServerDisconnected, ConnectionError)):
        postfix.client(timeout=5).quit()
    postfix.wait_for_log(r"postfix/smtpd\[\d+\]: fatal: the Postfix SMTP server must run "
                         r"with \$mail_owner privileges$")  # fmt: skip


def test_an_option_smtpd_does_not_have_stops_it(
    tmp_path: Path, scratch_postfix: ScratchPostfixFactory
) -> None:
    master = changed(r"^smtp +inet .*$",
                     "smtp      inet  n       -       y       -       -       smtpd -x")  # fmt: skip
    report = lint(tmp_path, master, "MST010")
    assert f"master.cf:{line_of(master, 'smtp +inet')}:63: MST010 error" in report

    postfix = scratch_postfix(MAIN, master)
    with pytest.raises((smtplib.SMTPServerDisconnected, ConnectionError)):
        postfix.client(timeout=5).quit()
    postfix.wait_for_log(r"postfix/smtpd\[\d+\]: fatal: invalid option: x$")


def test_an_override_without_equals_stops_smtpd(
    tmp_path: Path, scratch_postfix: ScratchPostfixFactory
) -> None:
    master = changed(r"^smtp +inet .*$",
                     "smtp      inet  n       -       y       -       -       smtpd\n"
                     "  -o smtpd_tls_security_level")  # fmt: skip
    report = lint(tmp_path, master, "MST010")
    assert f"master.cf:{line_of(master, 'smtp +inet') + 1}:6: MST010 error" in report

    postfix = scratch_postfix(MAIN, master)
    with pytest.raises((smtplib.SMTPServerDisconnected, ConnectionError)):
        postfix.client(timeout=5).quit()
    postfix.wait_for_log(r"postfix/smtpd\[\d+\]: fatal: invalid \"-o "
                         r"smtpd_tls_security_level\" option value: missing '=' after "
                         r"attribute name$")  # fmt: skip


def test_a_private_inet_service_stops_master(
    tmp_path: Path, scratch_postfix: ScratchPostfixFactory
) -> None:
    # "-" in the private column means "y"
    master = changed(r"^smtp +inet .*$",
                     "smtp      inet  -       -       y       -       -       smtpd")  # fmt: skip
    report = lint(tmp_path, master, "MST011")
    assert f"master.cf:{line_of(master, 'smtp +inet')}:17: MST011 error" in report

    with pytest.raises(PostfixStartError) as failed:
        scratch_postfix(MAIN, master)
    assert re.search(r"postfix/master\[\d+\]: fatal: .*master\.cf: line \d+: inet service "
                     r"cannot be private", failed.value.log)  # fmt: skip


@pytest.mark.parametrize(
    "name, fatal",
    [
        # host_port(): valid_ipv6_hostaddr() takes no scope
        ("[ipv6:fe80::1%eth0]:10030", r'malformed IPv6 address in "\[ipv6:fe80::1%eth0\]:10030"'),
        # host_port()'s loose IPv6 syntax check passes "1:2:3"; inet_addr_host() finds no
        # address for it
        ("[ipv6:1:2:3]:10031", r"bad hostname or network address: \[ipv6:1:2:3\]:10031"),
    ],
)  # fmt: skip
def test_an_inet_name_master_cannot_use_stops_it(
    tmp_path: Path, scratch_postfix: ScratchPostfixFactory, name: str, fatal: str
) -> None:
    entry = f"{name} inet n - n - - smtpd\n"
    report = lint(tmp_path, entry + stock_master_cf(), "MST011")
    assert "master.cf:1:1: MST011 error" in report

    # The harness moves every inet service to a free port, so the entry goes in afterwards.
    # It goes first: appended after the stock entries, master's fatal did not reach the
    # maillog when this test was written.
    postfix = scratch_postfix(MAIN, start=False)
    path = postfix.config_dir / "master.cf"
    path.write_text(entry + path.read_text())
    settled = time.time() - 60
    os.utime(path, (settled, settled))
    with pytest.raises(PostfixStartError) as failed:
        postfix.sandbox.start(postfix)
    assert re.search(rf"postfix/master\[\d+\]: fatal: .*master\.cf: line 1: {fatal}$",
                     failed.value.log, re.MULTILINE)  # fmt: skip


def test_a_duplicate_entry_is_a_warning_and_the_last_one_wins(
    tmp_path: Path, scratch_postfix: ScratchPostfixFactory
) -> None:
    master = changed(r"^relay +unix .*$",
                     "relay     unix  -       -       y       -       -       smtp\n"
                     "relay     unix  -       -       y       -       -       smtp")  # fmt: skip
    report = lint(tmp_path, master, "MST001")
    assert f"master.cf:{line_of(master, 'relay ') + 1}:1: MST001 warning" in report

    postfix = scratch_postfix(MAIN, master)  # starts: master does not refuse the file
    postfix.wait_for_log(r"postfix/master\[\d+\]: warning: duplicate master\.cf entry for "
                         r"service \"relay\" \(private/relay\) -- using the last entry$")  # fmt: skip


def test_postscreen_without_smtpd_pass_turns_clients_away(
    tmp_path: Path, scratch_postfix: ScratchPostfixFactory
) -> None:
    master = changed(r"^smtp +inet .*$",
                     "smtp      inet  n       -       y       -       1       postscreen")  # fmt: skip
    main = MAIN + "postscreen_greet_wait = 1s\n"
    report = lint(tmp_path, master, "MST012", main)
    assert f"master.cf:{line_of(master, 'smtp +inet')}:1: MST012 error" in report

    postfix = scratch_postfix(main, master)
    client = smtplib.SMTP(timeout=10)
    code, message = client.connect("127.0.0.1", postfix.port("smtp"))
    client.close()
    assert code == 421, message
    postfix.wait_for_log(r"postfix/postscreen\[\d+\]: warning: cannot connect to service "
                         r"private/smtpd: ")  # fmt: skip
