"""Where a daemon's options end, read twice: as postconf reads them (Service.daemon_arguments,
used by ``pfedit show`` and the master.cf editor, compared with postconf -P/-F), and as the
daemon's getopt reads them (semantics.programs, used by the model and MST007).

getopt stops at the first word that does not start with ``-``, and at ``--``; ``-vo x=y``
is ``-v`` then ``-o x=y``.  A ``-o`` after the end of the options is a plain argument that
the daemon never reads as a setting.  The two readings differ where the daemon's skeleton
takes a value for another letter (``-n name``, ``-t type``, ``-s count``: postconf stops at
the value) and at a lone ``-`` (postconf takes the next word as its value and reads on).
"""

from __future__ import annotations

import re
from pathlib import Path

import attrs
import pytest
from conftest import invoke
from oracle import fold, read_master

from pfconf import loads
from pfconf.cli.pfedit import cli as pfedit
from pfconf.edit import EditError, MasterEditor
from pfconf.kb import parse_version
from pfconf.lint.engine import lint
from pfconf.lint.rule import rule_for
from pfconf.semantics import Postfix
from pfconf.show import command_line

HEAD = "smtp      inet  n       -       n       -       -       smtpd "
MAIN = "compatibility_level = 3.11\n"


@attrs.frozen
class Case:
    name: str
    args: str
    overrides: dict[str, str]  # what postconf -P shows for smtp/inet
    ignored: str | None = None  # MST007: the word it reports as not read (split or ignored)
    daemon: dict[str, str] | None = None  # what smtpd reads, when postconf -P differs

    @property
    def read(self) -> dict[str, str]:
        return self.overrides if self.daemon is None else self.daemon


CASES = [
    Case("-v then -o", "-v -o syslog_name=a", {"syslog_name": "a"}),
    Case("-vo bundled", "-vo syslog_name=a", {"syslog_name": "a"}),
    Case("-vo with its value", "-vosmtpd_tls_security_level=may",
         {"smtpd_tls_security_level": "may"}),
    Case("-vo then -o", "-vo syslog_name=a -o smtpd_tls_security_level=may",
         {"syslog_name": "a", "smtpd_tls_security_level": "may"}),
    Case("-o then -v", "-o syslog_name=a -v", {"syslog_name": "a"}),
    Case("-- ends the options", "-- -o syslog_name=a", {}, ignored="-o"),
    Case("-v, --, then -o", "-v -o syslog_name=a -- -o smtpd_tls_security_level=may",
         {"syslog_name": "a"}, ignored="-o"),
    Case("plain argument before -o", "plain -o syslog_name=a", {}, ignored="-o"),
    Case("a lone - is a plain argument", "- -o syslog_name=a", {}, ignored="-o"),
    # postconf -P takes the word after a lone - as its value and reads on; the daemon does not
    Case("an override after - and a word", "- x -o syslog_name=a", {"syslog_name": "a"},
         ignored="-o", daemon={}),
    Case("value split at a blank", "-o syslog_name=a b", {"syslog_name": "a"}, ignored="b"),
]

#: Where smtpd's getopt ("cdDi:lm:n:o:r:s:St:uvVz", master/single_server.c) and postconf part.
DAEMON_CASES = [
    Case("-n takes a value, then -o", "-n name -o syslog_name=a", {}, daemon={"syslog_name": "a"}),
    Case("-t takes a value, then -vo", "-t unix -vo syslog_name=a", {},
         daemon={"syslog_name": "a"}),
    Case("-s takes a value between two -o", "-o syslog_name=a -s 2 -o smtpd_tls_security_level=may",
         {"syslog_name": "a"}, daemon={"syslog_name": "a", "smtpd_tls_security_level": "may"}),
    Case("-nvalue in one word", "-nname -o syslog_name=a", {"syslog_name": "a"}),
    Case("-n value split at a blank", "-n name -o syslog_name=a b", {},
         daemon={"syslog_name": "a"}, ignored="b"),
]


def _text(case: Case) -> str:
    return HEAD + case.args + "\n"


def _postconf_overrides(text: str) -> list[str]:
    status, stderr, lines = read_master(text.encode(), "-P")
    assert status == 0, stderr
    return lines


