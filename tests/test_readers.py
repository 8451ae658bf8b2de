"""Which program reads which parameter (rules/readers.toml, semantics.readers), and what the
model makes of it: the tables a service's -o makes it open, Daemon.reads/affected_by."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pfconf import loads
from pfconf.semantics import Postfix
from pfconf.semantics import readers as data

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import gen_readers

V37 = (3, 7)


def _postfix(master: str, main: str = "compatibility_level = 3.7\n") -> Postfix:
    return Postfix(loads(main, "main"), loads(master, "master"), V37)


def _references(postfix: Postfix) -> set[tuple[str, str, str | None]]:
    return {
        (r.parameter, r.text, r.daemon.key if r.daemon else None) for r in postfix.table_references
    }


# -- the data ---------------------------------------------------------------------------------


def test_header_checks_is_cleanups_alone():
    assert data.readers("header_checks", V37) == {"cleanup"}
    assert data.reads("smtpd", "header_checks", V37) is False
    assert data.reads("cleanup", "header_checks", V37) is True


def test_content_filter_and_receive_override_options_are_in_smtpds_tables():
    for name in ("content_filter", "receive_override_options"):
        assert {"smtpd", "pickup", "qmqpd"} <= data.readers(name, V37)
        assert data.reads("cleanup", name, V37) is False


def test_smtp_and_lmtp_read_their_own_names():
    assert data.reads("smtp", "smtp_sasl_password_maps", V37) is True
    assert data.reads("lmtp", "smtp_sasl_password_maps", V37) is False
    assert data.reads("lmtp", "lmtp_sasl_password_maps", V37) is True
    assert data.reads("smtp", "lmtp_sasl_password_maps", V37) is False


def test_a_compatibility_warnings_check_is_no_read():
    # mail_params_init() asks whether smtp_tls_security_level is set (3.11's new default);
    # only smtp and tlsproxy read it
    assert data.readers("smtp_tls_security_level", (3, 12)) == {"smtp", "tlsproxy"}
    assert data.reads("smtpd", "smtp_tls_security_level", (3, 12)) is False


def test_every_daemon_reads_what_mail_params_init_reads():
    assert data.readers("myhostname", V37) == {data.EVERY}
    for program in ("smtpd", "cleanup", "qmgr", "tlsproxy", "postscreen"):
        assert data.reads(program, "myhostname", V37) is True


def test_readers_change_with_the_release():
    # 2.2 read the TLS settings in mail_params_init(); 2.3 moved them into smtpd
    assert data.EVERY in data.readers("smtpd_tls_cert_file", (2, 2))
    assert data.EVERY not in data.readers("smtpd_tls_cert_file", (2, 3))
    assert data.reads("cleanup", "smtpd_tls_cert_file", (2, 2)) is True
    assert data.reads("cleanup", "smtpd_tls_cert_file", (2, 3)) is False


def test_what_the_data_does_not_know_is_none():
    assert data.reads("smtpd", "no_such_parameter", V37) is None
    assert data.reads("amavisd", "header_checks", V37) is None
    # bounce expands any $name its templates use
    assert data.reads("bounce", "header_checks", V37) is None
    assert data.reads("bounce", "myhostname", V37) is True


def test_names_built_at_run_time():
    # qmgr reads <transport>_destination_concurrency_limit for any transport
    assert data.reads("qmgr", "relay_destination_concurrency_limit", V37) is True
    # pipe reads <its service name>_time_limit, and no other service's
    assert data.reads("pipe", "dovecot_time_limit", V37, "dovecot") is True
    assert data.reads("pipe", "dovecot_time_limit", V37, "maildrop") is None


def test_commands_count_as_running():
    assert data.read_by_any("authorized_submit_users", V37, ()) is True
    assert data.read_by_any("smtp_sasl_password_maps", V37, ("smtpd",)) is False
    assert data.read_by_any("smtp_sasl_password_maps", V37, ("smtp",)) is True


# -- the tables a service's -o makes it open --------------------------------------------------

BRIEF = (
    "smtp inet n - n - - smtpd\n"
    "submission inet n - n - - smtpd\n"
    "  -o header_checks=regexp:/etc/postfix/nothere\n"
)


def test_header_checks_on_smtpd_is_no_table_reference():
    found = _references(_postfix(BRIEF))
    assert not [r for r in found if r[1] == "regexp:/etc/postfix/nothere"]


def test_header_checks_on_cleanup_is_a_table_reference():
    found = _references(
        _postfix(
            "smtp inet n - n - - smtpd\n"
            "cleanup unix n - n - 0 cleanup\n"
            "  -o header_checks=regexp:/etc/postfix/cleanup_checks\n"
        )
    )
    assert ("header_checks", "regexp:/etc/postfix/cleanup_checks", "cleanup/unix") in found


def test_smtpd_restriction_tables_in_overrides_are_found():
    found = _references(
        _postfix(
            "smtp inet n - n - - smtpd\n"
            "  -o smtpd_client_restrictions=check_client_access,cidr:/etc/postfix/c.cidr\n"
            "  -o smtpd_sender_login_maps=hash:/etc/postfix/logins\n"
        )
    )
    assert ("smtpd_client_restrictions", "cidr:/etc/postfix/c.cidr", "smtp/inet") in found
    assert ("smtpd_sender_login_maps", "hash:/etc/postfix/logins", "smtp/inet") in found


def test_a_table_reached_through_a_name_the_service_reads_counts():
    # smtpd does not read my_checks by name, but reads the restriction list that expands it
    found = _references(
        _postfix(
            "smtp inet n - n - - smtpd\n"
            "  -o my_checks=hash:/etc/postfix/mine\n"
            "  -o smtpd_sender_restrictions=check_sender_access,$my_checks\n"
        )
    )
    assert ("smtpd_sender_restrictions", "hash:/etc/postfix/mine", "smtp/inet") in found


def test_a_proxied_table_in_an_override_the_daemon_does_not_read_is_not_asked_for():
    # CFG002 judges these: proxymap is asked only for what a program opens
    postfix = _postfix(
        "smtp inet n - n - - smtpd\n"
        "  -o header_checks=proxy:hash:/etc/postfix/x\n"
        "cleanup unix n - n - 0 cleanup\n"
        "  -o header_checks=proxy:hash:/etc/postfix/y\n"
    )
    found = [(t.parameter, t.table, t.daemon and t.daemon.key) for t in postfix.proxied_tables]
    assert found == [("header_checks", "hash:/etc/postfix/y", "cleanup/unix")]


def test_main_cf_settings_count_when_a_reader_runs():
    main = "smtp_sasl_password_maps = hash:/etc/postfix/sasl_passwd\n"
    without = _references(_postfix("smtp inet n - n - - smtpd\n", main))
    assert not [r for r in without if r[0] == "smtp_sasl_password_maps"]
    with_smtp = _references(_postfix("smtp inet n - n - - smtpd\nsmtp unix - - n - - smtp\n", main))
    assert ("smtp_sasl_password_maps", "hash:/etc/postfix/sasl_passwd", None) in with_smtp
    # postdrop, a command, reads authorized_submit_users whatever master.cf runs
    users = _references(
        _postfix("smtp inet n - n - - smtpd\n", "authorized_submit_users = hash:/etc/u\n")
    )
    assert ("authorized_submit_users", "hash:/etc/u", None) in users


def test_names_the_data_does_not_know_keep_the_prefix_rule():
    # virtual_maps, read through virtual_alias_maps' default, has no reader by name
    assert data.readers("virtual_maps", V37) is None
    found = _references(_postfix("smtp inet n - n - - smtpd\n", "virtual_maps = hash:/etc/v\n"))
    assert ("virtual_maps", "hash:/etc/v", None) in found


# -- Daemon.reads and Daemon.affected_by ------------------------------------------------------


def _daemon(postfix: Postfix, key: str):
    return next(d for d in postfix.daemons if d.key == key)


def test_daemon_reads_content_filter_and_receive_override_options():
    postfix = _postfix(
        "smtp inet n - n - - smtpd\n"
        "  -o content_filter=\n"
        "  -o receive_override_options=no_address_mappings\n"
    )
    smtpd = _daemon(postfix, "smtp/inet")
    assert smtpd.reads("content_filter") is True
    assert smtpd.reads("receive_override_options") is True
    assert smtpd.reads("header_checks") is False
    assert smtpd.reads("no_such_parameter") is None


def test_affected_by_follows_dollar_names_in_what_the_daemon_reads():
    postfix = _postfix(
        "submission inet n - n - - smtpd\n"
        "  -o mua_client_restrictions=permit_sasl_authenticated,reject\n"
        "  -o smtpd_client_restrictions=$mua_client_restrictions\n"
        "tlsproxy unix - - n - 0 tlsproxy\n",
        "compatibility_level = 3.7\nsmtpd_restriction_classes = strict\n"
        "strict = check_sender_access $header_checks\n",
    )
    smtpd = _daemon(postfix, "submission/inet")
    assert smtpd.affected_by("mua_client_restrictions") is True
    # a restriction class's value names header_checks: smtpd expands it
    assert smtpd.reads("header_checks") is False
    assert smtpd.affected_by("header_checks") is True
    tlsproxy = _daemon(postfix, "tlsproxy/unix")
    # tlsproxy_tls_cert_file defaults to $smtpd_tls_cert_file, which it also reads by name
    assert tlsproxy.affected_by("smtpd_tls_cert_file") is True
    assert tlsproxy.affected_by("smtpd_client_restrictions") is False


# -- MST014 ------------------------------------------------------------------------------


def test_mst014_names_the_reader_and_where_to_set_it():
    from pfconf.lint.engine import Options, lint_documents
    from pfconf.lint.rule import rule_for

    run = lint_documents(
        loads("compatibility_level = 3.7\n", "main"),
        loads(BRIEF, "master"),
        options=Options(target=V37),
        rules=[rule_for("MST014")],
    )
    [finding] = run.findings
    assert (finding.line, finding.column) == (3, 6)
    assert finding.message == (
        "header_checks has no effect on smtpd: cleanup reads it; set it on the cleanup "
        "service or in main.cf"
    )


# -- the generator's reading of C -------------------------------------------------------------

SOURCE = """\
static const CONFIG_STR_TABLE file_table[] = {
    VAR_FILE_PARAM, DEF_FILE_PARAM, &var_file_param, 0, 0,
    0,
};

