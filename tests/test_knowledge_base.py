"""The generated knowledge base agrees with the installed Postfix and is well formed."""

from __future__ import annotations

import re

from oracle import require_postconf

from pfconf import postfix
from pfconf.kb import KnowledgeBase, load_table, parse_version

KINDS = {
    "boolean",
    "time",
    "integer",
    "size",
    "list",
    "table_list",
    "restriction_list",
    "enum",
    "path",
    "text",
}


def _installed_version() -> tuple[int, ...]:
    require_postconf()
    return parse_version(postfix.installed_version())


def _postconf_d() -> str:
    """postconf -d: every parameter with its compiled-in default (needs no main.cf)."""
    require_postconf()
    proc = postfix.run("postconf", ["-d"])
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.decode()


def test_known_names_equal_postconf_d():
    require_postconf()
    version = _installed_version()
    out = _postconf_d()
    shown = {line.split(" = ")[0].split(" =")[0] for line in out.splitlines()}
    kb = KnowledgeBase(version[:2])
    known = set(kb.names())
    # postconf -d also lists <service>_<suffix> names for its built-in master.cf services
    suffixes = {s for v in load_table("parameters")["services"]["suffixes"].values() for s in v}
    service_made = {n for n in shown - known if any(n.endswith(s) for s in suffixes)}
    assert shown - known - service_made == set()
    # what pfconf knows beyond postconf -d is postconf's table of accepted legacy names
    legacy = {n for n in known - shown if kb.parameter(n).get("replacement")}
    assert known - shown - legacy == set()


def test_entries_are_well_formed():
    kb = KnowledgeBase()
    assert len(kb.parameters) > 900
    for name, info in kb.parameters.items():
        assert re.fullmatch(r"[a-z0-9_]+|[A-Za-z0-9_]+", name), name
        assert info["kind"] in KINDS, name
        assert info["sources"], name
        parse_version(info["introduced"])
        if "removed" in info:
            assert parse_version(info["removed"]) > parse_version(info["introduced"]), name


def test_known_facts():
    kb = KnowledgeBase()
    assert kb.parameter("smtpd_use_tls")["deprecated"] == "3.9"
    assert kb.parameter("smtpd_use_tls")["replacement"] == "smtpd_tls_security_level"
    assert kb.parameter("smtpd_relay_restrictions")["introduced"] == "2.10"
    assert kb.parameter("smtpd_tls_security_level")["introduced"] == "2.3"
    assert kb.parameter("message_size_limit")["kind"] == "size"
    assert kb.parameter("maximal_queue_lifetime")["unit"] == "d"
    assert kb.parameter("smtpd_sasl_application_name")["removed"] == "2.3"
    assert not kb.known("smtpd_sasl_application_name")
    assert kb.known("smtpd_sasl_application_name", (2, 2))
    assert (
        kb.restriction("reject_invalid_hostname")["replacement"] == "reject_invalid_helo_hostname"
    )
    assert kb.restriction("reject_rbl_client")["argument"] == "dns_zone"
    assert kb.restriction("check_client_access")["argument"] == "table"


def test_defaults_match_postconf_where_unchanged():
    require_postconf()
    out = _postconf_d()
    kb = KnowledgeBase()
    checked = 0
    for line in out.splitlines():
        name, _, value = line.partition(" = ")
        if name in (
            "message_size_limit",
            "mailbox_size_limit",
            "smtpd_banner",
            "maximal_queue_lifetime",
        ):
            assert " ".join(str(kb.parameter(name)["default"]).split()) == value.strip(), name
            checked += 1
    assert checked == 4


# Defaults that differ from the installed postconf -d for a reason the test cannot see:
# directories a distribution chooses when it builds Postfix, the release's own stamp, and
# defaults a stable branch changed in a patch release after the installed one (the history
# keeps the newest patch release of each x.y).
BUILD_CHOICES = {
    "daemon_directory",
    "html_directory",
    "manpage_directory",
    "readme_directory",
    "sample_directory",
    "mail_release_date",
    "meta_directory",
    "shlib_directory",
    "command_directory",
    "queue_directory",
    "data_directory",
    "sendmail_path",
    "newaliases_path",
    "mailq_path",
}
CHANGED_IN_PATCH_RELEASES = {
    "milter_default_action",
    "smtp_tls_dane_insecure_mx_policy",
    "tlsproxy_client_policy_maps",
    "tlsproxy_client_security_level",
}