@pytest.mark.parametrize("case", CASES + DAEMON_CASES, ids=lambda c: c.name)
def test_model_reads_like_postconf(case: Case) -> None:
    """Service.overrides (pfedit show, the editor) is postconf -P's reading, also where the
    daemon's differs."""
    text = _text(case)
    (service,) = loads(text, "master").services
    assert service.overrides == case.overrides
    shown = [fold(f"smtp/inet/{k} = {v}") for k, v in sorted(service.overrides.items())]
    assert shown == _postconf_overrides(text)
    status, stderr, fields = read_master(text.encode(), "-F")
    assert status == 0, stderr
    assert f"smtp/inet/command = {command_line(service)}" in fields


@pytest.mark.parametrize("case", CASES + DAEMON_CASES, ids=lambda c: c.name)
def test_the_model_reads_like_the_daemon(case: Case) -> None:
    """The model's daemon (and so every rule) sees the overrides smtpd's getopt reads."""
    master = loads(_text(case), "master")
    main = loads(MAIN, "main")
    (daemon,) = Postfix(main, master, parse_version("3.7")).daemons  # type: ignore[arg-type]
    assert {o.name: o.value for o in daemon.overrides} == case.read
    for name, value in case.read.items():
        assert daemon.config.value(name) == value
    if "syslog_name" not in case.read:
        assert daemon.config.origin("syslog_name") is None


@pytest.mark.parametrize("case", CASES + DAEMON_CASES, ids=lambda c: c.name)
def test_mst007_reports_only_words_getopt_does_not_read(case: Case, tmp_path: Path) -> None:
    (tmp_path / "main.cf").write_text(MAIN)
    (tmp_path / "master.cf").write_text(_text(case))
    run = lint([str(tmp_path / "master.cf")], rules=[rule_for("MST007")])
    words = [
        _text(case)[f.column - 1 : f.end_column - 1] for f in run.findings if f.code == "MST007"
    ]
    assert words == ([case.ignored] if case.ignored else [])


def _daemon_reads(text: str) -> dict[str, str]:
    (daemon,) = Postfix(  # type: ignore[arg-type]
        loads(MAIN, "main"), loads(text, "master"), parse_version("3.7")
    ).daemons
    return {o.name: o.value for o in daemon.overrides}


@pytest.mark.parametrize("case", CASES + DAEMON_CASES, ids=lambda c: c.name)
def test_editor_adds_an_override_getopt_reads(case: Case) -> None:
    """A new -o lands where both smtpd's getopt and postconf read it: before ``-n name``,
    not between ``-n`` and its value (where it would become the value) nor after the value
    (where postconf -P would not show it)."""
    text = _text(case)
    editor = MasterEditor(loads(text, "master"))
    assert editor.set_override("smtp/inet", "smtpd_tls_security_level", "encrypt")
    wanted = {**case.overrides, "smtpd_tls_security_level": "encrypt"}
    if "smtpd_tls_security_level" in set(case.read) - set(case.overrides):
        # changed in place, after "-s 2", where only the daemon reads it
        wanted = case.overrides
    assert _postconf_overrides(editor.text) == [
        fold(f"smtp/inet/{k} = {v}") for k, v in sorted(wanted.items())
    ]
    assert _daemon_reads(editor.text) == {**case.read, "smtpd_tls_security_level": "encrypt"}


@pytest.mark.parametrize("case", CASES + DAEMON_CASES, ids=lambda c: c.name)
def test_editor_changes_the_override_the_daemon_reads(case: Case) -> None:
    """set and unset act on the overrides smtpd reads (the model), also where postconf -P
    does not show them (after ``-n name``)."""
    text = _text(case)
    for name in case.read:
        editor = MasterEditor(loads(text, "master"))
        assert editor.set_override("smtp/inet", name, "b c")
        assert _daemon_reads(editor.text) == {**case.read, name: "b c"}
        editor = MasterEditor(loads(text, "master"))
        assert editor.unset_override("smtp/inet", name)
        assert _daemon_reads(editor.text) == {k: v for k, v in case.read.items() if k != name}
    # an override only postconf sees ("- x -o name=value") is nothing the daemon reads
    for name in set(case.overrides) - set(case.read):
        editor = MasterEditor(loads(text, "master"))
        assert not editor.unset_override("smtp/inet", name)
        assert editor.text == text


