"""Edits that mean exactly what they say (issue #10): lines end where Postfix ends them,
``uncomment`` undoes ``comment`` byte for byte, a value that is not a list is kept verbatim.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import invoke, oracle_table, real_files
from oracle import read_main

from pfconf import loads
from pfconf.cli.pfedit import cli as pfedit
from pfconf.edit import EditError, MainEditor, MasterEditor

# Characters str.splitlines() takes for a line break and Postfix does not.
LOOKALIKES = ["\r", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


@pytest.mark.parametrize("char", LOOKALIKES, ids=lambda c: f"U+{ord(c):04X}")
def test_unset_after_a_comment_holding_a_line_break_lookalike(char: str, tmp_path: Path) -> None:
    text = f"# note{char}more note\nmyhostname = a\nrelayhost = b\nbiff = no\n"
    (tmp_path / "main.cf").write_bytes(text.encode("utf-8"))
    invoke(pfedit, ["-c", tmp_path, "unset", "relayhost"], 0)
    assert (tmp_path / "main.cf").read_bytes().decode("utf-8") == text.replace("relayhost = b\n", "")


@pytest.mark.parametrize("char", LOOKALIKES, ids=lambda c: f"U+{ord(c):04X}")
def test_every_edit_keeps_lookalikes_in_other_lines(char: str) -> None:
    text = f"a = 1\n# x{char}y\nb = 2\n  continued{char}z\nc = 3\n"
    editor = MainEditor(loads(text))
    editor.set("c", "4")
    editor.set("d", "5")
    editor.unset("a")
    editor.comment("c")
    editor.uncomment("c")
    assert editor.text == f"# x{char}y\nb = 2\n  continued{char}z\nc = 4\nd = 5\n"


@pytest.mark.parametrize("char", LOOKALIKES, ids=lambda c: f"U+{ord(c):04X}")
def test_service_remove_after_a_lookalike(char: str) -> None:
    text = (
        f"# services{char}more\nsmtp inet n - n - - smtpd\n"
        "pickup unix n - n 60 1 pickup\ncleanup unix n - n - 0 cleanup\n"
    )
    editor = MasterEditor(loads(text, "master"))
    assert editor.remove_service("pickup/unix")
    assert editor.text == text.replace("pickup unix n - n 60 1 pickup\n", "")


@pytest.mark.parametrize("char", LOOKALIKES, ids=lambda c: f"U+{ord(c):04X}")
def test_set_refuses_a_value_with_a_lookalike(char: str) -> None:
    editor = MainEditor(loads("a = 1\n"))
    with pytest.raises(EditError, match="line break"):
        editor.set("a", f"x{char}y")
    assert editor.text == "a = 1\n"


# -- comment / uncomment ---------------------------------------------------------------------

ENTRIES = {
    "one-space continuations, no commas": (
        "smtpd_client_restrictions =\n permit_mynetworks\n reject_unknown_client_hostname\n"
    ),
    "one-space continuation after a comma": "mydestination = a.example,\n b.example\n",
    "one-space continuation after a word": (
        "smtpd_recipient_restrictions = permit_mynetworks\n reject_unauth_destination\n"
    ),
    "a comment inside the entry": (
        "smtpd_recipient_restrictions =\n    permit_mynetworks,\n# disabled: x,\n"
        "    reject_unauth_destination\n"
    ),
    "a blank line inside the entry": "mynetworks = 127.0.0.0/8\n\n  [::1]/128\n",
    "tab continuation": "alias_maps = hash:/etc/aliases,\n\thash:/etc/more\n",
}
PROSE_AFTER = "# See the manual for more\nbiff = no\n"


@pytest.mark.parametrize("entry", ENTRIES.values(), ids=list(ENTRIES))
def test_uncomment_undoes_comment(entry: str) -> None:
    text = "myhostname = a\n" + entry + PROSE_AFTER
    name = entry.split("=")[0].strip()
    editor = MainEditor(loads(text))
    assert editor.comment(name)
    assert name not in loads(editor.text).effective()
    assert editor.uncomment(name)
    assert editor.text == text


@pytest.mark.parametrize(
    "commented, value",
    [
        ("#relayhost = $mydomain\n# main.cf\n", "$mydomain"),  # real: corpus main/108
        ("#minimal_backoff_time =  \n# Delai maximal\n", ""),  # real: main/003
        (("#smtpd_recipient_restrictions = permit_mynetworks reject_unauth_destination\n"
         "# Recipient restrictions:\n"), "permit_mynetworks reject_unauth_destination"),
        ("#mydestination = $myhostname, localhost\n#\tmail.$mydomain\n#\n# NEXT\n",
         "$myhostname, localhost mail.$mydomain"),
    ],
)  # fmt: skip
def test_uncomment_leaves_the_prose_after_an_example(commented: str, value: str) -> None:
    editor = MainEditor(loads("biff = no\n" + commented))
    name = commented[1:].split("=")[0].strip()
    assert editor.uncomment(name)
    assert " ".join(loads(editor.text).effective()[name].split()) == value
    for line in commented.splitlines()[1:]:
        if line.startswith("# "):  # prose stays a comment where it was
            assert line + "\n" in editor.text


_ACCEPTED = {name for name, (accepted, _) in oracle_table().items() if accepted == "yes"}


@pytest.mark.parametrize(
    "path",
    [p for p in real_files("main") if f"main/{p.name}" in _ACCEPTED],
    ids=lambda p: p.name,
)
def test_comment_and_uncomment_real_entries(path: Path) -> None:
    """The parameters of a real main.cf that are hardest to bring back come back byte for
    byte: those with continuation or comment lines, or a commented line right after them
    (up to eight per file; every entry of every file passed this when it was written)."""
    data = path.read_bytes()
    doc = loads(data, "main")
    lines = doc.dumps().split("\n")
    names = [e.name for e in doc.entries]

    def hardness(entry) -> int:  # type: ignore[no-untyped-def]
        after = entry.line - 1 + len(entry.node.dump().split("\n")) - 1
        followed = after < len(lines) and lines[after].startswith("#")
        return 2 * followed + bool(entry.node.inner)

    candidates = [e for e in doc.entries if names.count(e.name) == 1 and hardness(e)]
    candidates.sort(key=hardness, reverse=True)  # stable: file order within a score
    once = [e.name for e in candidates[:8]]
    for name in once:
        editor = MainEditor(doc)
        assert editor.comment(name)
        assert editor.uncomment(name), name
        assert editor.dumps() == data, name


def test_stock_examples_uncomment_as_postconf_reads_them() -> None:
    """Each commented example in Postfix's own main.cf.dist uncomments to the value its
    lines say, and postconf reads that value."""
    stock = Path("/usr/share/postfix/main.cf.dist")
    if not stock.exists():
        pytest.fail("Postfix's shared files are missing: .ci/run installs postfix")
    data = stock.read_bytes()
    doc = loads(data)
    for name, value in [
        ("relayhost", "[an.ip.add.ress]"),
        ("mydestination", ("$myhostname, localhost.$mydomain, localhost, $mydomain, "
                          "mail.$mydomain, www.$mydomain, ftp.$mydomain")),
    ]:  # fmt: skip
        editor = MainEditor(doc)
        with pytest.raises(EditError, match="commented out"):
            editor.uncomment(name)  # several examples: which one?
        assert editor.uncomment(name, line=editor.commented(name)[-1])
        reading = read_main(editor.dumps())
        assert reading.values[name] == value


# -- pfedit show -------------------------------------------------------------------------------


def _master_files() -> list[Path]:
    from conftest import CORPUS

    accepted = [p for p in real_files("master") if f"master/{p.name}" in _ACCEPTED]
    return sorted((CORPUS / "master").glob("*.cf")) + accepted


@pytest.mark.parametrize("path", _master_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_show_prints_master_cf_as_postconf_does(path: Path) -> None:
    """pfedit show's master.cf part is postconf -M followed by postconf -P, line for line."""
    from oracle import read_master

    from pfconf.show import master_lines

    data = path.read_bytes()
    status, stderr, services = read_master(data, "-M")
    assert status == 0, stderr
    _, _, overrides = read_master(data, "-P")
    assert master_lines(loads(data, "master")) == services + overrides