/* helper - a static function */

static void helper(void)
{
    var_x = get_mail_conf_str(VAR_DIRECT, "", 0, 0);
    if (mail_conf_lookup(VAR_ASKED) == 0)
	warn_compat = 1;
}

int     main(int argc, char **argv)
{
    static const CONFIG_INT_TABLE int_table[] = {
	VAR_IN_MAIN, DEF_IN_MAIN, &var_in_main, 1, 0,
	0,
    };

    helper();
    single_server_main(argc, argv, service, CA_MAIL_SERVER_INT_TABLE(int_table), 0);
}
"""


def test_the_generator_reads_tables_and_calls_per_function():
    macros = {
        "VAR_FILE_PARAM": "file_param",
        "VAR_DIRECT": "direct",
        "VAR_IN_MAIN": "in_main",
        "VAR_ASKED": "asked",
    }
    functions = {f.name: f for f in gen_readers.functions("x/y.c", SOURCE, macros, False)}
    assert functions["main"].reads == {"in_main"}
    # mail_conf_lookup(VAR_ASKED) == 0 only asks whether it is set (a compatibility warning)
    assert functions["helper"].reads == {"direct"} and functions["helper"].static
    assert functions["file_table"].reads == {"file_param"}
    assert "helper" in functions["main"].tokens


@pytest.mark.parametrize(
    ("word", "version", "covered"),
    [
        ("smtpd", (2, 0), True),
        ("smtpd@3.4", (3, 3), False),
        ("smtpd@3.4", (3, 4, 2), True),
        ("smtpd@3.4..3.11", (3, 10), True),
        ("smtpd@3.4..3.11", (3, 11), False),
        ("smtpd..2.3", (2, 2), True),
        ("smtpd..2.3", (2, 3), False),
    ],
)
def test_reader_words(word, version, covered):
    assert data._reader(word).covers(version) is covered