#: Entries where postconf -P shows a ``-o syslog_name=...`` that smtpd's getopt never reads:
#: past a lone ``-`` (postconf takes the next word as its value and reads on, getopt stops),
#: or after ``-n`` (getopt takes ``-o`` for -n's value, postconf gives -n no value).
POSTCONF_ONLY = [
    pytest.param("- x -o syslog_name=a", id="after a lone - and a word"),
    # found by the fuzzer (edit-master): "-ofoo=bar" is the lone -'s value to postconf
    pytest.param("- -ofoo=bar\n -o syslog_name=a", id="after a lone - and an option"),
    pytest.param("-o syslog_name=d - x -o syslog_name=a", id="the daemon reads another"),
    pytest.param("-n -o syslog_name=a", id="after -n, which takes -o for its value"),
]


@pytest.mark.parametrize("args", POSTCONF_ONLY)
def test_editor_refuses_a_name_postconf_reads_where_the_daemon_does_not(args: str) -> None:
    """postconf -P shows the last ``-o syslog_name`` it reads, one the daemon does not: a new
    ``-o`` the daemon reads has to come before it (getopt stops earlier), where postconf -P
    would go on showing the old value over it, and removing what the daemon reads would leave
    that one shown.  No place reads alike in both, so set and unset are refused, the text
    kept; other names go before the ``-`` (or ``-n``), where both read them."""
    text = HEAD + args + "\n"
    assert dict(_postconf_overrides_of(text))["syslog_name"] == "a"
    refusal = re.escape("postconf -P reads -o syslog_name=a where the daemon's getopt does not")
    editor = MasterEditor(loads(text, "master"))
    with pytest.raises(EditError, match=refusal):
        editor.set_override("smtp/inet", "syslog_name", "b")
    assert editor.text == text
    editor = MasterEditor(loads(text, "master"))
    if "syslog_name" in _daemon_reads(text):
        with pytest.raises(EditError, match=refusal):
            editor.unset_override("smtp/inet", "syslog_name")
    else:  # nothing the daemon reads: nothing to remove
        assert not editor.unset_override("smtp/inet", "syslog_name")
    assert editor.text == text
    editor = MasterEditor(loads(text, "master"))
    assert editor.set_override("smtp/inet", "smtpd_tls_security_level", "encrypt")
    assert dict(_postconf_overrides_of(editor.text))["smtpd_tls_security_level"] == "encrypt"
    assert _daemon_reads(editor.text)["smtpd_tls_security_level"] == "encrypt"


def test_editor_sets_both_overrides_when_postconf_shows_another_the_daemon_reads() -> None:
    """``-o syslog_name=a -s 2 -o syslog_name=b``: smtpd reads both (b wins), postconf -P
    stops at ``2`` and shows a.  Setting the name rewrites both words, so that postconf -P
    shows the value the daemon uses."""
    text = HEAD + "-o syslog_name=a -s 2 -o syslog_name=b\n"
    editor = MasterEditor(loads(text, "master"))
    assert editor.set_override("smtp/inet", "syslog_name", "c")
    assert editor.text == HEAD + "-o syslog_name=c -s 2 -o syslog_name=c\n"
    assert _postconf_overrides_of(editor.text) == [("syslog_name", "c")]
    assert _daemon_reads(editor.text) == {"syslog_name": "c"}


def _postconf_overrides_of(text: str) -> list[tuple[str, str]]:
    """postconf -P's overrides of smtp/inet, as (name, value)."""
    pairs = []
    for line in _postconf_overrides(text):
        key, _, value = line.partition(" = ")
        pairs.append((key.removeprefix("smtp/inet/"), value))
    return pairs


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_pfedit_service_set(case: Case, tmp_path: Path) -> None:
    (tmp_path / "main.cf").write_text(MAIN)
    (tmp_path / "master.cf").write_text(_text(case))
    invoke(pfedit, ["-c", tmp_path, "service", "set", "smtp/inet", "smtpd_client_restrictions=permit"], 0)
    wanted = {**case.overrides, "smtpd_client_restrictions": "permit"}
    assert _postconf_overrides((tmp_path / "master.cf").read_text()) == [
        fold(f"smtp/inet/{k} = {v}") for k, v in sorted(wanted.items())
    ]
