"""pflint --live as a whole: off unless asked, the Host's reading of the machine, the model's
list of tables, and LIVE findings going through the same engine, formats, suppressions and
baselines as static ones."""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path

from conftest import ROOT, invoke
from oracle import require_postconf

from pfconf import loads
from pfconf.cli.pflint import cli
from pfconf.lint import Options, lint
from pfconf.lint.rule import all_rules
from pfconf.live import Host
from pfconf.live import host as host_module
from pfconf.live.tablefiles import client_settings, logical_lines, secret_settings
from pfconf.semantics import Postfix
from pfconf.semantics.tables import READ, UPDATE

# -- without --live, the host is not read ----------------------------------------------------

_EVENTS: list[tuple[str, str]] = []
_RECORDING = threading.Event()


def _audit(event: str, args: tuple[object, ...]) -> None:
    if _RECORDING.is_set() and event in ("open", "os.listdir", "os.scandir", "subprocess.Popen"):
        _EVENTS.append((event, str(args[0]) if args else ""))


sys.addaudithook(_audit)  # hooks cannot be removed: this one records only while asked


def _configuration(tmp_path: Path) -> tuple[Path, list[str]]:
    """A main.cf whose tables would all be findings under --live: the files they name."""
    tables = tmp_path / "tables"
    tables.mkdir()
    (tables / "virtual").write_text("a@example.com b\n", encoding="utf-8")  # no .db
    (tables / "bad.cidr").write_text("10.1.2.3/8 OK\n", encoding="utf-8")
    main = tmp_path / "main.cf"
    main.write_text(
        f"virtual_alias_maps = hash:{tables}/virtual\n"
        f"smtpd_client_restrictions = check_client_access cidr:{tables}/bad.cidr\n"
        f"header_checks = regexp:{tables}/missing\n",
        encoding="utf-8",
    )
    return main, [str(p) for p in tables.iterdir()] + [f"{tables}/missing"]


def test_without_live_nothing_beyond_the_configuration_is_read(tmp_path, monkeypatch):
    main, table_files = _configuration(tmp_path)

    def no_host(*args: object, **kwargs: object) -> None:
        raise AssertionError("a Host was made without --live")

    monkeypatch.setattr(host_module.Host, "__init__", no_host)
    _EVENTS.clear()
    _RECORDING.set()
    try:
        findings = lint([str(main)]).findings
    finally:
        _RECORDING.clear()
    assert not [f for f in findings if f.code.startswith("LIVE")]
    opened = {path for _, path in _EVENTS}
    assert not opened & {*table_files, f"{tmp_path}/tables"}
    assert not [e for e in _EVENTS if e[0] == "subprocess.Popen"]
    # the same configuration under --live: the tables are read and found wanting
    monkeypatch.undo()
    require_postconf()
    _EVENTS.clear()
    _RECORDING.set()
    try:
        found = lint([str(main)], Options(live=True, select=("LIVE",))).findings
    finally:
        _RECORDING.clear()
    assert {"LIVE002", "LIVE004", "LIVE005"} <= {f.code for f in found}
    # the audit hook sees what --live opens and runs: its silence above means something
    assert f"{tmp_path}/tables/bad.cidr" in {path for _, path in _EVENTS}
    assert [e for e in _EVENTS if e[0] == "subprocess.Popen"]


def test_live_rules_say_they_are_live_and_only_they_are_lookup_table_rules():
    live = [r.code for r in all_rules() if r.live]
    assert live and all(code.startswith("LIVE") for code in live)
    assert all(r.live for r in all_rules() if r.code.startswith("LIVE"))


def test_the_pre_commit_hook_never_runs_live():
    hooks = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    assert "pflint" in hooks and "--live" not in hooks


# -- the same engine: formats, suppressions, baselines, exit status ---------------------------


def _unbuilt(tmp_path: Path, pragma: str = "") -> Path:
    require_postconf()
    source = tmp_path / "virtual"
    source.write_text("a@example.com b\n", encoding="utf-8")
    (tmp_path / "main.cf").write_text(
        f"{pragma}virtual_alias_maps = hash:{source}\n", encoding="utf-8"
    )
    return tmp_path


