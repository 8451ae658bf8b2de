"""pfconf.semantics and pfconf.expand against postconf: values as the running Postfix sees them."""

from __future__ import annotations

import socket

import pytest
from conftest import CORPUS, real_files
from oracle import _lines, _run, fold, in_parallel, require_postconf

from pfconf import loads, postfix
from pfconf.expand import MAX_NESTING, expand
from pfconf.kb import KnowledgeBase, parse_version
from pfconf.semantics import Configuration


def _machine() -> dict[str, str]:
    """What this machine's Postfix says where the release's compiled-in default does not:
    values computed at start-up (myhostname...) and the choices of its build (directories)."""
    require_postconf()
    version = parse_version(postfix.installed_version())
    kb = KnowledgeBase(version[:2])
    proc = postfix.run("postconf", ["-d"])
    machine = {}
    for line in _lines(proc.stdout.decode()):
        name, _, value = line.partition(" =")
        value = value.removeprefix(" ")
        if kb.compiled_default(name) != value and name not in COMPUTED | {"myhostname", "mydomain"}:
            machine[name] = value
    return machine


#: Values Postfix computes at start-up from the machine, which the model leaves undefined
#: unless told: a comparison that needs one is skipped.
COMPUTED = {"mynetworks", "process_id", "process_name"}


def _expanded_by_postconf(data: bytes) -> tuple[int, dict[str, str]]:
    proc = _run(["-x"], {"main.cf": data, "master.cf": b""})
    directory = proc.directory  # type: ignore[attr-defined]
    values = {}
    for line in _lines(proc.stdout.decode("utf-8", "surrogateescape")):
        name, _, value = line.partition(" =")
        # $config_directory is where postconf was pointed (-c): the default, for pfconf
        values[name] = value.removeprefix(" ").replace(directory, "/etc/postfix")
    return proc.returncode, values


def _main_files() -> list:
    return [*real_files("main"), *sorted((CORPUS / "main").glob("*.cf"))]


def test_every_value_expands_as_postconf_x_shows_it():
    """For every real and bundled main.cf that postconf accepts, every parameter (defined or
    default, with its $names, ${name?...} and compatibility-level expressions) has the value
    postconf -x prints."""
    require_postconf()
    machine = _machine()
    version = parse_version(postfix.installed_version())[:2]
    files = [p for p in _main_files()]
    assert len(files) > 100
    readings = in_parallel(lambda p: _expanded_by_postconf(p.read_bytes()), files)
    compared = skipped = 0
    hostname = socket.gethostname()
    wrong = {}
    for path, (status, values) in zip(files, readings):
        if status != 0:
            continue
        config = Configuration(
            loads(path.read_bytes()), version=version, runtime=machine, hostname=hostname
        )
        for name, shown in values.items():
            expansion = config.expansion(name)
            if name in COMPUTED or (expansion and COMPUTED & set(expansion.undefined)):
                skipped += 1
                continue
            ours = expansion.text if expansion else None
            compared += 1
            if fold(ours or "") != fold(shown):
                wrong.setdefault(path.name, {})[name] = (ours, shown)
    assert not wrong, {k: dict(list(v.items())[:3]) for k, v in list(wrong.items())[:5]}
    assert compared > 100_000 and skipped < compared / 100


@pytest.mark.parametrize(
    "pattern, values, expected",
    [
        ("$a ${a} $(a)", {"a": "x"}, "x x x"),
        ("$$a", {"a": "x"}, "$a"),
        ("${a?yes}|${b?yes}|${a:no}|${b:no}", {"a": "x", "b": ""}, "yes|||no"),
        ("${a?{ y }:{ n }}", {"a": ""}, " n "),
        ("${{$a} == {1} ? {one} : {other}}", {"a": "1"}, "one"),
        ("${{10} > {9}?{num}:{text}}", {}, "num"),  # numbers compare as numbers
        ("${{b10} > {b9}?{num}:{text}}", {}, "text"),  # else as strings
        ("${{$c} <level {3.6} ? {old} : {new}}", {"c": "3.10"}, "new"),
        ("${{$c} <level {3.6} ? {old} : {new}}", {"c": "2"}, "old"),
        ("$a", {"a": "$b", "b": "deep"}, "deep"),  # recursive, as daemons expand
    ],
)
def test_expand(pattern, values, expected):
    assert expand(pattern, values.get).text == expected


