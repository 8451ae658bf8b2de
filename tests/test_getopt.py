"""Where a daemon's options end, read once (Service.daemon_arguments) and used by the model,
``pfedit show``, the master.cf editor and MST007: each case is compared with postconf -P/-F.

getopt stops at the first word that does not start with ``-``, and at ``--``; ``-vo x=y``
is ``-v`` then ``-o x=y``.  A ``-o`` after the end of the options is a plain argument that
the daemon never reads as a setting.
"""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
from conftest import invoke
from oracle import fold, read_master

from pfconf import loads
from pfconf.cli.pfedit import cli as pfedit
from pfconf.edit import MasterEditor
from pfconf.lint.engine import lint
from pfconf.lint.rule import rule_for
from pfconf.show import command_line

HEAD = "smtp      inet  n       -       n       -       -       smtpd "
MAIN = "compatibility_level = 3.11\n"


@attrs.frozen
class Case:
    name: str
    args: str
    overrides: dict[str, str]  # what postconf -P shows for smtp/inet
    ignored: str | None = None  # MST007: the word it reports as not read (split or ignored)


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
         ignored="-o"),
    Case("value split at a blank", "-o syslog_name=a b", {"syslog_name": "a"}, ignored="b"),
]


def _text(case: Case) -> str:
    return HEAD + case.args + "\n"


def _postconf_overrides(text: str) -> list[str]:
    status, stderr, lines = read_master(text.encode(), "-P")
    assert status == 0, stderr
    return lines


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_model_reads_like_postconf(case: Case) -> None:
    text = _text(case)
    (service,) = loads(text, "master").services
    assert service.overrides == case.overrides
    shown = [fold(f"smtp/inet/{k} = {v}") for k, v in sorted(service.overrides.items())]
    assert shown == _postconf_overrides(text)
    status, stderr, fields = read_master(text.encode(), "-F")
    assert status == 0, stderr
    assert f"smtp/inet/command = {command_line(service)}" in fields


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_mst007_reports_only_words_getopt_does_not_read(case: Case, tmp_path: Path) -> None:
    (tmp_path / "main.cf").write_text(MAIN)
    (tmp_path / "master.cf").write_text(_text(case))
    run = lint([str(tmp_path / "master.cf")], rules=[rule_for("MST007")])
    words = [
        _text(case)[f.column - 1 : f.end_column - 1] for f in run.findings if f.code == "MST007"
    ]
    assert words == ([case.ignored] if case.ignored else [])


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_editor_adds_an_override_getopt_reads(case: Case) -> None:
    text = _text(case)
    editor = MasterEditor(loads(text, "master"))
    assert editor.set_override("smtp/inet", "smtpd_tls_security_level", "encrypt")
    wanted = {**case.overrides, "smtpd_tls_security_level": "encrypt"}
    assert _postconf_overrides(editor.text) == [
        fold(f"smtp/inet/{k} = {v}") for k, v in sorted(wanted.items())
    ]
    for name in case.overrides:
        editor = MasterEditor(loads(text, "master"))
        assert editor.unset_override("smtp/inet", name)
        rest = {k: v for k, v in case.overrides.items() if k != name}
        assert _postconf_overrides(editor.text) == [
            fold(f"smtp/inet/{k} = {v}") for k, v in sorted(rest.items())
        ]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_pfedit_service_set(case: Case, tmp_path: Path) -> None:
    (tmp_path / "main.cf").write_text(MAIN)
    (tmp_path / "master.cf").write_text(_text(case))
    invoke(pfedit, ["-c", tmp_path, "service", "set", "smtp/inet", "smtpd_client_restrictions=permit"], 0)
    wanted = {**case.overrides, "smtpd_client_restrictions": "permit"}
    assert _postconf_overrides((tmp_path / "master.cf").read_text()) == [
        fold(f"smtp/inet/{k} = {v}") for k, v in sorted(wanted.items())
    ]
