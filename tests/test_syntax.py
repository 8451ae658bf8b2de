"""The reading rules of main.cf and master.cf, case by case (tests/data/*.toml), against postconf."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from oracle import fold, in_parallel, printable, read_main

import pfconf
from pfconf.syntax.nodes import BlankLine, CommentLine, ContinuationLine, Entry, Orphan

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DATA = Path(__file__).parent / "data"
MAIN = tomllib.loads((DATA / "main_reading.toml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", MAIN["case"], ids=lambda c: c["name"])
def test_main_values(case):
    doc = pfconf.loads(case["text"], "main")
    assert doc.effective() == case["values"]
    assert pfconf.dumps(doc) == case["text"]


@pytest.mark.parametrize("case", MAIN["case"], ids=lambda c: c["name"])
def test_main_values_are_postconfs(case):
    reading = read_main(case["text"].encode("utf-8"))
    assert reading.accepted, reading.error
    shown = dict(reading.values)
    shown.update(reading.raw)
    expected = {
        name: (fold(value) if name in reading.values else printable(value))
        for name, value in case["values"].items()
    }
    assert shown == expected


@pytest.mark.parametrize("case", MAIN["error"], ids=lambda c: c["name"])
def test_main_errors(case):
    with pytest.raises(pfconf.ParseError) as info:
        pfconf.loads(case["text"], "main", path="main.cf")
    assert info.value.line == case["line"]
    assert case["message"] in str(info.value)
    assert str(info.value).startswith(f"main.cf:{case['line']}: ")


def test_main_errors_are_postconfs():
    """postconf refuses each error case at the same line (all asked at once: each fatal
    error costs postconf a second's sleep)."""
    cases = MAIN["error"]
    readings = in_parallel(lambda case: read_main(case["text"].encode("utf-8")), cases)
    assert [(c["name"], r.accepted, r.error_line) for c, r in zip(cases, readings)] == [
        (c["name"], False, c["line"]) for c in cases
    ]


def test_tree_owns_every_line():
    text = (
        "# head comment\n"
        "\n"
        "smtpd_recipient_restrictions =\n"
        "    permit_mynetworks,\n"
        "# disabled: reject_rbl_client list.dsbl.org,\n"
        "    reject_unauth_destination\n"
        "# trailing comment\n"
        "  \n"
        "relayhost = x"
    )
    doc = pfconf.loads(text)
    kinds = [type(node) for node in doc.nodes]
    assert kinds == [CommentLine, BlankLine, Entry, CommentLine, BlankLine, Entry]
    entry = doc.nodes[2]
    assert [type(n) for n in entry.inner] == [ContinuationLine, CommentLine, ContinuationLine]
    assert entry.equals == "=" and entry.before_eq == " " and entry.after_eq == ""
    assert doc.nodes[-1].eol == ""
    assert [n.line for n in doc.nodes] == [1, 2, 3, 7, 8, 9]


def test_trees_compare_by_value_not_position():
    a = pfconf.loads("relayhost = x\n")
    b = pfconf.loads("# c\nrelayhost = x\n")
    assert a.nodes[0] == b.nodes[1]
    assert a.nodes[0].line != b.nodes[1].line


def test_orphan_node():
    doc = pfconf.loads("  stray = 1\n# c\n  more\nmyhostname = a\n")
    assert isinstance(doc.nodes[0], Orphan)
    assert len(doc.nodes[0].inner) == 3
    assert doc.effective() == {"myhostname": "a"}


def test_entry_positions_and_items():
    text = (
        "smtpd_recipient_restrictions = permit_mynetworks,\n"
        "\treject_unauth_destination,\n"
        "# reject_rbl_client old.example,\n"
        "    reject_rbl_client zen.spamhaus.org=127.0.0.[2..11],  check_policy_service { inet:127.0.0.1:10023, timeout=10s }\n"
    )
    entry = pfconf.loads(text).get("smtpd_recipient_restrictions")
    assert entry.name_span == pfconf.Span(1, 1, 1, 29)
    assert [(i.text, i.span) for i in entry.items] == [
        ("permit_mynetworks", pfconf.Span(1, 32, 1, 49)),
        ("reject_unauth_destination", pfconf.Span(2, 2, 2, 27)),
        ("reject_rbl_client", pfconf.Span(4, 5, 4, 22)),
        ("zen.spamhaus.org=127.0.0.[2..11]", pfconf.Span(4, 23, 4, 55)),
        ("check_policy_service", pfconf.Span(4, 58, 4, 78)),
        ("{ inet:127.0.0.1:10023, timeout=10s }", pfconf.Span(4, 79, 4, 116)),
    ]
    assert [line.span.line for line in entry.lines] == [1, 2, 4]
    assert entry.value_span.line == 1 and entry.value_span.end_line == 4
    assert entry.raw == text


def test_item_on_eleventh_physical_line():
    zones = [f"    reject_rbl_client zone{i}.example," for i in range(12)]
    text = "smtpd_client_restrictions =\n" + "\n".join(zones) + "\n"
    entry = pfconf.loads(text).get("smtpd_client_restrictions")
    item = next(i for i in entry.items if i.text == "zone10.example")
    assert item.span == pfconf.Span(12, 23, 12, 37)


def test_definitions_and_get():
    doc = pfconf.loads("relayhost = a\nmyhostname = h\nrelayhost = b\n")
    assert [e.value for e in doc.definitions("relayhost")] == ["a", "b"]
    assert doc.get("relayhost").line == 3
    assert doc.get("nothing") is None


def test_bytes_in_bytes_out_and_str_in_str_out():
    data = b"# caf\xe9 \xff\nmyhostname = a\xe9\n"
    doc = pfconf.loads(data)
    assert pfconf.dumps(doc) == data
    assert doc.effective() == {"myhostname": "a\udce9"}
    text = "myhostname = café\n"
    assert pfconf.dumps(pfconf.loads(text)) == text


def test_bom_is_part_of_the_first_name():
    data = b"\xef\xbb\xbfmyhostname = a\n"
    doc = pfconf.loads(data)
    assert pfconf.dumps(doc) == data
    assert doc.effective() == {"\ufeffmyhostname": "a"}


def test_kind_must_be_known():
    with pytest.raises(ValueError):
        pfconf.loads("", "other")


def test_empty_files():
    assert pfconf.loads(b"").effective() == {}
    assert pfconf.dumps(pfconf.loads(b"", "master")) == b""
    assert pfconf.loads("\n\n# only comments\n", "master").services == ()


# ----------------------------------------------------------------------------- master.cf

MASTER = """\
# comment
smtp      inet  n       -       y       -       -       smtpd
  -o smtpd_tls_security_level=may
#  -o disabled=yes

  -o { smtpd_client_restrictions = permit_sasl_authenticated, reject }
submission inet n - y - - smtpd -vo syslog_name=postfix/submission -osmtpd_sasl_auth_enable=yes
dovecot   unix  -       n       n       -       -       pipe
  flags=DRhu user=vmail argv=/usr/lib/dovecot/deliver -f ${sender} -d ${recipient} -o not=override
"""


def test_services():
    doc = pfconf.loads(MASTER, "master")
    smtp, submission, dovecot = doc.services
    assert (smtp.name, smtp.type, smtp.private, smtp.unprivileged, smtp.chroot) == (
        "smtp",
        "inet",
        "n",
        "-",
        "y",
    )
    assert (smtp.wakeup, smtp.process_limit, smtp.command) == ("-", "-", "smtpd")
    assert smtp.overrides == {
        "smtpd_tls_security_level": "may",
        "smtpd_client_restrictions": "permit_sasl_authenticated, reject",
    }
    braced = smtp.override("smtpd_client_restrictions")
    assert braced.braced and braced.option.line == 6 and braced.argument.column == 6
    assert submission.args == (
        "-v",
        "-o",
        "syslog_name=postfix/submission",
        "-o",
        "smtpd_sasl_auth_enable=yes",
    )
    assert submission.overrides == {
        "syslog_name": "postfix/submission",
        "smtpd_sasl_auth_enable": "yes",
    }
    # getopt: options end at the first argument that is not an option
    assert dovecot.overrides == {}
    assert dovecot.args[-2:] == ("-o", "not=override")
    assert doc.service("smtp", "inet") is smtp
    assert pfconf.dumps(doc) == MASTER


def test_override_last_one_wins():
    doc = pfconf.loads("a unix - - n - - x -o k=1 -o k=2\n", "master")
    service = doc.services[0]
    assert service.overrides == {"k": "2"}
    assert [o.value for o in service.override_list] == ["1", "2"]
    assert service.override("k").value == "2"


@pytest.mark.parametrize(
    "text, line, message",
    [
        ("smtp inet n - y - -\n", 1, "service entry has 7 fields, 8 expected"),
        ("# c\nsmtp tcp n - y - - smtpd\n", 2, 'invalid type field "tcp"'),
        ("smtp inet yes - y - - smtpd\n", 1, 'invalid private field "yes"'),
        ("smtp inet n - y 1x - smtpd\n", 1, 'invalid wakeup field "1x"'),
        ("smtp inet n - y - 1? smtpd\n", 1, 'invalid process_limit field "1?"'),
        ("smtp inet n - y\n  - - smtpd\nx\n", 3, "service entry has 1 field, 8 expected"),
    ],
)
def test_master_errors(text, line, message):
    with pytest.raises(pfconf.ParseError) as info:
        pfconf.loads(text, "master", path="master.cf")
    assert info.value.line == line
    assert message in str(info.value)


# A line that starts with "\v{": "\v" is a blank to readllines() (isspace), so the line
# continues the entry above it, joined without a separator; in master.cf "\v" is no word
# separator (argv_splitq splits at " \t\r\n" only) and a "{" inside a word is text, which
# master and postconf leave alone (only a word that starts with "{" loses its braces).
VT_BRACE_MAIN = [
    b"a = 1\n\x0b{\nb = 2\n",
    b"a =\n\x0b{ b }\n",
    b"\x0b{\na = 1\n",  # before any entry: skipped with a warning
    b"a = 1\r\n\x0b{\r\n",
    b"# c\n\x0b{ = 1\nb = 2",
]
VT_BRACE_MASTER = [
    b"smtp inet n - n - - smtpd\n\x0b{\n",  # the command is "smtpd\v{"
    b"smtp inet n - n - - smtpd \n\x0b{ a }\n",  # the first argument is "\v{ a }"
    b"smtp inet n - n - - smtpd\r\n\x0b{\r\n",  # "\v{\r": a "{" takes the "\r" into the word
    b"smtp inet n - n - - smtpd -v\n \x0b{ a } {b c}\n",
    b"smtp inet n - n - - smtpd -o \n\x0b{ a = b }\n",
    b"smtp inet n - n - - smtpd -o\n\x0b{=\n",  # "-o\v{=": an override named "{"
    b"smtp inet n - n - - pipe flags=R\n\x0b{ }\n",
    b"smtp inet n - n - - smtpd -v { a b } { c d }\n",  # shown "smtpd -v a b {c d}"
]


def test_lines_starting_with_vertical_tab_and_brace_read_as_postconf_reads_them():
    """main.cf values (postconf -n), master.cf fields with the command line (-F) and the
    overrides (-P) of such lines are postconf's.  postconf prints the first argument after
    the options without braces even when it holds blanks (``smtpd \\v{ a }``), which
    pfconf.show.command_line (pfedit show) used to brace."""
    from oracle import assert_main_reads_like_postconf, assert_master_reads_like_postconf

    in_parallel(assert_main_reads_like_postconf, VT_BRACE_MAIN)
    in_parallel(assert_master_reads_like_postconf, VT_BRACE_MASTER)
    (service,) = pfconf.loads(VT_BRACE_MASTER[1], "master").services
    assert [a.text for a in service.arguments[7:]] == ["smtpd", "\x0b{ a }"]
