"""The live rules on programs and delivery directories (LIVE020-LIVE023) on files each test
builds: programs with chmod 0755 and 0644, directories where a file belongs and the other
way round, missing paths, chrooted services with their programs inside or outside the
queue directory.

Each rule has ``test_<code>_fires...`` and ``test_<code>_quiet...`` functions, which
tests/test_rule_cases.py asks for in place of corpus cases.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from pfconf.lint import Finding, Options, lint
from pfconf.live import Host
from pfconf.semantics.commands import command_program

#: The head of every test's main.cf: chroot "-" means no (compatibility level 1 and up).
HEAD = "compatibility_level = 3.6\n"


class Site:
    """A configuration directory in tmp_path, with the programs and directories it names."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.conf = root / "etc"
        self.conf.mkdir()
        self.daemons = root / "daemons"
        self.daemons.mkdir()
        self.queue = root / "queue"
        self.queue.mkdir()

    def path(self, name: str) -> str:
        return str(self.root / name)

    def program(self, name: str, mode: int = 0o755) -> str:
        """A file at ``name`` (below the site) with ``mode``."""
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
        path.chmod(mode)
        return str(path)

    def daemon(self, name: str, mode: int = 0o755) -> str:
        return self.program(f"daemons/{name}", mode)

    def directory(self, name: str) -> str:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return str(path)

    def main(self, text: str, master: str) -> None:
        head = f"{HEAD}queue_directory = {self.queue}\ndaemon_directory = {self.daemons}\n"
        (self.conf / "main.cf").write_text(head + text, encoding="utf-8")
        (self.conf / "master.cf").write_text(master, encoding="utf-8")
        for name in ("main.cf", "master.cf"):
            when = time.time() - 60  # postconf rereads files a second old
            os.utime(self.conf / name, (when, when))

    def lint(self, *codes: str) -> list[Finding]:
        files = [str(self.conf / n) for n in ("main.cf", "master.cf") if (self.conf / n).exists()]
        return lint(files, Options(select=codes or ("LIVE",), live=True)).findings


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return Site(tmp_path)


def _at(findings: list[Finding]) -> list[tuple[str, str, int, int, str]]:
    return [(f.code, Path(f.path).name, f.line, f.column, f.severity) for f in findings]


def _need_search_path() -> tuple[str, ...]:
    search = Host.command_search_path()
    if search is None:
        pytest.skip("the PATH Postfix gives commands is not known on this system")
    return search


#: main.cf's line numbers start after HEAD and the two directories
FIRST = 4


# -- LIVE020: master.cf commands in daemon_directory -------------------------------------------


def test_live020_fires_on_missing_unexecutable_and_directory_commands(site):
    site.daemon("smtpd", 0o644)
    site.directory("daemons/cleanup")
    site.daemon("local")
    site.main(
        "",
        "smtp      inet  n       -       n       -       -       smtpd\n"
        "cleanup   unix  n       -       n       -       0       cleanup\n"
        "qmgr      unix  n       -       n       300     1       qmgr\n"
        "local     unix  -       n       n       -       -       local\n"
        "dovecot   unix  -       n       n       -       -       /usr/bin/env\n",
    )
    findings = site.lint("LIVE020")
    assert _at(findings) == [
        ("LIVE020", "master.cf", 1, 57, "error"),
        ("LIVE020", "master.cf", 2, 57, "error"),
        ("LIVE020", "master.cf", 3, 57, "error"),
        ("LIVE020", "master.cf", 5, 57, "error"),
    ]
    smtpd, cleanup, qmgr, dovecot = (f.message for f in findings)
    assert f"{site.daemons}/smtpd, which is not executable (mode 0644)" in smtpd
    assert f"{site.daemons}/cleanup, which is a directory, not a program" in cleanup
    assert f"{site.daemons}/qmgr, which does not exist" in qmgr
    # master_ent.c concatenates: an absolute command is still below daemon_directory
    assert f"{site.daemons}//usr/bin/env, which does not exist" in dovecot
    assert "absolute command too" in dovecot
    assert findings[0].end_column == 62  # the command field itself


