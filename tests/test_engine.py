"""The pflint engine and CLI conventions: formats, selection, thresholds, suppressions, baselines,
configuration files, rule documentation.  The runs select the syntax rules (SYN, and PFL for
suppressions), so that a new rule elsewhere changes nothing here."""

from __future__ import annotations

import json

import jsonschema
import pytest
from conftest import SHARED, invoke

from pfconf import _toml, postfix
from pfconf.cli.pflint import cli as pflint
from pfconf.lint.rule import DOC_HEADINGS, all_rules

ORPHAN_MAIN = "  stray = 1\ncompatibility_level = 3.11\nmyhostname = a\n"


def run(args, expect, select="SYN,PFL"):  # type: ignore[no-untyped-def]
    """pflint with the rules these tests are about, insisting on the exit status."""
    return invoke(pflint, ["--select", select, *args] if select else list(args), expect)


@pytest.fixture
def confdir(tmp_path):
    (tmp_path / "main.cf").write_text(ORPHAN_MAIN)
    (tmp_path / "master.cf").write_text("smtp inet n - n - - smtpd\n")
    return tmp_path


def test_json_format(confdir):
    result = run(["--format", "json", confdir / "main.cf"], 1)
    (finding,) = json.loads(result.output)
    assert finding == {
        "code": "SYN002",
        "severity": "warning",
        "message": finding["message"],
        "path": str(confdir / "main.cf"),
        "line": 1,
        "column": 1,
        "end_line": 1,
        "end_column": 12,
        "parameter": None,
        "service": None,
        "fix": None,
    }


def test_sarif_validates_against_the_schema(confdir):
    result = run(["--format", "sarif", confdir], 1)
    schema = json.loads((SHARED / "schemas" / "sarif-schema-2.1.0.json").read_text())
    document = json.loads(result.output)
    jsonschema.validate(document, schema)
    (res,) = document["runs"][0]["results"]
    assert res["ruleId"] == "SYN002"
    assert res["locations"][0]["physicalLocation"]["region"]["startLine"] == 1
    rules = document["runs"][0]["tool"]["driver"]["rules"]
    assert rules[res["ruleIndex"]]["id"] == "SYN002"


def test_github_format(confdir):
    result = run(["--format", "github", confdir / "main.cf"], 1)
    line = result.output.strip()
    assert line.startswith(
        f"::warning file={confdir}/main.cf,line=1,col=1,endLine=1,endColumn=12,title=SYN002::SYN002 "
    )


def test_text_format_marks_the_span(confdir):
    result = run([confdir / "main.cf"], 1)
    lines = result.output.splitlines()
    assert lines[0].startswith(f"{confdir}/main.cf:1:1: SYN002 warning ")
    assert lines[1:] == ["    stray = 1", "  ^^^^^^^^^^^"]


def test_color_only_when_asked(confdir):
    assert "\x1b[" not in run([confdir], 1).output
    assert "\x1b[" in run(["--color", "always", confdir], 1).output


def test_select_and_ignore(confdir):
    run(["--ignore", "SYN002", confdir], 0)
    run(["--select", "SYN", confdir], 1, select=None)
    run(["--select", "PFL001", confdir], 0, select=None)
    run(["--select", "XYZ999", confdir], 2, select=None)


def test_severity_threshold(confdir):
    run(["--severity-threshold", "error", confdir], 0)
    run(["--severity-threshold", "warning", confdir], 1)


def test_findings_only_for_named_files(tmp_path):
    (tmp_path / "main.cf").write_text(ORPHAN_MAIN)
    (tmp_path / "master.cf").write_text("  stray\nsmtp inet n - n - - smtpd\n")
    result = run(["--format", "json", tmp_path / "master.cf"], 1)
    assert {f["path"] for f in json.loads(result.output)} == {str(tmp_path / "master.cf")}


def test_syntax_error_does_not_stop_other_files(tmp_path):
    (tmp_path / "main.cf").write_text("bogus\n")
    (tmp_path / "master.cf").write_text("  stray\nsmtp inet n - n - - smtpd\n")
    codes = [f["code"] for f in json.loads(run(["--format", "json", tmp_path], 1).output)]
    assert codes == ["SYN001", "SYN002"]