def test_show_duplicate_keys_share_their_overrides() -> None:
    from oracle import read_master

    from pfconf.show import master_lines

    data = (
        b"smtp inet n - n - - smtpd -o a=b plain { x y } -o c=d\n"
        b"smtp inet n - n - - smtpd -o e=f -o a=z\n"
        b"submission inet n - n - - smtpd\n  -o { g = h i }\n"
    )
    _, _, services = read_master(data, "-M")
    _, _, overrides = read_master(data, "-P")
    assert master_lines(loads(data, "master")) == services + overrides


# -- set keeps a value that is not a list verbatim ---------------------------------------------


@pytest.mark.parametrize(
    "name, value",
    [
        ("my_banner", "Hi, there, friend"),
        ("my_banner", "a = b"),
        ("smtpd_banner", "$myhostname ESMTP, at your service"),
    ],
)
def test_set_keeps_a_text_value_verbatim(name: str, value: str, tmp_path: Path) -> None:
    text = f"{name} = old,\n    multi-line\nbiff = no\n"
    (tmp_path / "main.cf").write_text(text)
    result = invoke(pfedit, ["-c", tmp_path, "set", f"{name}={value}"], 0)
    assert value in result.output
    data = (tmp_path / "main.cf").read_bytes()
    assert data == f"{name} = {value}\nbiff = no\n".encode()
    reading = read_main(data)
    assert reading.raw.get(name, reading.values.get(name)) == value