def test_live020_quiet_on_programs_there_and_services_master_does_not_run(site):
    site.daemon("smtpd")
    site.daemon("pickup")
    site.main(
        "master_service_disable = old/unix\n",
        "smtp      inet  n       -       n       -       -       smtpd\n"
        "  -o daemon_directory=/nowhere\n"
        "#cleanup  unix  n       -       n       -       0       cleanup\n"
        "old       unix  n       -       n       -       -       gone\n"
        # postlogd runs only with maillog_file set
        "postlog   unix-dgram n  -       n       -       1       postlogd\n"
        # master uses the last of duplicate entries
        "pickup    unix  n       -       n       60      1       missing\n"
        "pickup    unix  n       -       n       60      1       pickup\n",
    )
    assert site.lint("LIVE020") == []
    # without a master.cf, Postfix's stock one stands in: its services are not this host's
    (site.conf / "master.cf").unlink()
    assert site.lint("LIVE020") == []


# -- LIVE021: pipe(8) argv= commands -----------------------------------------------------------


PIPE = "mypipe    unix  -       n       n       -       -       pipe\n"


def test_live021_fires_on_missing_unexecutable_and_directory_commands(site):
    site.daemon("pipe")
    script = site.program("bin/filter", 0o644)
    folder = site.directory("bin/folder")
    site.main(
        "default_transport = one\nrelay_transport = two\nrelay_domains = example.com\n"
        "virtual_transport = three\nvirtual_mailbox_domains = example.net\n",
        PIPE.replace("mypipe", "one   ") + f"  user=nobody argv={script} ${{recipient}}\n"
        + PIPE.replace("mypipe", "two   ") + f"  flags=R user=nobody argv={folder}\n"
        + PIPE.replace("mypipe", "three ") + f"  user=nobody argv={site.path('bin/none')} x\n",
    )  # fmt: skip
    findings = site.lint("LIVE021")
    start = len("  user=nobody argv=") + 1
    assert _at(findings) == [
        ("LIVE021", "master.cf", 2, start, "error"),
        ("LIVE021", "master.cf", 4, start + len("flags=R "), "error"),
        ("LIVE021", "master.cf", 6, start, "error"),
    ]
    assert findings[0].end_column == start + len(script)
    assert f"{script}, which is not executable (mode 0644)" in findings[0].message
    assert f"{folder}, which is a directory, not a program" in findings[1].message
    assert f"{site.path('bin/none')}, which does not exist" in findings[2].message


def test_live021_fires_inside_the_chroot_and_on_a_bare_name_not_in_path(site):
    search = _need_search_path()
    site.daemon("pipe")
    outside = site.program("bin/filter")  # there on the host, not inside the jail
    chrooted = PIPE.replace("n       n       -", "n       y       -")
    site.main(
        "default_transport = one\ncontent_filter = two:\n",
        chrooted.replace("mypipe", "one   ") + f"  user=nobody argv={outside}\n"
        + PIPE.replace("mypipe", "two   ") + "  user=nobody argv=pflint-no-such-program-x\n",
    )  # fmt: skip
    findings = site.lint("LIVE021")
    assert _at(findings) == [
        ("LIVE021", "master.cf", 2, 20, "error"),
        ("LIVE021", "master.cf", 4, 20, "error"),
    ]
    jailed = f"{site.queue}{outside}"
    assert f"runs {jailed} (inside the chroot {site.queue}), which does not exist" in (
        findings[0].message
    )
    assert "pflint-no-such-program-x, which is in none of" in findings[1].message
    assert ":".join(search) in findings[1].message


def test_live021_quiet_on_commands_there_and_services_no_mail_reaches(site):
    _need_search_path()
    site.daemon("pipe")
    good = site.program("bin/filter")
    jailed = site.program(f"queue{good}")  # the same path, inside queue_directory
    site.program("jail/usr/bin/tool")
    site.program("work/rel/tool")
    chrooted = PIPE.replace("n       n       -", "n       y       -")
    site.main(
        "default_transport = one\nrelay_transport = two\nrelay_domains = example.com\n"
        "virtual_transport = three\nvirtual_mailbox_domains = example.net\n"
        "fallback_transport = four\nmailbox_transport = five\nlocal_transport = six\n",
        PIPE.replace("mypipe", "one   ") + f"  user=nobody argv={good} ${{recipient}}\n"
        + chrooted.replace("mypipe", "two   ") + f"  user=nobody argv={good}\n"
        + PIPE.replace("mypipe", "three ")
        + f"  user=nobody chroot={site.path('jail')} argv=/usr/bin/tool\n"
        + PIPE.replace("mypipe", "four  ")
        + f"  user=nobody directory={site.path('work')} argv=rel/tool\n"
        # a macro pipe(8) fills in per delivery
        + PIPE.replace("mypipe", "five  ") + "  user=nobody argv=/opt/${nexthop}/run\n"
        # a bare name found through PATH
        + PIPE.replace("mypipe", "six   ") + "  user=nobody argv=sh -c true\n"
        # no transport setting names it: master never starts it
        + PIPE.replace("mypipe", "unused") + "  user=nobody argv=/no/such/program\n"
        + "#old      unix  -       n       n       -       -       pipe\n"
        + "#  user=nobody argv=/no/such/program\n",
    )  # fmt: skip
    assert os.path.exists(jailed)
    assert site.lint("LIVE021") == []