def test_default_history_matches_postconf_d():
    """Each release's compiled-in default, from the DEF_* macros, is what postconf -d says
    for the installed release: the C-preprocessor work in tools/gen_parameters.py (string
    joins, aliases, arithmetic, #if/#ifdef branches) got the value right."""
    version = _installed_version()
    kb = KnowledgeBase(version[:2])
    checked = mismatched = 0
    wrong = {}
    for line in _postconf_d().splitlines():
        name, _, value = line.partition(" = ")
        expected = kb.compiled_default(name)
        if expected is None:
            continue
        checked += 1
        if expected != value and name not in BUILD_CHOICES | CHANGED_IN_PATCH_RELEASES:
            wrong[name] = (expected, value)
        mismatched += expected != value
    assert wrong == {}
    assert checked > 600
    assert mismatched <= len(BUILD_CHOICES | CHANGED_IN_PATCH_RELEASES)


def test_default_history_changes():
    kb = KnowledgeBase()
    # 3.0 made SMTPUTF8 depend on the compatibility level (RELEASE_NOTES-3.0)
    expected = "${{$compatibility_level} < {1} ? {no} : {yes}}"
    assert kb.compiled_default("smtputf8_enable", (3, 0)) == expected
    assert kb.compiled_default("smtpd_tls_security_level", (3, 7)) == ""
    assert kb.compiled_default("myhostname", (3, 7)) is None
    assert kb.compiled_default("message_size_limit", (2, 0)) == "10240000"
    assert kb.compiled_default("no_such_parameter") is None


def test_value_facts_from_the_source():
    """Limits, choices and word sets that tools/gen_parameters.py read from the source."""
    kb = KnowledgeBase((3, 7))
    assert kb.limits("smtpd_recipient_limit") == [{"since": "2.0", "program": "smtpd", "min": 1}]
    assert {"since": "2.0", "program": "all", "max": 10} in kb.limits("in_flow_delay")
    assert {"program": "all", "min": 1} in [
        {k: v for k, v in limit.items() if k != "since"} for limit in kb.limits("mail_owner")
    ]
    assert kb.choices("unknown_address_tempfail_action") == ["defer", "defer_if_permit"]
    assert "note" not in kb.choices("smtpd_forbid_bare_newline")
    assert "note" in KnowledgeBase((3, 9)).choices("smtpd_forbid_bare_newline")
    assert kb.choices("non_empty_end_of_header_action") is None  # a 3.11 parameter
    assert "software" in kb.words("notify_classes")
    assert kb.words("allow_mail_to_files") == ["alias", "forward", "include"]
    # int_filt.c maps these to 0 from 3.0 on; 2.x knows only notify and bounce
    assert kb.inert_words("internal_mail_filter_classes") == [
        "sendmail", "smtpd", "qmqpd", "forward", "verify",
    ]  # fmt: skip
    assert kb.inert_words("internal_mail_filter_classes", (2, 11)) == []
    assert kb.inert_words("notify_classes") == []
    assert kb.parameter("inet_protocols")["exact_case"] is True
    assert kb.parameter("smtpd_tls_security_level")["treated_as"]["verify"] == "encrypt"


def test_every_name_table_is_found():
    """Each table rules/parameter_tables.toml names gave words at some release: a table
    renamed or misspelt would otherwise leave its parameters unchecked without a word."""
    tables = load_table("parameter_tables")
    parameters = load_table("parameters")["parameters"]
    for section, key in (("choices", "choices"), ("sets", "words")):
        for group in tables[section]:
            for name in group["parameters"]:
                steps = parameters[name].get(key, [])
                assert any(step.get("values") for step in steps), (section, name)


_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# The one default that fails its own limit: virtual(8) needs virtual_mailbox_base set by
# hand (virtual.c: min 1, default empty); PAR019 reports it when virtual(8) delivers.
_REQUIRED_BY_HAND = {("virtual_mailbox_base", "virtual")}