# -- recipes: an obsolete switch defined twice --------------------------------------------------


def test_sasl_tls_removes_every_copy_of_an_obsolete_switch(tmp_path: Path) -> None:
    (tmp_path / "main.cf").write_text(
        "smtpd_use_tls = no\nmyhostname = mail.example.com\n"
        "smtpd_tls_cert_file = /etc/ssl/mail.pem\nsmtpd_tls_key_file = /etc/ssl/mail.key\n"
        "smtpd_use_tls = yes\n"
    )
    (tmp_path / "master.cf").write_bytes(Path("/usr/share/postfix/master.cf.dist").read_bytes())
    args = ["-c", tmp_path, "apply", "sasl-tls", "--postfix-version", "3.7"]
    invoke(pfedit, args, 0)
    invoke(pfedit, [*args, "--check"], 0)  # the first run did everything
    values = read_main((tmp_path / "main.cf").read_bytes()).values
    assert "smtpd_use_tls" not in values
    assert values["smtpd_tls_security_level"] == "may"


def test_set_keeps_an_unspaced_entry_unspaced() -> None:
    """Debian writes ``smtp_tls_security_level=may``: the new value goes in the same style,
    not as ``= dane`` with a blank that no other entry there has."""
    editor = MainEditor(loads("smtp_tls_security_level=may\nrelayhost =\nempty=\n", "main"))
    editor.set("smtp_tls_security_level", "dane")
    editor.set("relayhost", "[smtp.example.net]:587")
    editor.set("empty", "x")
    assert editor.text == (
        "smtp_tls_security_level=dane\nrelayhost = [smtp.example.net]:587\nempty=x\n"
    )


def test_set_override_leaves_a_list_with_the_same_items_alone() -> None:
    """``-o { smtpd_client_restrictions = a, b }`` already says ``a,b``: rewriting it would
    change bytes, not what smtpd reads."""
    text = (
        "submission inet n - y - - smtpd\n"
        "  -o { smtpd_client_restrictions = permit_sasl_authenticated, reject }\n"
    )
    editor = MasterEditor(loads(text, "master"))
    assert not editor.set_override(
        "submission/inet", "smtpd_client_restrictions", "permit_sasl_authenticated,reject"
    )
    assert editor.text == text
    # other items are a change
    assert editor.set_override("submission/inet", "smtpd_client_restrictions", "reject")
