"""List splitting, $name references and lookup-table references (pfconf.values)."""

from __future__ import annotations

import os

import pytest

from pfconf.kb import parse_version
from pfconf.values import (
    MAX_TABLE_NESTING,
    HostPort,
    compatibility_level,
    find_references,
    find_tables,
    host_port,
    hostname_problem,
    parse_table,
    split_list,
    strip_braces,
    too_deep,
    valid_hostaddr,
    valid_utf8_hostname,
)


def texts(tokens):
    return [t.text for t in tokens]


@pytest.mark.parametrize(
    "value, items",
    [
        ("a, b c,,d", ["a", "b", "c", "d"]),
        ("  a\t\r\nb ", ["a", "b"]),
        (
            "check_policy_service { inet:127.0.0.1:10023, timeout=10s }, permit",
            ["check_policy_service", "{ inet:127.0.0.1:10023, timeout=10s }", "permit"],
        ),
        ("inline:{ a=b, { c = d e } }", ["inline:{ a=b, { c = d e } }"]),
        ("a}b, c", ["a}b", "c"]),
        ("{unclosed a, b", ["{unclosed a, b"]),
        ("", []),
        ("a\x0bb", ["a\x0bb"]),  # \v is no list separator in Postfix
    ],
)
def test_split_list(value, items):
    tokens = split_list(value)
    assert texts(tokens) == items
    for token in tokens:
        assert value[token.start : token.end] == token.text


def test_strip_braces():
    assert strip_braces("{ a b }") == "a b"
    assert strip_braces("{a {b} c}") == "a {b} c"
    assert strip_braces("{a} b") is None
    assert strip_braces("a") is None


@pytest.mark.parametrize(
    "value, refs",
    [
        ("$myhostname ESMTP $mail_name", [("myhostname", "$name"), ("mail_name", "$name")]),
        ("${myhostname}", [("myhostname", "${name}")]),
        ("$(myhostname)", [("myhostname", "$(name)")]),
        ("${a?value}", [("a", "${name?value}")]),
        ("${a:value}", [("a", "${name:value}")]),
        ("${a?{x $b y}}", [("a", "${name?value}"), ("b", "$name")]),
        ("${a:{$b}}", [("a", "${name:value}"), ("b", "$name")]),
        ("${a?{$b}:{$c}}", [("a", "${name?value}"), ("b", "$name"), ("c", "$name")]),
        (
            "${{$compatibility_level} <level {1} ? {$a} : {${b}}}",
            [("compatibility_level", "$name"), ("a", "$name"), ("b", "${name}")],
        ),
        ("$$notref $", []),
        ("price $5", [("5", "$name")]),
        ("${truncated", []),
        ("$a$b", [("a", "$name"), ("b", "$name")]),
        ("hash:$config_directory/x", [("config_directory", "$name")]),
    ],
)
def test_find_references(value, refs):
    found = find_references(value)
    assert [(r.name, r.form) for r in found] == refs
    for ref in found:
        assert value[ref.name_start : ref.name_end] == ref.name
        assert value[ref.start] == "$"


def test_reference_spans():
    value = "x ${name?{y}} z"
    (ref,) = find_references(value)
    assert value[ref.start : ref.end] == "${name?{y}}"


def test_parse_table():
    t = parse_table("hash:/etc/postfix/virtual")
    assert (t.type, t.name) == ("hash", "/etc/postfix/virtual")
    t = parse_table("proxy:mysql:/etc/postfix/mysql.cf")
    assert (
        t.type == "proxy"
        and t.tables[0].type == "mysql"
        and t.tables[0].name == "/etc/postfix/mysql.cf"
    )
    t = parse_table("inline:{ a=b, { c = d e } }")
    assert t.type == "inline" and t.entries == ("a=b", "c = d e")
    t = parse_table("pipemap:{ regexp:/etc/a, hash:/etc/b }")
    assert [(x.type, x.name) for x in t.tables] == [("regexp", "/etc/a"), ("hash", "/etc/b")]
    t = parse_table("unionmap:{hash:/a,proxy:ldap:/b}")
    assert [x.type for x in t.tables] == ["hash", "proxy"]
    assert t.tables[1].tables[0].type == "ldap"
    t = parse_table("static:{text with spaces}")
    assert t.entries == ("text with spaces",)
    assert parse_table("[smtp.example.com]:587") is None
    assert parse_table("permit_mynetworks") is None


