"""pfedit never loses a byte or leaks a secret (issue #10, items 2 to 5): edits take turns
under Postfix's edit lock, a change set lands whole or not at all, secret files are 0600
from their first byte, and backups are written as safely as the files themselves."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import invoke
from oracle import require_postconf

from pfconf import io as pfconf_io
from pfconf import postfix
from pfconf.cli.pfedit import cli as pfedit
from pfconf.edit.workspace import ConcurrentChange, Workspace
from pfconf.errors import WriteError

MAIN = "# a comment\nmyhostname = mail.example.com\nrelayhost =\n"
MASTER = "smtp inet n - n - - smtpd\n"


@pytest.fixture
def confdir(tmp_path: Path) -> Path:
    directory = tmp_path / "postfix"
    directory.mkdir()
    (directory / "main.cf").write_text(MAIN)
    (directory / "master.cf").write_text(MASTER)
    return directory


def _leftovers(directory: Path) -> list[str]:
    """Temporary files a change set must never leave behind."""
    return sorted(
        p.name for p in directory.iterdir() if p.name.endswith((".tmp", ".pfedit-old"))
    )


# -- 2. no lost update ---------------------------------------------------------------------------


def test_concurrent_editors_take_turns(confdir: Path) -> None:
    """Eight editors each read main.cf, wait, and write their own parameter: with the lock
    every change survives (without it, all but one were lost)."""
    errors: list[BaseException] = []

    def edit(number: int) -> None:
        try:
            with Workspace(str(confdir), lock=True) as workspace:
                workspace.main.set(f"my_param_{number}", str(number))
                time.sleep(0.05)  # another editor would read the old file now
                workspace.write()
        except Exception as exc:  # noqa: BLE001 -- every failure is reported below
            errors.append(exc)

    threads = [threading.Thread(target=edit, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    text = (confdir / "main.cf").read_text()
    assert [f"my_param_{n} = {n}" in text for n in range(8)] == [True] * 8
    assert text.startswith(MAIN)
    assert _leftovers(confdir) == []


def test_pfedit_processes_in_parallel_lose_nothing(confdir: Path) -> None:
    """The same through the command line: pfedit set in six processes at once."""
    import sys

    command = [sys.executable, "-c", "from pfconf.cli.pfedit import main; main()"]
    for round_ in range(2):
        procs = [
            subprocess.Popen(
                [*command, "-c", str(confdir), "set", f"p_{round_}_{n}=x{n}"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            )
            for n in range(6)
        ]
        for proc in procs:
            _, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
    text = (confdir / "main.cf").read_text()
    missing = [f"p_{r}_{n}" for r in range(2) for n in range(6) if f"p_{r}_{n} = x{n}" not in text]
    assert missing == []


def test_postconf_e_waits_for_pfedit(confdir: Path) -> None:
    """pfedit takes the lock postconf -e takes (main.cf.tmp, util/edit_file.c): a postconf -e
    started while pfedit holds it waits, and both changes land."""
    postconf = require_postconf()
    workspace = Workspace(str(confdir), lock=True)
    workspace.main.set("biff", "no")
    for name in ("main.cf", "master.cf"):
        os.utime(confdir / name, (0, 0))
    proc = subprocess.Popen(
        [postconf, "-c", str(confdir), "-e", "delay_warning_time=4h"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    time.sleep(1.0)
    assert proc.poll() is None, "postconf -e did not wait for the lock"
    workspace.write()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    text = (confdir / "main.cf").read_text()
    assert "biff = no" in text and "delay_warning_time = 4h" in text


def test_a_locked_file_is_a_one_line_error(
    confdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    holder = Workspace(str(confdir), lock=True)
    try:
        monkeypatch.setattr(pfconf_io, "LOCK_TIMEOUT", 0.3)
        result = invoke(pfedit, ["-c", confdir, "set", "biff=no"], 2)
        assert result.output == (
            f"{confdir}/main.cf: another program is editing it ({confdir}/main.cf.tmp is locked)\n"
        )
    finally:
        holder.close()
    assert (confdir / "main.cf").read_text() == MAIN


def test_replaced_file_with_the_same_content_is_not_overwritten(confdir: Path) -> None:
    """A file replaced behind pfedit's back (an editor that renames its copy into place) is
    another file, even with the same bytes: nothing is written."""
    workspace = Workspace(str(confdir), lock=True)
    workspace.main.set("biff", "no")
    (confdir / "copy").write_text(MAIN)
    os.rename(confdir / "copy", confdir / "main.cf")
    with pytest.raises(ConcurrentChange):
        workspace.write()
    assert (confdir / "main.cf").read_text() == MAIN
    assert _leftovers(confdir) == []


# -- 3. all or nothing ---------------------------------------------------------------------------


def _refuse_rename_to(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Make renames onto ``name`` fail as onto an immutable file (chattr +i)."""
    real = os.rename

    def rename(src: Any, dst: Any, *args: Any, **kw: Any) -> None:
        if os.path.basename(os.fspath(dst)) == name:
            raise PermissionError(errno.EPERM, "Operation not permitted", os.fspath(dst))
        real(src, dst, *args, **kw)

    monkeypatch.setattr(os, "rename", rename)