# -- LIVE022: mailbox_command ------------------------------------------------------------------


LOCAL = "local     unix  -       n       n       -       -       local\n"


def test_live022_fires_on_missing_unexecutable_and_directory_programs(site):
    site.daemon("local")
    script = site.program("bin/deliver", 0o644)
    folder = site.directory("bin/folder")
    site.main(f"mailbox_command = {script} -d $USER\n", LOCAL)
    findings = site.lint("LIVE022")
    assert _at(findings) == [("LIVE022", "main.cf", FIRST, 19, "error")]
    assert "hands the command to /bin/sh -c" in findings[0].message
    assert f"{script}, which is not executable (mode 0644)" in findings[0].message

    site.main(f"mailbox_command = {folder}\n", LOCAL)
    findings = site.lint("LIVE022")
    assert _at(findings) == [("LIVE022", "main.cf", FIRST, 19, "error")]
    assert "local(8) runs the program" in findings[0].message
    assert f"runs the program {folder}, which is a directory, not a program" in findings[0].message

    # a service's -o is what its local(8) reads, and the finding stands on it
    site.main(
        "mailbox_command = /bin/true\n",
        LOCAL + f"  -o mailbox_command={site.path('bin/none')}\n",
    )
    findings = site.lint("LIVE022")
    assert _at(findings) == [("LIVE022", "master.cf", 2, 6, "error")]
    assert f"{site.path('bin/none')}, which does not exist" in findings[0].message


def test_live022_fires_on_a_bare_name_not_in_path_and_a_missing_shell(site):
    search = _need_search_path()
    site.daemon("local")
    site.main('mailbox_command = pflint-no-such-program -a "$EXTENSION"\n', LOCAL)
    findings = site.lint("LIVE022")
    assert _at(findings) == [("LIVE022", "main.cf", FIRST, 19, "error")]
    assert "pflint-no-such-program, which is in none of " + ", ".join(search) in findings[0].message
    assert f"PATH {':'.join(search)}" in findings[0].message

    site.main(
        f"mailbox_command = /bin/true\nlocal_command_shell = {site.path('smrsh')} -c\n", LOCAL
    )
    findings = site.lint("LIVE022")
    assert _at(findings) == [("LIVE022", "main.cf", FIRST + 1, 23, "error")]
    assert f"through this shell, {site.path('smrsh')}, which does not exist" in (
        findings[0].message
    )


def test_live022_quiet_when_there_superseded_unused_or_known_only_at_delivery(site):
    _need_search_path()
    site.daemon("local")
    good = site.program("bin/deliver")
    missing = site.path("bin/none")
    cases = [
        (f"mailbox_command = {good} -d $USER\n", LOCAL),
        ("mailbox_command = sh -c true\n", LOCAL),
        # mailbox_transport comes first in deliver_mailbox()
        f"mailbox_transport = lmtp:unix:private/dovecot\nmailbox_command = {missing}\n",
        # a static: table answers every user
        f"mailbox_command_maps = static:{good}\nmailbox_command = {missing}\n",
        f"mailbox_transport_maps = static:lmtp:unix:x\nmailbox_command = {missing}\n",
        # known only when the shell runs it, or a built-in
        'mailbox_command = "$HOME/bin/deliver"\n',
        "mailbox_command = FOO=1 /no/such\n",
        "mailbox_command = HOME='/tmp' /no/such\n",
        "mailbox_command = exit 75\n",
    ]
    for case in cases:
        main, master = case if isinstance(case, tuple) else (case, LOCAL)
        site.main(main, master)
        assert site.lint("LIVE022") == [], main
    # no running local(8): commented out, or no mail reaches it
    site.main(f"mailbox_command = {missing}\n", "#" + LOCAL)
    assert site.lint("LIVE022") == []
    site.main(
        f"mailbox_command = {missing}\nlocal_transport = other\n",
        LOCAL + "other     unix  -       n       n       -       -       virtual\n",
    )
    assert site.lint("LIVE022") == []