def test_suppression_with_reason(tmp_path):
    path = tmp_path / "master.cf"
    path.write_text(
        "  stray\n# pflint: disable=SYN002 -- inherited from the old host\nsmtp inet n - n - - smtpd\n"
    )
    # the orphan is above, not below: the suppression covers the smtp service only
    codes = [f["code"] for f in json.loads(run(["--format", "json", path], 1).output)]
    assert codes == ["SYN002", "PFL001"]


def test_suppression_silences_the_entry_below(tmp_path):
    path = tmp_path / "main.cf"
    path.write_text("myhostname = a\n# pflint: disable=SYN001\nbogus\n")
    # a file with a syntax error has no tree, so nothing can be suppressed in it
    codes = [f["code"] for f in json.loads(run(["--format", "json", path], 1).output)]
    assert codes == ["SYN001"]


def test_baseline_is_keyed_by_rule_not_line(tmp_path):
    main = tmp_path / "main.cf"
    main.write_text(ORPHAN_MAIN)
    (tmp_path / "master.cf").write_text("smtp inet n - n - - smtpd\n")
    baseline = tmp_path / "baseline.toml"
    run(["--write-baseline", baseline, tmp_path], 0)
    data = _toml.loads(baseline.read_text())
    assert data["finding"] == [
        {"path": "main.cf", "code": "SYN002", "parameter": "", "service": "", "count": 1}
    ]
    main.write_text("\n\n# moved down\n" + ORPHAN_MAIN.replace("  stray", "# c\n  stray"))
    run(["--baseline", baseline, tmp_path], 0)
    (tmp_path / "master.cf").write_text("  new\nsmtp inet n - n - - smtpd\n")
    result = run(["--baseline", baseline, "--format", "json", tmp_path], 1)
    assert [f["path"] for f in json.loads(result.output)] == [str(tmp_path / "master.cf")]


def test_bad_baseline(tmp_path, confdir):
    result = run(["--baseline", tmp_path / "none.toml", confdir], 2)
    assert "none.toml" in result.output


def test_configuration_file_found_by_walking_up(tmp_path):
    etc = tmp_path / "fleet" / "host1"
    etc.mkdir(parents=True)
    (etc / "main.cf").write_text(ORPHAN_MAIN)
    (tmp_path / "fleet" / "pyproject.toml").write_text('[tool.pflint]\nignore = ["SYN002"]\n')
    run([etc], 0)
    run(["--isolated", etc], 1)
    (tmp_path / "fleet" / "pyproject.toml").write_text(
        '[tool.pflint]\nseverity = { SYN002 = "info" }\n'
    )
    result = run(["--severity-threshold", "warning", etc], 0)
    assert " SYN002 info " in result.output


def test_pflint_toml_and_per_file_ignores(tmp_path):
    (tmp_path / "main.cf").write_text(ORPHAN_MAIN)
    (tmp_path / "other.cf").write_text(ORPHAN_MAIN)
    (tmp_path / ".pflint.toml").write_text('per-file-ignores = { "other.cf" = ["SYN"] }\n')
    result = run(["--format", "json", tmp_path / "main.cf", tmp_path / "other.cf"], 1)
    assert [f["path"] for f in json.loads(result.output)] == [str(tmp_path / "main.cf")]


def test_bad_configuration_is_a_usage_error(tmp_path):
    (tmp_path / "main.cf").write_text("a = b\n")
    (tmp_path / ".pflint.toml").write_text("selectt = []\n")
    result = run([tmp_path / "main.cf"], 2)
    assert "unknown pflint setting 'selectt'" in result.output


def test_postfix_version_option(confdir):
    run(["--postfix-version", "3.7", confdir], 1)
    result = run(["--postfix-version", "three", confdir], 2)
    assert "'three' is not a version" in result.output


def test_verbose_says_stock_master(tmp_path):
    (tmp_path / "main.cf").write_text("compatibility_level = 3.11\nmyhostname = a\n")
    result = run(["-v", tmp_path / "main.cf"], 0)
    assert "assuming Postfix's stock master.cf" in result.output


