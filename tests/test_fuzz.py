"""A short run of every fuzz target (tests/fuzz_targets.py), the same examples each time, and
the smallest reproducer of every bug the long runs (tools/fuzz.py) have found.

A reproducer of a bug not fixed yet is a strict xfail: once the bug is fixed it fails as
XPASS; then drop its mark, and the trigger it names from KNOWN in fuzz_targets.py, so that the
generators stop stepping around it.  docs/fuzzing.md has the whole story.
"""

from __future__ import annotations

from typing import Any

import pytest
from fuzz_targets import DEFAULT_AVOID, KNOWN, TARGETS, Failure, hypothesis_test, run_check
from hypothesis import HealthCheck, settings

#: Examples per target in the suite: about 15 s in all on an idle two-core machine; the slow
#: targets (lint, --fix, recipes, postconf) get few.
EXAMPLES = {
    "parse-main": 120,
    "parse-master": 120,
    "edit-main": 100,
    "edit-master": 100,
    "edit-main-postconf": 8,
    "edit-master-postconf": 12,
    "lint": 30,
    "fix": 20,
    "recipe": 40,
}


def test_every_target_has_a_budget() -> None:
    assert set(EXAMPLES) == set(TARGETS)


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_target(name: str) -> None:
    target = TARGETS[name]
    if target.postconf:
        from oracle import require_postconf

        require_postconf()
    config = settings(
        max_examples=EXAMPLES[name],
        derandomize=True,
        database=None,
        deadline=None,
        print_blob=False,
        suppress_health_check=list(HealthCheck),
    )
    hypothesis_test(target, config, DEFAULT_AVOID)()


# ---------------------------------------------------------------------------- known failures


def known(trigger: str, raises: type[BaseException] = Failure) -> Any:
    """The mark of a reproducer of the open bug KNOWN[trigger]."""
    return pytest.mark.xfail(strict=True, raises=raises, reason=KNOWN[trigger])


NEST = b"${x?{" * 600 + b"y" + b"}}" * 600
POLICY = (
    b"smtpd_recipient_restrictions =\n    permit_mynetworks,\n"
    b"    check_policy_service { inet:127.0.0.1:10023,\n    timeout=10s }\n"
)