def test_command_program_follows_exec_command():
    assert command_program("/usr/bin/procmail -a x").word == "/usr/bin/procmail"
    assert not command_program("/usr/bin/procmail -a x").shell
    shell = command_program('/usr/bin/procmail -a "$EXTENSION"')
    assert (shell.word, shell.shell) == ("/usr/bin/procmail", True)
    assert command_program("/usr/bin/x>/dev/null").word == "/usr/bin/x"
    assert command_program("2>/dev/null /usr/bin/x").word is None
    assert command_program("FOO=1 /usr/bin/x").word is None
    assert command_program("FOO='1' /usr/bin/x").word is None
    assert command_program("~/bin/x").word is None
    assert command_program("exec /usr/bin/x; true").word is None
    assert command_program("   ").word is None


# -- LIVE023: virtual_mailbox_base and mail_spool_directory -------------------------------------


VIRTUAL = "virtual   unix  -       n       n       -       -       virtual\n"


def test_live023_fires_on_a_missing_base_and_a_spool_that_is_a_file(site):
    site.daemon("virtual")
    site.daemon("local")
    spool = site.program("spool", 0o644)
    site.main(
        "virtual_mailbox_domains = example.com\n"
        f"virtual_mailbox_base = {site.path('vhosts')}\n"
        f"mail_spool_directory = {spool}\n",
        VIRTUAL + LOCAL,
    )
    findings = site.lint("LIVE023")
    assert _at(findings) == [
        ("LIVE023", "main.cf", FIRST + 1, 24, "error"),
        ("LIVE023", "main.cf", FIRST + 2, 24, "error"),
    ]
    assert f"{site.path('vhosts')} does not exist" in findings[0].message
    assert "virtual(8) delivers below it" in findings[0].message
    assert f"{spool} is a regular file, not a directory" in findings[1].message
    assert "mailbox files" in findings[1].message


def test_live023_fires_inside_the_chroot_and_on_a_missing_maildir_spool(site):
    site.daemon("virtual")
    site.daemon("local")
    base = site.directory("vhosts")  # on the host, not inside the jail
    chrooted = VIRTUAL.replace("n       n       -", "n       y       -")
    site.main(
        f"virtual_transport = virtual\nvirtual_mailbox_domains = example.com\n"
        f"virtual_mailbox_base = {base}\n"
        f"mail_spool_directory = {site.path('maildirs')}/\n",
        chrooted + LOCAL,
    )
    findings = site.lint("LIVE023")
    assert _at(findings) == [
        ("LIVE023", "main.cf", FIRST + 2, 24, "error"),
        ("LIVE023", "main.cf", FIRST + 3, 24, "error"),
    ]
    assert f"{site.queue}{base} (inside the chroot {site.queue}) does not exist" in (
        findings[0].message
    )
    assert "maildirs in it" in findings[1].message


def test_live023_quiet_when_there_superseded_or_unreached(site):
    site.daemon("virtual")
    site.daemon("local")
    base = site.directory("vhosts")
    spool = site.directory("spool")
    missing = site.path("none")
    good = site.program("bin/deliver")
    domains = "virtual_mailbox_domains = example.com\n"
    cases = [
        (f"{domains}virtual_mailbox_base = {base}\nmail_spool_directory = {spool}\n",
         VIRTUAL + LOCAL),
        # no virtual_mailbox_domains: mail never reaches virtual(8)
        (f"virtual_mailbox_base = {missing}\nmail_spool_directory = {spool}\n",
         VIRTUAL + LOCAL),
        # a commented-out service
        (f"{domains}virtual_mailbox_base = {missing}\nmail_spool_directory = {missing}\n",
         "#" + VIRTUAL + "#" + LOCAL),
        # the spool is not used: home_mailbox, mailbox_command, mailbox_transport first
        (f"home_mailbox = Maildir/\nmail_spool_directory = {missing}\n", LOCAL),
        (f"mailbox_command = {good}\nmail_spool_directory = {missing}\n", LOCAL),
        (f"mailbox_transport = lmtp:unix:x\nmail_spool_directory = {missing}\n", LOCAL),
    ]  # fmt: skip
    for main, master in cases:
        site.main(main, master)
        assert site.lint("LIVE023") == [], main