def test_list_rules_and_explain():
    result = run(["--list-rules"], 0, select=None)
    codes = [line.split()[0] for line in result.output.splitlines()]
    assert codes == sorted(codes) and "SYN001" in codes
    result = run(["--explain", "SYN002"], 0, select=None)
    for heading in DOC_HEADINGS:
        assert f"## {heading}" in result.output
    run(["--explain", "NOPE1"], 2, select=None)


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.code)
def test_every_rule_is_documented(rule):
    # issue #11 item 4: the Postfix source of the claims follows the claims themselves
    assert DOC_HEADINGS.index("Postfix source") == DOC_HEADINGS.index("Why it matters") + 1
    sections = rule.sections()
    assert list(sections) == list(DOC_HEADINGS), f"{rule.code} docstring headings"
    assert all(sections[h].strip() for h in DOC_HEADINGS)
    assert rule.name == rule.name.lower() and " " not in rule.name
    assert rule.summary and not rule.summary.endswith(".")


def test_postfix_version_auto_asks_postconf(confdir):
    from oracle import require_postconf

    require_postconf()
    result = run(["-v", "--postfix-version", "auto", confdir], 1)
    assert f"judging for Postfix {postfix.installed_version()}" in result.output


def test_service_view_is_main_cf_plus_overrides(tmp_path):
    """Rules judge smtpd settings per service: the service's -o options win over main.cf."""
    from pfconf import load
    from pfconf.kb import KnowledgeBase
    from pfconf.lint.context import Context
    from pfconf.model import Override, Parameter

    (tmp_path / "main.cf").write_text(
        "smtpd_tls_security_level = encrypt\nsmtpd_sasl_auth_enable = yes\n"
    )
    (tmp_path / "master.cf").write_text(
        "smtp inet n - n - - smtpd -o smtpd_tls_security_level=may\n"
        "submission inet n - n - - smtpd\n"
        "pickup unix n - n 60 1 pickup\n"
    )
    main, master = load(tmp_path / "main.cf"), load(tmp_path / "master.cf")
    ctx = Context(
        main, master, str(tmp_path / "main.cf"), str(tmp_path / "master.cf"), KnowledgeBase()
    )
    smtp, submission = ctx.smtpd_services
    assert smtp.value("smtpd_tls_security_level") == "may"
    assert isinstance(smtp.origin("smtpd_tls_security_level"), Override)
    assert submission.value("smtpd_tls_security_level") == "encrypt"
    assert isinstance(submission.origin("smtpd_tls_security_level"), Parameter)
    assert smtp.value("smtpd_sasl_auth_enable") == "yes"
    assert smtp.value("smtpd_helo_required") is None


def test_master_cf_without_main_cf_skips_rules_that_need_it(tmp_path):
    """What main.cf leaves unset is unknown without main.cf: no guessing from defaults."""
    from pfconf.lint.engine import lint

    master = tmp_path / "master.cf"
    master.write_text(
        "smtp      inet  n       -       n       -       -       smtpd\n"
        "submission inet n       -       n       -       -       smtpd\n"
        "  -o smtpd_sasl_auth_enable=yes\n"
    )
    run = lint([str(master)])
    assert not [f for f in run.findings if f.code in ("SASL001", "TLS003")]
    assert any("no main.cf beside it" in note and "SASL001" in note for note in run.notes)
    (tmp_path / "main.cf").write_text("compatibility_level = 3.11\n")
    with_main = lint([str(master)])
    assert [f.line for f in with_main.findings if f.code == "SASL001"] == [3]


# -- how rules report ---------------------------------------------------------------------------

PROBE_MAIN = "myhostname = mail.example.com\nmynetworks = 127.0.0.0/8, 10.0.0.0/8\n"
PROBE_MASTER = "smtp inet n - n - - smtpd\n  -o smtpd_tls_security_level=may\n"


def _probe_dir(tmp_path):  # type: ignore[no-untyped-def]
    (tmp_path / "main.cf").write_text(PROBE_MAIN)
    (tmp_path / "master.cf").write_text(PROBE_MASTER)
    return tmp_path


def _probe(check, code="TST901"):  # type: ignore[no-untyped-def]
    """A rule outside the registry: the engine runs whatever rules it is given."""
    from pfconf.lint.rule import Rule

    return type(
        "Probe", (Rule,),
        {"code": code, "name": "probe", "severity": "warning", "summary": "a probe",
         "check": check},
    )  # fmt: skip


