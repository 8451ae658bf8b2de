"""pfedit's commands: writing, --diff, --check, --backup, safe writes and one-line errors."""

from __future__ import annotations

import os
import stat

import pytest
from conftest import invoke

from pfconf.cli.pfedit import cli

MAIN = "# TLS\nsmtpd_tls_security_level = may\nsmtpd_tls_auth_only = no\n"
MASTER = (
    "smtp      inet  n       -       y       -       -       smtpd\n"
    "#submission inet n       -       y       -       -       smtpd\n"
    "#  -o syslog_name=postfix/submission\n"
    "pickup    unix  n       -       y       60      1       pickup\n"
)


@pytest.fixture
def confdir(tmp_path):
    (tmp_path / "main.cf").write_text(MAIN)
    (tmp_path / "master.cf").write_text(MASTER)
    return tmp_path


def run(confdir, *args, expect=0):  # type: ignore[no-untyped-def]
    """pfedit -c confdir ARGS..., insisting on the exit status (0 unless told)."""
    return invoke(cli, ["-c", confdir, *args], expect)


def test_set_writes_and_reports(confdir):
    result = run(confdir, "set", "smtpd_tls_auth_only=yes")
    assert result.exit_code == 0, result.output
    assert "smtpd_tls_auth_only: no -> yes" in result.output
    assert (confdir / "main.cf").read_text() == MAIN.replace("only = no", "only = yes")


def test_diff_and_check_write_nothing(confdir):
    result = run(confdir, "set", "smtpd_tls_auth_only=yes", "--diff")
    assert result.exit_code == 0
    assert "-smtpd_tls_auth_only = no\n+smtpd_tls_auth_only = yes" in result.output
    run(confdir, "set", "smtpd_tls_auth_only=yes", "--check", expect=1)
    assert (confdir / "main.cf").read_text() == MAIN
    run(confdir, "set", "smtpd_tls_auth_only=yes")
    run(confdir, "set", "smtpd_tls_auth_only=yes", "--check")


def test_backup_and_mode_kept(confdir):
    os.chmod(confdir / "main.cf", 0o640)
    run(confdir, "unset", "smtpd_tls_auth_only", "--backup")
    assert (confdir / "main.cf.bak").read_text() == MAIN
    assert stat.S_IMODE(os.stat(confdir / "main.cf").st_mode) == 0o640
    run(confdir, "set", "a=1", "--backup=.orig")
    assert (confdir / "main.cf.orig").exists()