def test_defaults_are_within_their_limits():
    """Postfix's own defaults pass its own checks: a min or max read wrongly from a
    configuration table would show here."""
    checked = 0
    for version in ((2, 11), (3, 7), KnowledgeBase().newest):
        kb = KnowledgeBase(version)
        for name in kb.names():
            info = kb.parameter(name)
            default = kb.compiled_default(name)
            if default is None or "$" in default or not kb.limits(name):
                continue
            if info["kind"] in ("integer", "size"):
                value = int(default)
            elif info["kind"] == "time":
                number, unit = re.fullmatch(r"(\d+)([smhdw]?)", default).groups()
                value = int(number) * _SECONDS[unit or info["unit"]]
            else:
                value = len(default.encode())
            for limit in kb.limits(name):
                if (name, limit["program"]) in _REQUIRED_BY_HAND:
                    assert value < limit["min"]
                    continue
                assert value >= limit.get("min", value), (version, name, limit)
                assert value <= limit.get("max", value), (version, name, limit)
                checked += 1
    assert checked > 500


# -- one status per parameter and release; retired parameters; start-up checks -----------------


def test_one_status_per_parameter_and_release():
    """Removed, ignored, deprecated: the knowledge base gives each parameter one status per
    release, and its data never says two of them for the same release."""
    kb = KnowledgeBase()
    assert kb.status("smtpd_use_tls", (3, 8)) == "current"
    assert kb.status("smtpd_use_tls", (3, 9)) == "deprecated"
    # postconf_unused.c: "deprecated and removed as of Postfix 3.12": removed, not both
    assert kb.status("tlsproxy_client_loglevel_parameter", (3, 11)) == "current"
    assert kb.status("tlsproxy_client_loglevel_parameter", (3, 12)) == "removed"
    assert "deprecated" not in kb.parameter("tlsproxy_client_loglevel_parameter")
    # ignored from 3.6 (proto/postconf.proto), though postconf warns only from 3.9
    assert kb.status("smtpd_tls_eecdh_grade", (3, 5)) == "current"
    assert kb.status("smtpd_tls_eecdh_grade", (3, 9)) == "ignored"
    assert kb.status("tls_legacy_public_key_fingerprints", (3, 10)) == "ignored"
    assert kb.status("tls_legacy_public_key_fingerprints", (3, 11)) == "removed"
    # under "#if 0" in postconf_unused.c: not deprecated at all
    assert kb.status("tls_eecdh_auto_curves", (3, 12)) == "current"
    assert kb.status("smtpd_relay_restrictions", (2, 9)) == "future"
    assert kb.status("no_such_parameter") == "unknown"
    # read through virtual_alias_maps' default ($virtual_maps) since 2.0
    assert kb.status("virtual_maps", (2, 5)) == "current"
    for name, info in kb.parameters.items():
        if "removed" in info and "deprecated" in info:
            assert parse_version(info["deprecated"]) < parse_version(info["removed"]), name
        if "ignored" in info:
            assert "deprecated" not in info, name
            assert "removed" not in info or parse_version(info["ignored"]) < parse_version(
                info["removed"]
            ), name


def test_every_retired_parameter_says_what_postfix_does_now():
    """PAR006 tells what Postfix does in place of a removed or ignored parameter, and which
    values of it still matched that (hardwired), from sources named in the data."""
    kb = KnowledgeBase()
    retired = [n for n, i in kb.parameters.items() if "removed" in i or "ignored" in i]
    assert len(retired) >= 20
    for name in retired:
        info = kb.parameter(name)
        assert info.get("now"), name
        if info.get("renamed"):
            assert kb.known(info["replacement"]), name
    for name, info in kb.parameters.items():
        if "hardwired" in info or "renamed" in info or "now" in info:
            assert name in retired, name
    assert kb.parameter("smtp_skip_4xx_greeting")["hardwired"] == "yes"
    assert kb.parameter("smtpd_sasl_application_name")["renamed"] is True


def test_start_up_checks_of_mail_params_init():
    """rules/startup.toml, from src/global/mail_params.c (mail_params_init) per release."""
    kb = KnowledgeBase()
    assert kb.startup_check("myhostname") == "hostname"
    assert kb.startup_check("mydomain") == "hostname"
    assert kb.startup_check("myorigin") == "one_word"
    assert kb.startup_check("compatibility_level") == "compatibility_level"
    assert kb.startup_check("message_size_limit") == "number"
    assert kb.startup_check("compatibility_level", (2, 11)) is None
    # relayhost was one word until 3.5 made it a list
    assert kb.startup_check("relayhost", (3, 4)) == "one_word"
    assert kb.startup_check("relayhost", (3, 5)) is None
    assert kb.startup_check("smtpd_banner") is None
    assert "myorigin" in kb.startup_checked()
    assert kb.compatibility_level((3, 7)) == "3.6"
    assert kb.compatibility_level((2, 11)) is None