def test_a_rule_says_what_and_where_and_the_engine_fills_in_the_rest(tmp_path):
    from pfconf.lint import location as at
    from pfconf.lint.engine import lint

    def check(self, ctx):  # type: ignore[no-untyped-def]
        entry = ctx.main.get("mynetworks")
        self.report(at.item(entry, entry.items[1]), "the second network")
        (config,) = ctx.smtpd_services
        override = config.service.override("smtpd_tls_security_level")
        self.report(at.override(config, override), "the override", severity="error")
        assert ctx.where_set(config, "myhostname") == at.value(
            ctx.main.get("myhostname"), service="smtp/inet"
        )

    directory = _probe_dir(tmp_path)
    findings = lint([str(directory / "main.cf"), str(directory / "master.cf")],
                    rules=[_probe(check)]).findings  # fmt: skip
    first, second = findings
    assert (first.code, first.severity, first.path) == (
        "TST901", "warning", str(directory / "main.cf"),
    )  # fmt: skip
    assert (first.line, first.column, first.end_column) == (2, 27, 37)
    assert first.parameter == "mynetworks"
    assert (second.severity, second.line) == ("error", 2)
    assert second.path == str(directory / "master.cf")
    assert (second.parameter, second.service) == ("smtpd_tls_security_level", "smtp/inet")


def test_a_rule_written_with_the_old_ctx_helpers_still_runs(tmp_path):
    """Rules that yield what ``ctx.at_*`` build (the way before Rule.report) give the same
    findings as the new way: the helpers are thin wrappers over it."""
    from pfconf.lint import location as at
    from pfconf.lint.engine import lint

    def old(self, ctx):  # type: ignore[no-untyped-def]
        entry = ctx.main.get("mynetworks")
        yield ctx.at_name(type(self), entry, "name")
        yield ctx.at_item(type(self), entry, entry.items[1], "item", service="x")
        yield ctx.at_span(type(self), ctx.master_path, entry.name_span, "span", parameter="p")
        (config,) = ctx.smtpd_services
        yield ctx.at_origin(type(self), config, "smtpd_tls_security_level", "origin")

    def new(self, ctx):  # type: ignore[no-untyped-def]
        entry = ctx.main.get("mynetworks")
        self.report(at.name(entry), "name")
        self.report(at.item(entry, entry.items[1], service="x"), "item")
        self.report(at.span(at.File.MASTER, entry.name_span, parameter="p"), "span")
        (config,) = ctx.smtpd_services
        self.report(ctx.where_set(config, "smtpd_tls_security_level"), "origin")

    directory = _probe_dir(tmp_path)
    files = [str(directory / "main.cf"), str(directory / "master.cf")]
    before = lint(files, rules=[_probe(old)]).findings
    assert len(before) == 4 and before == lint(files, rules=[_probe(new)]).findings


def test_the_engine_reports_each_finding_once(tmp_path):
    """Rules judge each smtpd service, and services share main.cf's lists: the engine keeps
    one of identical findings (code, file, span, message), without the rule keeping count."""
    from pfconf.lint import location as at
    from pfconf.lint.engine import lint

    def check(self, ctx):  # type: ignore[no-untyped-def]
        entry = ctx.main.get("mynetworks")
        for config in ctx.smtpd_services:
            self.report(at.value(entry, service=config.key), "same words")
            self.report(at.value(entry), f"for {config.key}")

    (tmp_path / "main.cf").write_text(PROBE_MAIN)
    (tmp_path / "master.cf").write_text(PROBE_MASTER + "submission inet n - n - - smtpd\n")
    main = str(tmp_path / "main.cf")
    findings = lint([main], rules=[_probe(check)]).findings
    assert [(f.message, f.service) for f in findings] == [
        ("same words", "smtp/inet"), ("for smtp/inet", None), ("for submission/inet", None),
    ]  # fmt: skip
    once = _probe(check)
    once.one_finding_per_place = True  # the first service's words stand for all
    assert [f.message for f in lint([main], rules=[once]).findings] == ["same words"]