def test_expand_reports_undefined_and_errors():
    result = expand("$nope and ${nope?x}", {}.get)
    assert result.text == " and " and result.undefined == ["nope"]
    assert "unreasonable macro call nesting" in expand("$a", {"a": "$a"}.get).errors[0]
    assert expand("${a", {}.get).errors == ['truncated macro reference: "${a"']
    deep = "${x?{" * 400 + "y" + "}}" * 400
    assert "nesting" in expand(deep, {"x": "1"}.get).errors[0]
    shallow = "${x?{" * (MAX_NESTING - 1) + "y" + "}}" * (MAX_NESTING - 1)
    assert expand(shallow, {"x": "1"}.get).text == "y"


@pytest.mark.parametrize(
    "pattern, values, stops",
    [
        # postconf 3.7 -x: fatal "mac_exp_eval: bad conversion: N" for these
        ("${{99999999999999999999} > {1}?{a}:{b}}", {}, "99999999999999999999"),
        ("${{1} < {9223372036854775808}?{a}}", {}, "9223372036854775808"),
        ("${{$n} == {0}?{a}}", {"n": "18446744073709551616"}, "18446744073709551616"),
        ("${{1} < {" + "9" * 5000 + "}?{a}}", {}, "9" * 5000),  # beyond int()'s digits
        # and these it compares: the largest long, leading zeros, text on one side
        ("${{9223372036854775807} == {09223372036854775807}?{a}}", {}, None),
        ("${{99999999999999999999} == {abc}?{a}}", {}, None),
        ("${{-99999999999999999999} < {1}?{a}}", {}, None),
    ],
)
def test_a_number_too_large_for_a_long_stops_the_expansion(pattern, values, stops):
    result = expand(pattern, values.get)
    if stops is None:
        assert result.fatal is None and not result.errors
    else:
        assert result.fatal == f"mac_exp_eval: bad conversion: {stops}"
        assert result.errors == [result.fatal]


def test_level_comparisons_read_levels_as_compat_level_from_string():
    """==level and friends convert with compat_level_from_string(), not atol_or_die(): a
    level out of its limits is a warning and an expansion error, not a fatal one."""
    for level in ("99999999999999999999", "3.1024", "9" * 5000):
        result = expand("${{" + level + "} ==level {3}?{a}}", {}.get)
        assert result.fatal is None
        assert result.errors == [f'malformed compatibility level syntax: "{level}"']
    assert expand("${{3.1023.1023} >level {3.6}?{a}}", {}.get).text == "a"
    assert expand("${{+3.6} ==level {3.6}?{a}}", {}.get).text == "a"  # strtol() takes a sign


def test_defaults_follow_the_compatibility_level():
    """Postfix 3.x's compatibility defaults are expressions of compatibility_level: the model
    gets them from the release's compiled-in default, not from a copy in a rule."""
    old = Configuration(loads("compatibility_level = 0\n"), version=(3, 7))
    new = Configuration(loads("compatibility_level = 3.6\n"), version=(3, 7))
    assert old.value("smtputf8_enable") == "no" and new.value("smtputf8_enable") == "yes"
    assert old.value("append_dot_mydomain") == "yes" and new.value("append_dot_mydomain") == "no"
    assert Configuration(loads(""), version=(2, 11)).value("smtputf8_enable") is None


def test_a_hash_word_ends_a_match_list():
    """match_list_parse() stops at a word that starts with "#" (util/match_list.c); other
    values keep the "#" and what follows."""
    config = Configuration(
        loads("mydestination = a, b # c, d\nrelay_domains = $mydestination\nbanner = x # y\n"),
        version=(3, 7),
    )
    listed = config.match_list("mydestination")
    assert listed is not None and listed.items == ("a", "b") and listed.ignored == "# c, d"
    assert config.match_list("relay_domains") == listed.__class__(
        "relay_domains", ("a", "b"), "# c, d"
    )
    assert config.reads_as_match_list("mynetworks")
    assert not config.reads_as_match_list("smtpd_recipient_restrictions")
    assert config.value("banner") == "x # y"