REPRODUCERS = [
    pytest.param(
        "edit-main", (b"a = 1\x0b2\nb = 3\n", [("set", "b", "4")]),
        id="set-after-vertical-tab",
    ),
    pytest.param(
        "edit-main", (b"a = 1\r2\nb = 3\n", [("set", "b", "4")]),
        id="set-after-lone-cr",
    ),
    pytest.param(
        "edit-master",
        (b"smtp inet n n n - - smtpd\n# ====\n \r\x1f\n", [("set_override", "smtp/inet", "a", "")]),
        id="override-before-lone-cr",
    ),
    pytest.param(
        "edit-master",
        (b"smtp inet n n n - - smtpd\nsmtp inet n n n - - smtpd\n", [("remove_service", "smtp/inet")]),
        id="remove-duplicate-service",
    ),
    pytest.param(
        "parse-main", (b"x = " + NEST + b"\n",),
        id="references-nested-600-deep",
    ),
    pytest.param(
        "lint", (b"smtpd_recipient_restrictions = " + NEST + b"\n", None, (3, 10), "main"),
        id="lint-nested-600-deep",
    ),
    pytest.param(
        "edit-main",
        (b"smtpd_use_tls = yes\n",
         [("rename", "smtpd_use_tls", "smtpd_tls_security_level", "may\n")]),
        id="rename-with-refused-value",
    ),
    pytest.param(
        "edit-main", (b"alias_maps = a\x00\n b\n", [("set", "alias_maps", "c")]),
        id="set-list-half-done",
    ),
    pytest.param(
        "edit-main", (b"alias_maps =\x00x\n a\n", [("set", "alias_maps", "hash:/etc/aliases")]),
        id="set-list-after-nul",
    ),
    pytest.param(
        "edit-main",
        (b"smtpd_recipient_restrictions =\n#  note\n permit_mynetworks\n",
         [("comment_uncomment", "smtpd_recipient_restrictions")]),
        id="uncomment-after-comment",
    ),
    pytest.param(
        "edit-main", (b"biff = no\n#  note\n", [("comment_uncomment", "biff")]),
        id="uncomment-takes-the-comment-after",
    ),
    pytest.param(
        "edit-main",
        (POLICY, [("set", "smtpd_recipient_restrictions", "permit_mynetworks")]),
        id="set-list-with-item-over-two-lines",
    ),
    pytest.param(
        "edit-main", (b"foo_bar = x,\n    y\n", [("set", "foo_bar", "hello, world")]),
        id="set-keeps-commas",
    ),
    pytest.param(
        "edit-main", (b"smtpd_banner = x\n", [("set", "smtpd_banner", "y ")]),
        id="set-trailing-blank",
    ),
    pytest.param(
        "edit-master-postconf", (b"smtp inet n n n - - smtpd - x -o a=b\n", []),
        id="override-after-lone-dash",
    ),
    pytest.param(
        "edit-master",
        (b"smtp inet n n n - - smtpd\r\n", [("add_service", "relay unix - - n - - smtp\r\n", None)]),
        id="add-crlf-service-to-crlf-file",
    ),
    pytest.param(
        "recipe",
        ("sasl-tls", {"cert": ""}, (3, 10), b"smtpd_tls_cert_file = /etc/ssl/certs/mail.pem\n",
         b"", False),
        id="sasl-tls-with-empty-cert",
    ),
    pytest.param(
        # the harness did not know the table a recipe writes where its option's default
        # ({config_directory}/vmailbox) says
        "recipe",
        ("virtual-mailboxes", {"domains": "example.com"}, (3, 6),
         b"smtpd_tls_cert_file = /etc/ssl/certs/mail.pem\nmydestination =\n", None, False),
        id="virtual-mailboxes-default-table",
    ),
    pytest.param(
        "recipe",
        ("sasl-tls", {"cert": "/c.pem", "key": "/k.pem"}, (3, 10),
         b"smtp_enforce_tls = yes\nsmtp_enforce_tls = yes\n", b"", False),
        id="sasl-tls-with-obsolete-parameter-twice",
    ),
    pytest.param(
        # found by test-lowest's Hypothesis: the recipe replaced a continued value with one
        # line, so the last line (without its newline) moved up when it gained one; the
        # invariant looked for it only at or after its old place
        "recipe",
        ("tls-hardening", {}, (3, 5),
         b"smtp_tls_protocols=a a a\n a\n a\n a\nsmtpd_relay_restrictions = b,,b,,b,,b ",
         None, False),
        id="last-line-gains-newline-after-lines-removed-above",
    ),
    pytest.param(
        "edit-main",
        ((b"\xef\xbb\xbfmydestination=\r$myhostname, localhost\nsmtpd_recipient_restrictions=\n"
          b"#  note\n a"),
         [("unset", "smtpd_recipient_restrictions"),
          ("list_add", "smtpd_recipient_restrictions", "a", None, None)]),
        id="add-copies-a-cr-as-spacing",
    ),
    pytest.param(
        "edit-master",
        (b"submission inet n - y - - smtpd\nsubmission inet n - y - - smtpd\n  -o a=b\n",
         [("set_field", "submission/inet", "chroot", "n")]),
        id="set-field-of-a-service-defined-twice",
    ),
    pytest.param(
        "edit-main",
        (b"virtual_alias_maps=hash:/etc/postfix/virtual\n a\n b\n",
         [("set", "virtual_alias_maps", "a #")]),
        id="set-list-item-starting-with-hash",
    ),
    pytest.param(
        "edit-main",
        (b"smtp_enforce_tls=$\x00myhostname reject_invalid_hostname\n a\n",
         [("list_replace", "smtp_enforce_tls", "$", "permit_sasl_authenticated")]),
        id="list-replace-refused-halfway",
    ),
    pytest.param(
        "edit-master",
        ((b"#submission inet n       -       y       -       -       smtpd\n"
          b"  -o smtpd_client_restrictions=permit_sasl_authenticated, reject\n"),
         [("enable_service", "submission/inet", {"syslog_name": "postfix/submission"})]),
        id="enable-service-adopts-the-indented-lines-after-it",
    ),
    pytest.param(
        "edit-main",
        (b"\xef\xbb\xbf\x1cmydestination=\n a",
         [("comment_uncomment", "\ufeff\x1cmydestination")]),
        id="uncomment-a-name-holding-x1c",
    ),
    pytest.param(
        "edit-master",
        (b"smtp inet n n n - - smtpd\n#submission inet n - y - - smtpd\n\r\x1f\n",
         [("enable_service", "submission/inet", {})]),
        id="enable-service-would-take-a-line-of-the-entry-above",
    ),
    pytest.param(
        "edit-master-postconf",
        (b"smtp unix n n n - - smtpd\n", [("set_override", "smtp/unix", "smtpd_sasl_auth_enable", "$($(a))")]),
        id="override-postconf-cannot-expand",
    ),
    pytest.param(
        # the check took the last line (" ", no newline) for one that gained a newline
        # because a " \n" stood earlier in the new text; the recipe left master.cf alone
        "recipe",
        ("tls-hardening", {}, (3, 10), b"smtpd_tls_cert_file = /etc/ssl/certs/mail.pem\n",
         b"\xef\xbb\xbfsmtp inet n - n - - smtpd\n \n ", False),
        id="last-line-stands-earlier-with-its-newline",
    ),
    pytest.param(
        "edit-master",
        (b"smtp unix n n n - - smtpd - -ofoo=bar\n -o syslog_name=postfix/submission\n",
         [("set_override", "smtp/unix", "syslog_name", "encrypt")]),
        id="set-override-postconf-reads-past-a-lone-dash",
    ),
    pytest.param(
        "edit-master",
        (b"127.0.0.1:10026 inet n - n - - smtpd -n reinject\n  -o syslog_name=postfix/reinject\n",
         [("set_command", "127.0.0.1:10026/inet", "postscreen", ())]),
        id="set-command-drops-the-word-postconf-stopped-at",
    ),
]  # fmt: skip


@pytest.mark.parametrize("name, case", REPRODUCERS)
def test_reproducer(name: str, case: tuple[Any, ...]) -> None:
    if TARGETS[name].postconf:
        from oracle import require_postconf

        require_postconf()
    run_check(TARGETS[name], case)


def test_every_known_bug_has_a_reproducer() -> None:
    marked = {
        mark.kwargs["reason"] for param in REPRODUCERS for mark in param.marks if mark.kwargs
    }
    assert marked == set(KNOWN.values())