def test_live_findings_in_json_and_sarif(tmp_path):
    _unbuilt(tmp_path)
    result = invoke(cli, ["--live", "--select", "LIVE002", "--format", "json", tmp_path], 1)
    [finding] = json.loads(result.output)
    assert finding["code"] == "LIVE002" and finding["parameter"] == "virtual_alias_maps"
    assert (finding["line"], finding["column"]) == (1, 22)
    assert finding["path"].endswith("main.cf") and f"{tmp_path}/virtual.db" in finding["message"]
    result = invoke(cli, ["--live", "--select", "LIVE002", "--format", "sarif", tmp_path], 1)
    sarif = json.loads(result.output)
    [found] = sarif["runs"][0]["results"]
    assert found["ruleId"] == "LIVE002"
    rules = {r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert "LIVE002" in rules


def test_without_the_flag_the_cli_reports_no_live_finding(tmp_path):
    _unbuilt(tmp_path)
    result = invoke(cli, ["--select", "LIVE", tmp_path], 0)
    assert result.output == ""


def test_a_suppression_silences_a_live_finding(tmp_path):
    _unbuilt(tmp_path, "# pflint: disable=LIVE002 -- built by our deployment\n")
    result = invoke(cli, ["--live", "--select", "LIVE002,PFL001", tmp_path], 0)
    assert result.output == ""


def test_a_baseline_accepts_live_findings(tmp_path):
    _unbuilt(tmp_path)
    baseline = tmp_path / "baseline.toml"
    invoke(cli, ["--live", "--select", "LIVE", "--write-baseline", baseline, tmp_path], 0)
    assert "LIVE002" in baseline.read_text(encoding="utf-8")
    invoke(cli, ["--live", "--select", "LIVE", "--baseline", baseline, tmp_path], 0)


def test_explain_and_docs_cover_live_rules():
    result = invoke(cli, ["--explain", "LIVE005"], 0)
    assert "## Postfix source" in result.output and "dict_cidr.c" in result.output
    docs = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert "\n## LIVE005\n" in docs


def test_verbose_says_what_the_host_could_not_answer(tmp_path, monkeypatch):
    _unbuilt(tmp_path)
    monkeypatch.setattr("pfconf.postfix.find_program", lambda name: None)
    result = invoke(cli, ["--live", "-v", "--select", "LIVE", tmp_path], 1)
    assert "postconf is not installed here" in result.output
    # without Postfix's tools, what needs no tool is still checked
    assert "LIVE002" in result.output


# -- the Host ------------------------------------------------------------------------------


def test_the_host_says_what_is_wrong_with_a_path_and_never_raises(tmp_path):
    host = Host()
    (tmp_path / "file").write_text("x", encoding="utf-8")
    os.symlink(tmp_path / "nowhere", tmp_path / "dangling")
    os.symlink(tmp_path / "loop", tmp_path / "loop")
    os.mkfifo(tmp_path / "fifo")
    assert host.inspect(str(tmp_path / "file")).kind == "file"
    assert host.inspect(str(tmp_path / "absent")).problem == "does not exist"
    dangling = host.inspect(str(tmp_path / "dangling"))
    assert dangling.problem == f"is a dangling symbolic link to {tmp_path / 'nowhere'}"
    assert host.inspect(str(tmp_path / "loop")).problem == "is a symbolic link loop"
    assert host.inspect(str(tmp_path / "fifo")).kind == "fifo"
    # a FIFO is never opened (opening it would wait for a writer)
    assert host.read(str(tmp_path / "fifo")).problem == (
        "is a named pipe (FIFO), not a regular file"
    )
    assert host.read(str(tmp_path / "dangling")).data is None
    assert host.read(str(tmp_path / "file")).data == b"x"
    assert host.listdir(str(tmp_path / "absent")).problem == "does not exist"
    assert str(tmp_path / "fifo") in host.looked_at


def test_the_host_reads_no_more_than_its_limit(tmp_path):
    (tmp_path / "big").write_bytes(b"x" * 100)
    found = Host().read(str(tmp_path / "big"), limit=10)
    assert found.data is None and "larger than 10 bytes" in (found.problem or "")


def test_the_host_resolves_paths_as_a_daemon_does():
    queue = "/var/spool/postfix"
    assert Host.resolve("/etc/x", queue_directory=queue) == "/etc/x"
    assert Host.resolve("private/auth", queue_directory=queue) == f"{queue}/private/auth"
    assert Host.resolve("/run/sock", queue_directory=queue, chroot=True) == f"{queue}/run/sock"


def test_the_host_runs_postfix_tools_with_a_time_limit(monkeypatch):
    calls = []

    def fake_run(name, args, *, config_dir=None, timeout=0.0, umask=-1):
        calls.append((name, tuple(args), timeout))
        raise host_module.postfix.PostfixError(f"{name}: no answer after {timeout:g} s")

    monkeypatch.setattr(host_module.postfix, "run", fake_run)
    host = Host(timeout=3)
    assert host.table_types() is None
    assert calls == [("postconf", ("-m",), 3)]
    assert host.notes == ["--live: postconf: no answer after 3 s"]
    host.close()


def test_the_live_model_is_the_installed_postfix_with_its_build_defaults(tmp_path):
    require_postconf()
    from pfconf.kb import KnowledgeBase
    from pfconf.lint.context import Context

    host = Host()
    ctx = Context(loads("", "main"), None, "main.cf", None, KnowledgeBase(), host=host)
    model = ctx.host_postfix
    assert model.version == host.postfix_version()
    assert model.config.value("alias_maps") == host.compiled_defaults()["alias_maps"]


# -- the tables the model finds -------------------------------------------------------------


def test_every_place_a_table_is_named_is_found():
    main = loads(
        "virtual_alias_maps = proxy:hash:/etc/postfix/virtual,"
        " unionmap:{regexp:/etc/a.re, cidr:/etc/b.cidr}\n"
        "transport_maps = pipemap:{hash:/etc/t1, inline:{a=b}}\n"
        "smtpd_restriction_classes = strict\n"
        "strict = check_sender_access hash:/etc/strict\n"
        "smtpd_client_restrictions = check_client_access cidr:/etc/client.cidr,"
        " check_policy_service unix:private/policy, hash:/etc/bare\n"
        "mynetworks = 127.0.0.0/8 [::1]/128 cidr:/etc/mynet fe80::1\n"
        "smtpd_milters = unix:/run/milter\n"
        "postscreen_access_list = permit_mynetworks cidr:/etc/psc.cidr\n"
        "address_verify_map = btree:/var/lib/postfix/verify\n",
        "main",
    )
    master = loads(
        "smtp inet n - y - - smtpd\n"
        "submission inet n - y - - smtpd\n"
        "  -o smtpd_recipient_restrictions=check_recipient_access,hash:/etc/sub\n"
        "  -o smtp_sasl_password_maps=hash:/etc/not_read_by_smtpd\n"
        "cleanup unix n - y - 0 cleanup\n"
        "  -o header_checks=regexp:/etc/cleanup_checks\n"
        "rewrite unix - - y - - trivial-rewrite\n"
        "verify unix - - y - 1 verify\n"
        "relay unix - - y - - smtp\n"
        "  -o smtp_sasl_password_maps=hash:/etc/relay_passwd\n",
        "master",
    )
    references = Postfix(main, master, (3, 7)).table_references
    found = {(r.parameter, r.text, r.daemon.key if r.daemon else None) for r in references}
    assert {
        ("virtual_alias_maps", "hash:/etc/postfix/virtual", None),
        ("virtual_alias_maps", "regexp:/etc/a.re", None),
        ("virtual_alias_maps", "cidr:/etc/b.cidr", None),
        ("transport_maps", "hash:/etc/t1", None),
        ("transport_maps", "inline:{a=b}", None),
        ("strict", "hash:/etc/strict", None),
        ("smtpd_client_restrictions", "cidr:/etc/client.cidr", None),
        ("smtpd_client_restrictions", "hash:/etc/bare", None),
        ("mynetworks", "cidr:/etc/mynet", None),
        ("smtpd_recipient_restrictions", "hash:/etc/sub", "submission/inet"),
        ("header_checks", "regexp:/etc/cleanup_checks", "cleanup/unix"),
        ("smtp_sasl_password_maps", "hash:/etc/relay_passwd", "relay/unix"),
    } <= found
    texts = {r.text for r in references}
    # a policy service, a milter socket, an IPv6 address are no tables; postscreen is not
    # run; smtpd does not read the smtp client's settings
    assert not texts & {
        "unix:private/policy",
        "unix:/run/milter",
        "fe80::1",
        "cidr:/etc/psc.cidr",
        "hash:/etc/not_read_by_smtpd",
    }
    proxied = [r for r in references if r.text == "hash:/etc/postfix/virtual"]
    assert proxied and all(r.proxied for r in proxied)
    accesses = {r.text: r.access for r in references}
    assert accesses["btree:/var/lib/postfix/verify"] == UPDATE
    assert accesses["cidr:/etc/mynet"] == READ
    override = next(r for r in references if r.text == "hash:/etc/sub")
    assert override.restriction == "check_recipient_access"


def test_a_finding_points_at_the_table_inside_its_word(tmp_path):
    require_postconf()
    (tmp_path / "main.cf").write_text(
        f"virtual_alias_maps = proxy:hash:{tmp_path}/v, unionmap:{{cidr:{tmp_path}/c}}\n",
        encoding="utf-8",
    )
    findings = lint([str(tmp_path / "main.cf")], Options(live=True, select=("LIVE",))).findings
    spots = {(f.code, f.column, f.end_column) for f in findings}
    first = len("virtual_alias_maps = proxy:") + 1
    second = len(f"virtual_alias_maps = proxy:hash:{tmp_path}/v, unionmap:{{") + 1
    assert ("LIVE002", first, first + len(f"hash:{tmp_path}/v")) in spots
    assert ("LIVE004", second, second + len(f"cidr:{tmp_path}/c")) in spots


def test_an_override_finding_points_into_master_cf(tmp_path):
    require_postconf()
    (tmp_path / "main.cf").write_text("", encoding="utf-8")
    (tmp_path / "master.cf").write_text(
        "smtp inet n - y - - smtpd\n"
        f"  -o smtpd_client_restrictions=check_client_access,cidr:{tmp_path}/none.cidr\n",
        encoding="utf-8",
    )
    findings = lint([str(tmp_path / "master.cf")], Options(live=True, select=("LIVE004",)))
    [finding] = findings.findings
    assert finding.path.endswith("master.cf") and finding.line == 2
    assert finding.service == "smtp/inet" and finding.parameter == "smtpd_client_restrictions"
    assert f"{tmp_path}/none.cidr does not exist" in finding.message


# -- readers of what the host gave -----------------------------------------------------------


def test_table_files_are_read_in_logical_lines():
    data = b"# c\n\nkey1 a\n  continued\n# inside\n  more\nkey2 b\n"
    assert logical_lines(data) == [(3, "key1 a  continued  more"), (7, "key2 b")]


def test_secrets_in_client_configurations():
    data = b"user = u\npassword = s3cret\nuri = mongodb://u:p@db/x\n"
    assert client_settings(data)["password"] == (2, "s3cret")
    assert secret_settings(data, ("password", "uri")) == [("password", 2), ("uri", 3)]
    assert secret_settings(b"uri = mongodb://db/x\n", ("uri",)) == []


def test_what_pflint_may_not_look_at_is_information_not_an_error(tmp_path, monkeypatch):
    """Postfix opens tables as root: pflint run by another user that is refused a look says
    so, as information, instead of claiming the table is broken."""
    require_postconf()
    source = tmp_path / "virtual"
    source.write_text("a@example.com b\n", encoding="utf-8")
    (tmp_path / "main.cf").write_text(f"virtual_alias_maps = hash:{source}\n", encoding="utf-8")
    real_lstat = os.lstat

    def refusing_lstat(path, *args, **kwargs):
        if str(path) == f"{source}.db":
            raise PermissionError(13, "Permission denied", str(path))
        return real_lstat(path, *args, **kwargs)

    monkeypatch.setattr(host_module.os, "lstat", refusing_lstat)
    monkeypatch.setattr("pfconf.lint.rules.live.common.os.geteuid", lambda: 1000)
    [finding] = lint([str(tmp_path / "main.cf")], Options(live=True, select=("LIVE002",))).findings
    assert (finding.code, finding.severity) == ("LIVE002", "info")
    assert (
        "pflint may not look at" in finding.message
        and "run pflint --live as root" in finding.message
    )
    # as root, the same refusal would be Postfix's too: an error
    monkeypatch.setattr("pfconf.lint.rules.live.common.os.geteuid", lambda: 0)
    [finding] = lint([str(tmp_path / "main.cf")], Options(live=True, select=("LIVE002",))).findings
    assert (finding.code, finding.severity) == ("LIVE002", "error")
    assert "cannot be examined: permission denied" in finding.message