def test_lint_reads_match_lists_as_postfix_does(tmp_path):
    """SYN004 says that a match list ends at the "#"; PAR016 does not count a domain after it."""
    from pfconf.lint import lint

    (tmp_path / "main.cf").write_text(
        "mydestination = $myhostname, localhost # example.com\n"
        "virtual_mailbox_domains = example.com\n"
        "smtpd_banner = $myhostname ESMTP # hi\n"
    )
    findings = lint([str(tmp_path / "main.cf")]).findings
    messages = {f.code + ":" + str(f.line): f.message for f in findings}
    assert "stops reading the list mydestination" in messages["SYN004:1"]
    assert "is part of the value of smtpd_banner" in messages["SYN004:3"]
    assert not any(f.code == "PAR016" for f in findings)


@pytest.mark.parametrize(
    "main, state",
    [
        ("", "none"),
        # no certificate: STARTTLS is announced but answered with 454, no TLS session
        ("smtpd_tls_security_level = may\n", "none"),
        ("smtpd_tls_security_level = may\nsmtpd_tls_cert_file = /c.pem\n", "optional"),
        ("smtpd_use_tls = yes\nsmtpd_tls_cert_file = /c.pem\n", "optional"),
        ("smtpd_enforce_tls = YES\nsmtpd_tls_chain_files = /c.pem\n", "required"),
        (
            "smtpd_tls_security_level = none\nsmtpd_use_tls = yes\nsmtpd_tls_cert_file = /c\n",
            "none",
        ),
        # wrapper mode without a certificate: every connection is dropped
        ("smtpd_tls_wrappermode = yes\n", "unavailable"),
        ("smtpd_tls_wrappermode = yes\nsmtpd_tls_cert_file = /c.pem\n", "required"),
    ],
)
def test_server_tls(main, state):
    from pfconf.semantics import server_tls

    assert server_tls(loads(main).effective().get).state == state


def test_sasl001_offers_no_fix_that_would_switch_auth_off(tmp_path):
    """Without TLS, smtpd_tls_auth_only = yes removes AUTH: SASL001 offers no fix then, and
    the safe fix where TLS is optional."""
    from pfconf.lint import lint
    from pfconf.lint.finding import SetParameter

    (tmp_path / "main.cf").write_text("smtpd_sasl_auth_enable = yes\n")
    (finding,) = [f for f in lint([str(tmp_path / "main.cf")]).findings if f.code == "SASL001"]
    assert finding.fix is None and "no TLS at all" in finding.message
    (tmp_path / "main.cf").write_text(
        "smtpd_sasl_auth_enable = yes\nsmtpd_tls_security_level = may\n"
        "smtpd_tls_cert_file = /etc/ssl/certs/mail.pem\n"
    )
    (finding,) = [f for f in lint([str(tmp_path / "main.cf")]).findings if f.code == "SASL001"]
    assert finding.fix is not None
    assert finding.fix.edit == SetParameter("smtpd_tls_auth_only", "yes")


def test_rbl006_cites_a_permit_of_the_same_list_or_says_why_another_cannot_help(tmp_path):
    from pfconf.lint import lint

    (tmp_path / "main.cf").write_text(
        "smtpd_sasl_auth_enable = yes\n"
        "smtpd_client_restrictions = reject_rbl_client zen.spamhaus.org\n"
        "smtpd_recipient_restrictions = reject_rbl_client bl.spamcop.net,\n"
        "    permit_sasl_authenticated, reject_unauth_destination\n"
    )
    found = {
        f.line: f.message for f in lint([str(tmp_path / "main.cf")]).findings if f.code == "RBL006"
    }
    assert "cannot undo a reject from another list" in found[2]
    assert "before permit_sasl_authenticated (line 4) in smtpd_recipient_restrictions" in found[3]