def test_symlinked_main_cf_is_edited_at_its_target(confdir, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("real") / "main.cf"
    elsewhere.write_text(MAIN)
    (confdir / "main.cf").unlink()
    (confdir / "main.cf").symlink_to(elsewhere)
    run(confdir, "set", "smtpd_tls_auth_only=yes")
    assert (confdir / "main.cf").is_symlink()
    assert "only = yes" in elsewhere.read_text()


def test_file_changed_on_disk_is_not_overwritten(confdir, monkeypatch):
    from pfconf.edit import workspace as ws

    real_pending = ws.Workspace._pending

    def meddle(self):  # type: ignore[no-untyped-def]
        (confdir / "main.cf").write_text(MAIN + "biff = no\n")  # someone else's edit
        return real_pending(self)

    monkeypatch.setattr(ws.Workspace, "_pending", meddle)
    result = run(confdir, "set", "smtpd_tls_auth_only=yes", expect=2)
    assert "changed on disk" in result.output
    assert (confdir / "main.cf").read_text() == MAIN + "biff = no\n"


def test_unparsable_file_is_a_one_line_error(confdir):
    (confdir / "main.cf").write_text("=oops\n")
    result = run(confdir, "set", "a=1", expect=2)
    assert result.output.strip().count("\n") == 0 and "main.cf:1" in result.output


def test_bad_assignment(confdir):
    result = run(confdir, "set", "novalue", expect=2)
    assert "NAME=VALUE" in result.output


def test_get(confdir):
    result = run(confdir, "get", "smtpd_tls_auth_only")
    assert result.output == "smtpd_tls_auth_only = no\n"
    run(confdir, "get", "nosuch", expect=1)


def test_comment_and_uncomment(confdir):
    run(confdir, "comment", "smtpd_tls_auth_only")
    assert "#smtpd_tls_auth_only = no\n" in (confdir / "main.cf").read_text()
    run(confdir, "uncomment", "smtpd_tls_auth_only")
    assert (confdir / "main.cf").read_text() == MAIN


def test_service_commands(confdir):
    run(confdir, "service", "add", "submission inet n - y - - smtpd")
    text = (confdir / "master.cf").read_text()
    assert text.count("submission inet") == 1 and "\nsubmission inet" in text  # re-enabled
    result = run(confdir, "service", "set", "submission/inet", "smtpd_tls_security_level=encrypt")
    assert result.exit_code == 0, result.output
    shown = run(confdir, "service", "show", "submission/inet").output
    assert "submission/inet/smtpd_tls_security_level = encrypt" in shown
    run(confdir, "service", "unset", "submission/inet", "smtpd_tls_security_level")
    assert "encrypt" not in (confdir / "master.cf").read_text()
    run(confdir, "service", "set", "smtp/inet", "chroot=n")
    assert "smtp      inet  n       -       n       -       -       smtpd\n" in (confdir / "master.cf").read_text()
    run(confdir, "service", "remove", "pickup/unix")
    assert "pickup" not in run(confdir, "service", "list").output
    missing = run(confdir, "service", "set", "nosuch/inet", "a=b", expect=2)
    assert "nosuch/inet" in missing.output


def test_service_comment_and_uncomment(confdir):
    """A service commented out under a note with the reason comes back byte for byte; a
    stock example (#submission inet ...) is enabled the same way."""
    run(confdir, "service", "comment", "pickup/unix", "--why", "mail only arrives by SMTP")
    text = (confdir / "master.cf").read_text()
    assert text == MASTER.replace(
        "pickup    unix",
        "# pfedit: commented out pickup/unix (1 line below): mail only arrives by SMTP\n"
        "#pickup    unix",
    )
    assert "pickup" not in run(confdir, "service", "list").output
    run(confdir, "service", "comment", "pickup/unix", "--check")  # nothing left to do
    run(confdir, "service", "comment", "nosuch/unix", expect=2)
    run(confdir, "service", "uncomment", "pickup/unix")
    assert (confdir / "master.cf").read_text() == MASTER
    run(confdir, "service", "uncomment", "submission/inet")
    assert "\nsubmission inet n" in (confdir / "master.cf").read_text()
    missing = run(confdir, "service", "uncomment", "nosuch/inet", expect=2)
    assert "no commented-out service nosuch/inet" in missing.output


def test_apply_list_and_explain_need_no_configuration(tmp_path):
    """pfedit -c /nonexistent apply --list (or --explain, or RECIPE --help) reads only the
    recipes; it failed with "main.cf: no such file" before."""
    listed = run("/nonexistent", "apply", "--list")
    assert "sasl-tls: " in listed.output and "tls-hardening: " in listed.output
    explained = run("/nonexistent", "apply", "submission-only", "--explain")
    assert explained.output.startswith("submission-only: SASL only on ports 587 and 465")
    assert "why: port 25 takes mail from other servers, which never log in" in explained.output
    shown = run("/nonexistent", "apply", "relay-client", "--help")
    assert "Options of relay-client:" in shown.output and "--relayhost TEXT" in shown.output
    applied = run("/nonexistent", "apply", "submission-only", expect=2)
    assert applied.output == "/nonexistent: no such directory\n"


def test_apply_refuses_a_bad_recipe_file_in_one_line(tmp_path, confdir):
    recipe = tmp_path / "mine.toml"
    recipe.write_text(
        '[recipe]\nsummary = "s"\n\n[[steps]]\naction = "set"\nname = "biff"\nvalue = "no"\n'
        'reason = "r"\ncomment = "misplaced"\n'
    )
    result = run(confdir, "apply", "--recipe-file", recipe, expect=2)
    assert result.output == (
        f"pfedit: {recipe}:9: step 1 (set): unknown key 'comment' (known: when, when_main, "
        "unless_main, when_listed, when_service, since, before, reason, name, value, value_from, "
        "values, keep_if_set, keep_if_stricter, only_if, secret)\n"
    )
    assert (confdir / "main.cf").read_text() == MAIN
    recipe.write_text(recipe.read_text().replace('comment = "misplaced"\n', ""))
    both = run(confdir, "apply", "sasl-tls", "--recipe-file", recipe, expect=2)
    assert both.output == "pfedit apply: name a recipe or give --recipe-file, not both\n"