def test_table_offsets():
    value = "permit_mynetworks, check_client_access hash:/etc/postfix/access"
    (table,) = find_tables(value)
    assert value[table.start : table.end] == "hash:/etc/postfix/access"
    value = "pipemap:{ regexp:/a, hash:/b }"
    (table,) = find_tables(value)
    inner = table.tables[1]
    assert value[inner.start : inner.end] == "hash:/b"


# -- nesting: Postfix's limit, and no recursion limit of Python's --------------------------


def nest(depth: int, inner: str, wrap: str = "${b?{%s}}") -> str:
    text = inner
    for _ in range(depth):
        text = wrap % text
    return text


#: (value, whether Postfix gives up on it), as postconf 3.7 told (-x expands the value, and
#: says "unreasonable macro call nesting" exactly for these): each piece of a value is one
#: call, each ${...} around it one level more, and the value of a $name one level below it.
NESTING = [
    (nest(100, "x"), False),
    (nest(101, "x"), True),
    (nest(101, ""), False),  # the innermost holds nothing: no call at level 101
    (nest(101, " "), True),
    (nest(99, "$b"), False),
    (nest(100, "$b"), True),  # b's value is expanded at level 101
    (nest(100, "${b}"), True),
    (nest(100, "x", "${b?%s}"), False),
    (nest(101, " ", "${b?%s}"), True),  # no braces: the blank is the value
    (nest(101, "x", "$(b:%s)"), True),
    (nest(100, "x", "${{$b} == {1} ? {%s} : {y}}"), False),
    (nest(101, "x", "${{$b} == {1} ? {%s} : {y}}"), True),
    (nest(150, "x", "${{%s} == {1} ? {z} : {y}}"), False),  # operands start again at level 0
]


@pytest.mark.parametrize("value, deep", NESTING, ids=range(len(NESTING)))
def test_too_deep_is_where_postfix_gives_up(value, deep):
    found = too_deep("a " + value + " b")
    assert (found is not None) == deep
    if found:
        assert found == (2, 2 + len(value))  # the outermost $... around the deep part


def test_too_deep_agrees_with_postconf(tmp_path):
    """The table above, asked of the installed Postfix."""
    from oracle import require_postconf

    from pfconf import postfix

    require_postconf()
    for number, (value, deep) in enumerate(NESTING):
        directory = tmp_path / str(number)
        directory.mkdir()
        (directory / "main.cf").write_text(f"b = 1\nsmtpd_banner = {value}\n")
        (directory / "master.cf").write_text("")
        for name in ("main.cf", "master.cf"):
            os.utime(directory / name, (0, 0))  # not "cooling down" (see tests/oracle.py)
        proc = postfix.run(
            "postconf", ["-h", "-x", "smtpd_banner"], config_dir=str(directory), timeout=60
        )
        said = b"unreasonable macro call nesting" in proc.stderr
        assert said == deep, f"case {number}: postconf {'did' if said else 'did not'} complain"


@pytest.mark.parametrize(
    "wrap, names, deep",
    [
        ("${b?{%s}}", {"b"}, True),
        ("${b?%s}", {"b"}, True),
        ("$(b:%s)", {"b"}, True),
        ("${{$b} == {1} ? {%s} : {y}}", {"b"}, True),
        # operands are expanded afresh, so Postfix follows them to any depth, and so do we
        ("${{%s} == {1} ? {z} : {y}}", {"inner"}, False),
    ],
)
def test_deep_nesting_needs_no_deep_stack(wrap, names, deep):
    value = nest(5000, "$inner", wrap)
    assert {r.name for r in find_references(value)} == names  # no RecursionError
    assert (too_deep(value) is not None) == deep


def test_references_beyond_the_limit_are_not_reported():
    """Postfix expands nothing past its limit, so nothing there is a reference."""
    assert [r.name for r in find_references(nest(100, "$c"))] == ["b"] * 100 + ["c"]
    assert [r.name for r in find_references(nest(200, "$c"))] == ["b"] * 101


@pytest.mark.parametrize(
    "value", ["proxy:" * 3000 + "hash:/etc/x", nest(400, "hash:/etc/x", "pipemap:{%s}")]
)
def test_deep_tables_need_no_deep_stack(value):
    table = parse_table(value)
    depth = 0
    while table.tables:
        (table,) = table.tables
        depth += 1
    assert depth == MAX_TABLE_NESTING  # tables deeper than that are left unread


