"""The live rules' claims about what the daemons do, checked against a running Postfix.

postmap and the daemons open a texthash table with different flags: postmap warns about a
key given twice, smtpd gives up on the whole file (util/dict_thash.c, dict_thash_open()).
pflint --live asks postmap, so the claim LIVE024 makes about smtpd is proved here; so are
LIVE004's (a missing table file) and LIVE026's (proxymap reads as mail_owner).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from conftest import invoke
from harness.fixtures import ScratchPostfixFactory
from harness.postfix import stock_master_cf

from pfconf.cli.pflint import cli as pflint
from pfconf.postfix import run

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def main_cf(table: str) -> str:
    return (
        "compatibility_level = 3.7\n"
        "myhostname = mail.example.com\n"
        "mynetworks = 127.0.0.0/8\n"
        "alias_maps =\n"
        f"smtpd_client_restrictions = check_client_access {table}\n"
    )


def rcpt_reply(postfix: object) -> tuple[int, bytes]:
    with postfix.client("smtp", timeout=5) as client:  # type: ignore[attr-defined]
        client.ehlo()
        client.mail("sender@example.org")
        return client.rcpt("someone@example.com")  # type: ignore[no-any-return]


@pytest.mark.parametrize("twice", [True, False], ids=["duplicate", "once"])
def test_smtpd_refuses_a_texthash_table_with_a_repeated_key(
    tmp_path: Path, scratch_postfix: ScratchPostfixFactory, twice: bool
) -> None:
    table = tmp_path / "client_access"
    lines = "127.0.0.1 REJECT listed\n" + ("127.0.0.1 REJECT again\n" if twice else "")
    table.write_text(lines)
    text = main_cf(f"texthash:{table}")

    config = tmp_path / "linted"
    config.mkdir()
    (config / "main.cf").write_text(text)
    (config / "master.cf").write_text(stock_master_cf())
    report = invoke(pflint, ["--live", "--select", "LIVE024", str(config)], 1 if twice else 0)

    postfix = scratch_postfix(text)
    code, message = rcpt_reply(postfix)
    if twice:
        assert " LIVE024 error " in report.output
        # the whole table is a stand-in whose lookups fail: not the line's REJECT
        assert code == 451, message
        assert b"4.3.5" in message and b"Server configuration error" in message
        postfix.wait_for_log(r"postfix/smtpd\[\d+\]: .*duplicate entry: \"127\.0\.0\.1\"")
    else:
        assert report.output == ""
        assert (code, message) == (
            554,
            b"5.7.1 <localhost[127.0.0.1]>: Client host rejected: listed",
        )


@pytest.mark.parametrize("kind", ["cidr", "texthash"])
def test_smtpd_defers_when_a_table_file_is_missing(
    tmp_path: Path, scratch_postfix: ScratchPostfixFactory, kind: str
) -> None:
    """LIVE004's claim: a missing table file gives a stand-in table, and smtpd defers."""
    text = main_cf(f"{kind}:{tmp_path / 'no-such-table'}")
    config = tmp_path / "linted"
    config.mkdir()
    (config / "main.cf").write_text(text)
    (config / "master.cf").write_text(stock_master_cf())
    assert (
        " LIVE004 error "
        in invoke(pflint, ["--live", "--select", "LIVE004", str(config)], 1).output
    )

    postfix = scratch_postfix(text)
    code, message = rcpt_reply(postfix)
    assert (code, message[:5]) == (451, b"4.3.5"), message


@pytest.mark.parametrize("private", [True, False], ids=["root-only", "group-postfix"])
def test_proxymap_cannot_read_a_table_only_root_may_read(
    tmp_path: Path, scratch_postfix: ScratchPostfixFactory, private: bool
) -> None:
    """LIVE026's claim: proxymap opens a proxy: table as mail_owner, so a database only
    root may read fails every lookup, and smtpd defers."""
    directory = Path(tempfile.mkdtemp(prefix="pflint-proxy-"))
    try:
        directory.chmod(0o755)
        table = directory / "client_access"
        table.write_text("127.0.0.1 REJECT listed\n")
        text = main_cf(f"proxy:hash:{table}")
        # local_recipient_maps (proxy:unix:passwd.byname) is proxied too
        text += f"proxy_read_maps = proxy:unix:passwd.byname proxy:hash:{table}\n"
        config = tmp_path / "linted"
        config.mkdir()
        (config / "main.cf").write_text(text)
        (config / "master.cf").write_text(stock_master_cf())
        for name in ("main.cf", "master.cf"):
            os.utime(config / name, (time.time() - 60, time.time() - 60))
        done = run("postmap", [f"hash:{table}"], config_dir=str(config))
        assert done.returncode == 0, done.stderr
        database = Path(f"{table}.db")
        database.chmod(0o600 if private else 0o640)
        shutil.chown(database, "root", "root" if private else "postfix")
        report = invoke(pflint, ["--live", "--select", "LIVE026", str(config)], 1 if private else 0)

        postfix = scratch_postfix(text)
        code, message = rcpt_reply(postfix)
        if private:
            assert " LIVE026 error " in report.output
            assert code == 451, message
        else:
            assert report.output == ""
            assert code == 554, message
    finally:
        shutil.rmtree(directory)
