"""List splitting, $name references and lookup-table references (pfconf.values)."""

from __future__ import annotations

import pytest

from pfconf.values import find_references, find_tables, parse_table, split_list, strip_braces


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