@pytest.mark.parametrize(
    "name, problem",
    [
        ("mail.example.com", None),
        ("mail_server.example.com", None),  # valid_hostname() accepts "_" ("grr..")
        ("localhost", None),
        ("a-b.example", None),
        ("123.example", None),  # one label with a letter is enough
        ("", "empty hostname"),
        ("mail..example.com", "misplaced delimiter"),
        (".example.com", "misplaced delimiter"),
        ("mail.example.com.", "misplaced delimiter"),
        ("-mail.example.com", "misplaced hyphen"),
        ("mail-.example.com", "misplaced hyphen"),
        ("mail.example.com-", "misplaced hyphen"),
        ("a" * 64 + ".example", "hostname label too long"),
        ("192.0.2.1", "numeric hostname"),
        ("mail example.com", "invalid character 32(decimal)"),
        ("*.example.com", "invalid character 42(decimal)"),  # no DO_WILDCARD for myhostname
        ("mäil.example", "invalid character 195(decimal)"),  # the first byte of ä
        (".".join(["a" * 63] * 4) + ".b", "bad length 257"),
    ],
)
def test_hostname_problem_is_valid_hostname(name, problem):
    assert hostname_problem(name) == problem


@pytest.mark.parametrize(
    "addr, valid",
    [
        ("192.0.2.1", True),
        ("0.0.0.0", True),
        ("010.000.0.1", True),  # leading zeros are fine (Python's ipaddress refuses them)
        ("0.1.2.3", False),  # "bad initial octet value"
        ("256.0.0.1", False),
        ("1.2.3", False),
        ("1.2.3.4.", False),
        ("::1", True),
        ("2001:db8::1", True),
        ("::ffff:192.0.2.1", True),
        ("1:2:3", True),  # Postfix's check wants only two ':' (no real address)
        ("1:2", False),  # "too few `:'"
        ("fe80::1%eth0", False),  # no scope (Python's ipaddress takes one)
        ("1:2:3:4:5:6:7:8:9", False),  # "too many `:'"
        ("1::2::3", False),  # "too many `::'"
        (":1:2:3", False),  # "bad null first field"
        ("1:2:3:", False),  # "bad null last field"
        ("12345::1", False),  # a field of five digits
        ("1:2:3:4:5:6:7:1.2.3.4", False),  # IPv4 after too many fields
        ("", False),
    ],
)  # fmt: skip
def test_valid_hostaddr_as_postfix_checks_it(addr, valid):
    """util/valid_hostname.c: valid_hostaddr() with valid_ipv4_hostaddr() and
    valid_ipv6_hostaddr(), a syntax check only."""
    assert valid_hostaddr(addr) is valid


@pytest.mark.parametrize(
    "name, valid",
    [
        ("mail.example.com", True),
        ("mäil.example.com", True),  # with SMTPUTF8 on, IDNA converts it
        ("bücher.xn--p1ai", True),
        ("mäil..example.com", False),  # an empty label stays empty
        ("mäil.example.com.", False),
        ("mäil example.com", False),  # ASCII characters stay what they are
        ("mäil.-example.com", False),  # an all-ASCII label that valid_hostname() refuses
        ("mäil." + "a" * 64, False),
        ("mä-il.ex_ample", True),
    ],
)
def test_valid_utf8_hostname_refuses_only_what_no_conversion_repairs(name, valid):
    assert valid_utf8_hostname(name) is valid