def test_a_dead_dnsbl_in_main_cf_is_reported_once_for_all_services(tmp_path):
    from pfconf.lint.engine import Options, lint

    (tmp_path / "main.cf").write_text(
        "compatibility_level = 3.11\n"
        "smtpd_recipient_restrictions = reject_unauth_destination,\n"
        "    reject_rbl_client dnsbl.njabl.org\n"
    )
    (tmp_path / "master.cf").write_text(PROBE_MASTER + "2525 inet n - n - - smtpd\n")
    run = lint([str(tmp_path / "main.cf")], Options(select=("RBL",)))
    assert [(f.code, f.line) for f in run.findings] == [("RBL002", 3)]


def test_items_that_share_a_place_are_each_judged(tmp_path):
    """In a -o { ... } list over several lines every restriction carries the option's span:
    each one is still judged (a dnsbl.njabl.org there, which rejects all mail, went
    unreported while the rule kept its own record of places reported)."""
    from pfconf.lint.engine import Options, lint

    (tmp_path / "main.cf").write_text("compatibility_level = 3.11\n")
    (tmp_path / "master.cf").write_text(
        "smtp inet n - n - - smtpd\n"
        "  -o { smtpd_recipient_restrictions = reject_rbl_client cbl.abuseat.org,\n"
        "     reject_rbl_client dnsbl.njabl.org, reject_unauth_destination }\n"
    )
    run = lint([str(tmp_path / "master.cf")], Options(select=("RBL001", "RBL002")))
    assert [(f.code, f.line) for f in run.findings] == [("RBL001", 2), ("RBL002", 2)]


@pytest.mark.parametrize("case", ["demo", "rules/PFL001/fire", "rules/RLY003/fire-mynetworks"])
def test_documents_in_memory_lint_as_their_files(case):
    """lint_documents gives what lint gives for the same files: suppressions, the stock
    master.cf where there is none, the findings of both files."""
    from conftest import CORPUS

    from pfconf import load
    from pfconf.lint.engine import lint, lint_documents

    directory = CORPUS / case
    main, master = directory / "main.cf", directory / "master.cf"
    files = [str(p) for p in (main, master) if p.exists()]
    on_disk = lint(files)
    in_memory = lint_documents(
        load(str(main)),
        load(str(master)) if master.exists() else None,
        main_path=str(main),
        master_path=str(master),
    )
    assert in_memory.findings == on_disk.findings and on_disk.findings
    assert in_memory.notes == on_disk.notes and in_memory.files == on_disk.files


def test_json_gives_each_fix_with_its_applicability(tmp_path):
    """A fix pflint --fix can make (main.cf) is safe or unsafe; one in a master.cf -o can only
    be shown: not "safe", whatever it would be by hand."""
    (tmp_path / "main.cf").write_text(
        "compatibility_level = 3.11\nbroken_sasl_auth_clients = yes\n"
        "smtpd_client_restrictions = reject_rbl_client dnsbl.sorbs.net\n"
    )
    (tmp_path / "master.cf").write_text(
        "smtp inet n - n - - smtpd\n"
        "  -o smtpd_helo_restrictions=reject_rbl_client,dnsbl.sorbs.net\n"
    )
    result = run(["--format", "json", tmp_path], 1, select="RBL001,SASL004")
    fixes = {(f["path"].rsplit("/", 1)[1], f["line"]): f["fix"] for f in json.loads(result.output)}
    assert fixes == {
        ("main.cf", 2): {
            "description": "remove broken_sasl_auth_clients", "safe": True,
            "parameter": "broken_sasl_auth_clients", "value": None, "applicability": "safe",
        },
        ("main.cf", 3): {
            "description": "remove reject_rbl_client dnsbl.sorbs.net", "safe": True,
            "parameter": "smtpd_client_restrictions", "value": None, "applicability": "safe",
        },
        ("master.cf", 2): {
            "description": "remove reject_rbl_client dnsbl.sorbs.net", "safe": False,
            "parameter": None, "value": None, "applicability": "display-only",
        },
    }  # fmt: skip


def test_a_fix_without_an_edit_can_only_be_shown():
    from pfconf.lint.finding import Applicability, Fix, UnsetParameter

    with pytest.raises(ValueError, match="can only be shown"):
        Fix("delete it", None, Applicability.SAFE)
    assert not Fix.display_only("look at it").applies(unsafe=True)
    unsafe = Fix.unsafe("delete it", UnsetParameter("biff"))
    assert (unsafe.applies(), unsafe.applies(unsafe=True)) == (False, True)