@pytest.mark.parametrize("refused", ["master.cf", "main.cf"])
def test_a_failed_rename_changes_no_file(
    confdir: Path, monkeypatch: pytest.MonkeyPatch, refused: str
) -> None:
    """sasl-tls changes both files.  An immutable master.cf (renamed first) or main.cf
    (renamed last, after master.cf): either way both stay as they were."""
    before = {n: (confdir / n).read_bytes() for n in ("main.cf", "master.cf")}
    _refuse_rename_to(monkeypatch, refused)
    args = ["-c", confdir, "apply", "sasl-tls", "--postfix-version", "3.7",
            "--cert", "/etc/ssl/mail.pem", "--key", "/etc/ssl/mail.key"]  # fmt: skip
    result = invoke(pfedit, args, 2)
    assert result.output == (
        f"pfedit: {confdir}/{refused}: cannot write: permission denied (nothing was changed)\n"
    )
    assert {n: (confdir / n).read_bytes() for n in ("main.cf", "master.cf")} == before
    assert _leftovers(confdir) == []
    monkeypatch.undo()
    invoke(pfedit, args, 0)  # and with the files writable, it works
    assert {n: (confdir / n).read_bytes() for n in ("main.cf", "master.cf")} != before


def test_main_cf_is_restored_when_a_later_file_fails(
    confdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """master.cf renamed, then main.cf refused: master.cf is put back as it was."""
    workspace = Workspace(str(confdir), lock=True)
    workspace.main.set("biff", "no")
    assert workspace.master is not None
    workspace.master.set_override("smtp/inet", "syslog_name", "x")
    _refuse_rename_to(monkeypatch, "main.cf")
    with pytest.raises(WriteError, match=r"main\.cf: cannot write: permission denied"):
        workspace.write()
    assert (confdir / "master.cf").read_text() == MASTER
    assert (confdir / "main.cf").read_text() == MAIN
    assert _leftovers(confdir) == []


def _relay_client(confdir: Path, tmp_path: Path, *extra: str, expect: int = 0) -> Any:
    secret = tmp_path / "password"
    secret.write_text("s3cr3t-Pa55\n")
    return invoke(
        pfedit,
        ["-c", confdir, "apply", "relay-client", "--relayhost", "[smtp.example.net]:587",
         "--user", "me@example.net", "--password-file", secret, "--postfix-version", "3.7",
         *extra],
        expect,
    )  # fmt: skip


def test_an_immutable_password_file_leaves_sasl_off(
    confdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_postconf()
    _refuse_rename_to(monkeypatch, "sasl_passwd")
    result = _relay_client(confdir, tmp_path, expect=2)
    assert f"{confdir}/sasl_passwd: cannot write: permission denied" in result.output
    assert (confdir / "main.cf").read_text() == MAIN
    assert not (confdir / "sasl_passwd").exists() and not (confdir / "sasl_passwd.db").exists()
    assert _leftovers(confdir) == [] and not list(confdir.glob("*.tmp.db"))


def test_a_postmap_failure_leaves_main_cf_alone(
    confdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_postconf()

    def fail(config_dir: str, table: str, *, private: bool = False) -> None:
        raise postfix.PostfixError(f"postmap -c {config_dir} {table} failed: fatal: boom")

    monkeypatch.setattr(postfix, "postmap", fail)
    result = _relay_client(confdir, tmp_path, expect=2)
    assert f"hash:{confdir}/sasl_passwd failed" in result.output  # the real name
    assert ".tmp" not in result.output
    assert (confdir / "main.cf").read_text() == MAIN
    assert not (confdir / "sasl_passwd").exists()
    assert _leftovers(confdir) == []


def test_a_full_disk_names_the_real_file(confdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(fd: int, data: Any) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    result = invoke(pfedit, ["-c", confdir, "set", "biff=no"], 2)
    assert result.output == (
        f"pfedit: {confdir}/main.cf: cannot write: no space left on device (nothing was changed)\n"
    )
    monkeypatch.undo()
    assert (confdir / "main.cf").read_text() == MAIN
    assert _leftovers(confdir) == []


# -- 4. secrets -------------------------------------------------------------------------------------


def test_secret_files_are_never_readable_by_others(
    confdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An existing sasl_passwd and sasl_passwd.db readable by everyone: the new ones are 0600,
    and no mode wider than 0600 is ever given to a file holding the password."""
    require_postconf()
    for name in ("sasl_passwd", "sasl_passwd.db"):
        (confdir / name).write_text("old\n")
        os.chmod(confdir / name, 0o644)
    modes: list[tuple[str, int]] = []
    real_fchmod, real_chmod = os.fchmod, os.chmod

    def fchmod(fd: int, mode: int) -> None:
        modes.append((os.readlink(f"/proc/self/fd/{fd}"), mode))
        real_fchmod(fd, mode)

    def chmod(path: Any, mode: int, *args: Any, **kw: Any) -> None:
        modes.append((os.fspath(path), mode))
        real_chmod(path, mode, *args, **kw)

    monkeypatch.setattr(os, "fchmod", fchmod)
    monkeypatch.setattr(os, "chmod", chmod)
    _relay_client(confdir, tmp_path, "--backup")
    monkeypatch.undo()
    for name in ("sasl_passwd", "sasl_passwd.db", "sasl_passwd.bak"):
        assert stat.S_IMODE((confdir / name).stat().st_mode) == 0o600, name
    secret_modes = [(p, m) for p, m in modes if "sasl_passwd" in p]
    assert secret_modes and all(m & 0o077 == 0 for _, m in secret_modes), secret_modes
    assert (confdir / "sasl_passwd.bak").read_text() == "old\n"
    assert "s3cr3t" in (confdir / "sasl_passwd").read_text()


def test_postmap_creates_the_index_privately(confdir: Path, tmp_path: Path) -> None:
    """postmap runs with umask 077 on the temporary copy: the .db never exists with a wider
    mode, and it is built for the configuration being edited."""
    require_postconf()
    result = _relay_client(confdir, tmp_path)
    assert f"ran postmap -c {confdir} hash:{confdir}/sasl_passwd" in result.output
    assert stat.S_IMODE((confdir / "sasl_passwd.db").stat().st_mode) == 0o600


def test_diff_does_not_tell_the_size_of_a_secret(confdir: Path, tmp_path: Path) -> None:
    result = _relay_client(confdir, tmp_path, "--diff")
    assert "@@ secret content not shown @@" in result.output
    assert "bytes" not in result.output and "s3cr3t" not in result.output


# -- 5. backups ------------------------------------------------------------------------------------


def test_backup_takes_its_suffix_only_after_equals(confdir: Path) -> None:
    invoke(pfedit, ["-c", confdir, "set", "--backup", "myhostname=y", "relayhost=b"], 0)
    text = (confdir / "main.cf").read_text()
    assert "myhostname = y" in text and "relayhost = b" in text
    assert (confdir / "main.cf.bak").read_text() == MAIN
    assert not list(confdir.glob("main.cfmyhostname*"))
    invoke(pfedit, ["-c", confdir, "set", "--backup=.orig", "biff=no"], 0)
    assert (confdir / "main.cf.orig").read_text() == text


def test_backup_keeps_mode_and_a_full_disk_keeps_the_old_backup(
    confdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    os.chmod(confdir / "main.cf", 0o640)
    (confdir / "main.cf.bak").write_text("the good old backup\n")
    real_write = os.write

    def write(fd: int, data: Any) -> int:
        if os.path.basename(os.readlink(f"/proc/self/fd/{fd}")).startswith(".main.cf.bak"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)
    result = invoke(pfedit, ["-c", confdir, "set", "--backup", "biff=no"], 2)
    assert f"{confdir}/main.cf.bak: cannot write: no space left on device" in result.output
    monkeypatch.undo()
    assert (confdir / "main.cf.bak").read_text() == "the good old backup\n"
    assert (confdir / "main.cf").read_text() == MAIN
    invoke(pfedit, ["-c", confdir, "set", "--backup", "biff=no"], 0)
    assert (confdir / "main.cf.bak").read_text() == MAIN
    assert stat.S_IMODE((confdir / "main.cf.bak").stat().st_mode) == 0o640
    assert stat.S_IMODE((confdir / "main.cf").stat().st_mode) == 0o640
    assert [p.name for p in confdir.iterdir() if p.name.startswith(".")] == []