@pytest.mark.parametrize(
    "text, parsed",
    [
        ("mail.example.com", HostPort("mail.example.com", "25")),
        ("mail.example.com:587", HostPort("mail.example.com", "587")),
        ("mail.example.com:", HostPort("mail.example.com", "25")),  # an empty port: default
        ("[192.0.2.1]", HostPort("192.0.2.1", "25", True)),
        ("[192.0.2.1]:", HostPort("192.0.2.1", "25", True)),
        ("[IPv6:2001:db8::1]:26", HostPort("2001:db8::1", "26", True)),
        ("2001:db8::1:26", HostPort("2001:db8::1", "26")),  # the last ':' ends the host
        ("[ipv6:1:2:3]", HostPort("1:2:3", "25", True)),  # passes Postfix's syntax check
        ("010.0.0.1", HostPort("010.0.0.1", "25")),
        ("mail_1.example.com:smtp", HostPort("mail_1.example.com", "smtp")),
        ("[mäil.example]", HostPort("mäil.example", "25", True)),
        (":25", "missing host information"),
        ("", "missing host information"),
        ('[192.0.2.1', 'missing "]"'),
        ("[192.0.2.1]x", 'garbage after "]"'),
        ("[ipv6:192.0.2.1]", "malformed IPv6 address"),
        ("[ipv6:fe80::1%eth0]", "malformed IPv6 address"),
        ("[]:25", "valid hostname or network address required"),  # a written empty host
        ("-mail.example.com", "valid hostname or network address required"),
        ("mail..example.com", "valid hostname or network address required"),
        ("192.0.2.1.5", "valid hostname or network address required"),
        ("12345", "valid hostname or network address required"),  # a numeric name
        ("a" * 64 + ".example", "valid hostname or network address required"),
        ("host:25x", "garbage after numerical service"),
        ("host:\u00b2", HostPort("host", "\u00b2")),  # not an ASCII digit: a service name
    ],
)  # fmt: skip
def test_host_port_as_smtp_calls_it(text, parsed):
    """smtp_connect.c, smtp_parse_destination(): no default host, a default port."""
    assert host_port(text, None, "25") == parsed


@pytest.mark.parametrize(
    "text, parsed",
    [
        ("10025", HostPort("", "10025")),  # no host: every address of inet_interfaces
        ("smtp", HostPort("", "smtp")),
        (":10025", HostPort("", "10025")),
        ("127.0.0.1:10025", HostPort("127.0.0.1", "10025")),
        ("[ipv6:::1]:10025", HostPort("::1", "10025", True)),
        ("::1:10025", HostPort("::1", "10025")),
        ("127.0.0.1:", "missing service information"),  # no default port
        ("[127.0.0.1]", "missing service information"),
        ("[]:10025", "valid hostname or network address required"),
        ("bad_host!:10025", "valid hostname or network address required"),
        ("127.0.0.1:10025:x", "valid hostname or network address required"),
        ("0.1.2.3:10025", "valid hostname or network address required"),
        ("127.0.0.1:25x", "garbage after numerical service"),
    ],
)  # fmt: skip
def test_host_port_as_master_calls_it(text, parsed):
    """master_ent.c, get_master_ent(): the default host "", no default port."""
    assert host_port(text, "", None) == parsed


COMPATIBILITY_LEVELS = [
    ("3", (3, 0, 0)),
    ("3.6", (3, 6, 0)),
    ("3.6.1", (3, 6, 1)),
    ("3.1023", (3, 1023, 0)),
    ("3.6.1023", (3, 6, 1023)),
    ("+3", (3, 0, 0)),  # strtol() takes a sign
    ("3.+6", (3, 6, 0)),
    ("3.01", (3, 1, 0)),
    ("three", None),
    ("3.6.x", None),
    ("3.", None),
    ("3..6", None),
    ("3.1024", None),
    ("-1", None),
    ("3.6.-1", None),
    ("3.6.1.2", None),
    ("0x3", None),
    ("99999999999999", None),  # above LONG_MAX >> 20
]


@pytest.mark.parametrize("text, level", COMPATIBILITY_LEVELS)
def test_compatibility_level(text, level):
    assert compatibility_level(text) == level


def test_compatibility_level_agrees_with_postconf(tmp_path):
    """postconf 3.6+ reads compatibility_level with compat_level_from_string() and stops with
    "malformed compatibility level syntax" where compatibility_level() says None."""
    from oracle import require_postconf

    from pfconf import postfix

    require_postconf()
    if parse_version(postfix.installed_version())[:2] < (3, 6):
        pytest.skip("compatibility levels of the N.N form came with Postfix 3.6")
    for number, (text, level) in enumerate(COMPATIBILITY_LEVELS):
        directory = tmp_path / str(number)
        directory.mkdir()
        (directory / "main.cf").write_text(f"compatibility_level = {text}\n")
        (directory / "master.cf").write_text("")
        for name in ("main.cf", "master.cf"):
            os.utime(directory / name, (0, 0))  # not "cooling down" (see tests/oracle.py)
        proc = postfix.run("postconf", ["-n"], config_dir=str(directory), timeout=60)
        refused = b"malformed compatibility level syntax" in proc.stderr
        assert refused == (level is None), f"{text!r}: postconf {proc.stderr!r}"
