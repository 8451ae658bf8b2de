"""The editing API: every case of tests/data/edit_cases.toml, byte for byte, and edits on the
real corpus checked with postconf."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pfconf import _toml, loads
from pfconf.edit import EditError, MainEditor, MasterEditor

CASES = _toml.loads((Path(__file__).parent / "data" / "edit_cases.toml").read_text())["case"]


def apply(editor, op):  # type: ignore[no-untyped-def]
    verb, *args = op
    if verb == "list_add_after":
        name, item, after = args
        return editor.list_add(name, item, after=after)
    return getattr(editor, verb)(*args)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(case):
    kind = case.get("kind", "main")
    doc = loads(case["input"], kind)
    editor = MainEditor(doc) if kind == "main" else MasterEditor(doc)
    for op in case["ops"]:
        apply(editor, op)
    assert editor.text == case["expected"]
    # the result reads back as the same text
    assert loads(editor.text, kind).dumps() == case["expected"]


def test_a_failed_edit_changes_nothing():
    editor = MainEditor(loads("a = 1\n"))
    with pytest.raises(EditError):
        editor.set("bad name", "x")
    with pytest.raises(EditError):
        editor.set("b", "two\nlines")
    assert editor.text == "a = 1\n" and editor.changes == []


def test_rename_refuses_to_overwrite():
    editor = MainEditor(loads("smtpd_use_tls = yes\nsmtpd_tls_security_level = may\n"))
    with pytest.raises(EditError):
        editor.rename("smtpd_use_tls", "smtpd_tls_security_level")


def test_changes_are_recorded_and_secrets_hidden():
    editor = MainEditor(loads("relayhost =\n"))
    editor.set("relayhost", "[smtp.example.net]:587", reason="relay")
    editor.set("smtp_sasl_password_maps", "hash:/etc/postfix/sasl_passwd", secret=True)
    described = [c.describe() for c in editor.changes]
    assert described[0] == "main.cf: relayhost:  -> [smtp.example.net]:587 (relay)"
    assert "***" in described[1] and "sasl_passwd" not in described[1]


# ---------------------------------------------------------------- the real corpus, with postconf

from conftest import oracle_table, real_files

from pfconf.kb import KnowledgeBase

_ACCEPTED = {name for name, (accepted, _) in oracle_table().items() if accepted == "yes"}


def _accepted(kind: str) -> list[Path]:
    return [p for p in real_files(kind) if f"{kind}/{p.name}" in _ACCEPTED]


def _outside(before: str, after: str) -> tuple[list[str], list[str]]:
    """The lines the two texts share at the start and at the end."""
    a, b = before.splitlines(True), after.splitlines(True)
    head = 0
    while head < min(len(a), len(b)) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    return a[head : len(a) - tail], b[head : len(b) - tail]


@pytest.mark.parametrize("path", _accepted("main"), ids=lambda p: p.name)
def test_real_main_cf_edits(path):
    """No-op: byte-identical.  Set and unset one parameter: postconf -n shows exactly that
    change, and only that entry's lines differ."""
    from oracle import read_main, require_postconf

    require_postconf()
    data = path.read_bytes()
    doc = loads(data, "main")
    editor = MainEditor(doc)
    assert editor.dumps() == data
    before = read_main(data)
    kb = KnowledgeBase()
    # parameters postconf -n shows without judging the value (it refuses a bad inet_protocols,
    # a set of words that the knowledge base types as text)
    names = [
        e.name
        for e in doc.entries
        if e.name in before.values
        and e.name != "inet_protocols"
        and (kb.parameter(e.name) or {}).get("kind") in ("text", "table_list", "path")
    ]
    # (a file with no such parameter still gets the added-parameter check below)
    for name in names[len(names) // 2 :][:1]:
        _set_and_unset(doc, before, name)
    if "smtpd_tls_auth_only" not in before.values:
        added = MainEditor(doc)
        added.set("smtpd_tls_auth_only", "yes")
        shown = read_main(added.dumps())  # type: ignore[arg-type]
        assert shown.values == {**before.values, "smtpd_tls_auth_only": "yes"}


def _set_and_unset(doc, before, name):  # type: ignore[no-untyped-def]
    from oracle import read_main

    editor = MainEditor(doc)
    entry = doc.get(name)
    editor.set(name, "pfconf-edited")
    after = read_main(editor.dumps())  # type: ignore[arg-type]
    assert after.values == {**before.values, name: "pfconf-edited"}
    assert after.raw == before.raw
    old_lines, new_lines = _outside(doc.dumps(), editor.text)
    assert "".join(old_lines).count("\n") <= entry.node.dump().count("\n") + 1
    assert len(new_lines) == 1 and new_lines[0].startswith(name)

    editor.unset(name)
    gone = read_main(editor.dumps())  # type: ignore[arg-type]
    wanted = dict(before.values)
    del wanted[name]
    assert gone.values == wanted


@pytest.mark.parametrize("path", _accepted("master"), ids=lambda p: p.name)
def test_real_master_cf_edits(path):
    """No-op: byte-identical.  Set and unset an override: postconf -P shows exactly that."""
    from oracle import read_master, require_postconf

    require_postconf()
    data = path.read_bytes()
    doc = loads(data, "master")
    editor = MasterEditor(doc)
    assert editor.dumps() == data
    smtpd = [s for s in doc.services if s.command.endswith("smtpd")] or list(doc.services)
    key = smtpd[-1].key
    _, _, before = read_master(data, "-P")
    # Every accepted file takes the edit, master/053 too: there "-o smtpd_sasl_type = dovecot"
    # makes "=" the first plain argument, and the new -o goes just before it.
    editor.set_override(key, "smtpd_tls_security_level", "encrypt")
    _, _, after = read_master(editor.dumps(), "-P")  # type: ignore[arg-type]
    line = f"{key}/smtpd_tls_security_level = encrypt"
    assert sorted(after) == sorted([l for l in before if not l.startswith(f"{key}/smtpd_tls_security_level =")] + [line])
    editor.unset_override(key, "smtpd_tls_security_level")
    _, _, unset = read_master(editor.dumps(), "-P")  # type: ignore[arg-type]
    assert sorted(unset) == sorted(l for l in before if not l.startswith(f"{key}/smtpd_tls_security_level ="))


def _as_dict(lines: list[str]) -> dict[str, str]:
    return dict(line.split(" = ", 1) if " = " in line else (line.rstrip(" ="), "") for line in lines)


@pytest.mark.parametrize("path", _accepted("master"), ids=lambda p: p.name)
def test_real_master_cf_service_changes(path):
    """On every real master.cf: a service commented out (pfedit's marker) and uncommented
    comes back byte for byte; postscreen put in front of smtpd (smtpd/pass added after
    smtp/inet, the overrides moved there, smtp/inet's command changed) reads in postconf -F
    and -P exactly as intended.  An edit refused leaves the text as it was."""
    from oracle import read_master, require_postconf

    require_postconf()
    data = path.read_bytes()
    editor = MasterEditor(loads(data, "master"))
    key = editor.doc.services[-1].key
    assert editor.comment_service(key, "a test")
    assert key not in [s.key for s in editor.doc.services]
    assert editor.uncomment_service(key)
    assert editor.dumps() == data
    smtp = editor.doc.service("smtp", "inet")
    if smtp is None or smtp.command != "smtpd":
        return
    _, _, fields_before = read_master(data, "-F")
    _, _, before = read_master(data, "-P")
    try:
        with editor._atomic():
            editor.add_service("smtpd pass - - n - - smtpd", after="smtp/inet")
            editor.move_overrides("smtp/inet", "smtpd/pass")
            editor.set_command("smtp/inet", "postscreen")
    except EditError as exc:
        assert "by hand" in str(exc)
        assert editor.dumps() == data
        return
    _, _, after = read_master(editor.dumps(), "-P")  # type: ignore[arg-type]
    wanted = {}
    for name, value in _as_dict(before).items():
        service, _, option = name.rpartition("/")
        if service == "smtp/inet":
            wanted[f"smtpd/pass/{option}"] = value
        elif not (service == "smtpd/pass" and f"smtp/inet/{option}" in _as_dict(before)):
            wanted[name] = value
    assert _as_dict(after) == wanted
    _, _, fields = read_master(editor.dumps(), "-F")  # type: ignore[arg-type]
    def command(lines: list[str]) -> str:
        """smtp/inet's command and arguments as postconf -F shows them, -o options left out."""
        line = next(line for line in lines if line.startswith("smtp/inet/command = "))
        return re.sub(r" -o (\{[^}]*\}|\S+)", "", line)

    # its other arguments kept
    assert command(fields) == command(fields_before).replace(" = smtpd", " = postscreen", 1)
    assert [line for line in fields if not line.startswith(("smtp/inet/command", "smtpd/pass/"))] == [
        line for line in fields_before
        if not line.startswith(("smtp/inet/command", "smtpd/pass/"))
    ]  # fmt: skip


STOCK = [
    Path("/usr/share/postfix/main.cf.dist"),
    Path("/usr/share/postfix/master.cf.dist"),
    Path(__file__).resolve().parent.parent / "rules" / "stock-master.cf",
]


@pytest.mark.parametrize("path", STOCK, ids=lambda p: p.name)
def test_stock_files(path):
    """Postfix's own files (installed with the package; .ci/run installs it): a no-op edit
    is byte-identical and an edit is read back by postconf as intended."""
    from oracle import read_main, read_master, require_postconf

    require_postconf()
    data = path.read_bytes()
    if "master" in path.name:
        editor = MasterEditor(loads(data, "master"))
        assert editor.dumps() == data
        assert editor.enable_service("submission/inet", {"smtpd_tls_security_level": "encrypt"}) or (
            path.name == "stock-master.cf"  # pfconf's copy has no commented examples
            and editor.add_service("submission inet n - n - - smtpd")
            and editor.set_override("submission/inet", "smtpd_tls_security_level", "encrypt")
        )
        _, _, shown = read_master(editor.dumps(), "-P")  # type: ignore[arg-type]
        assert "submission/inet/smtpd_tls_security_level = encrypt" in shown
    else:
        editor = MainEditor(loads(data, "main"))
        assert editor.dumps() == data
        editor.set("smtpd_tls_auth_only", "yes")
        # the stock file has several commented relayhost examples: name the last one
        editor.uncomment("relayhost", line=editor.commented("relayhost")[-1])
        reading = read_main(editor.dumps())  # type: ignore[arg-type]
        assert reading.values["smtpd_tls_auth_only"] == "yes"
        assert "relayhost" in reading.values


def test_list_differences_rebuild_the_new_list():
    """The stretches _differences() finds turn the old list into the new one, and items that
    both lists hold once, in the same order, stay."""
    import random

    from pfconf.edit.main import _differences

    rng = random.Random(4)
    for _ in range(2000):
        old = [rng.choice("abcdefgh") + str(rng.randrange(3)) for _ in range(rng.randrange(12))]
        new = list(old)
        for _ in range(rng.randrange(4)):
            at = rng.randrange(len(new) + 1)
            if rng.random() < 0.5 and new:
                del new[min(at, len(new) - 1)]
            else:
                new.insert(at, rng.choice("abcxyz") + "0")
        rebuilt: list[str] = []
        i = 0
        for i1, i2, j1, j2 in _differences(old, new):
            assert i1 >= i and (i1, i2, j1, j2) != (i1, i1, j1, j1)
            rebuilt += old[i:i1] + new[j1:j2]
            i = i2
        rebuilt += old[i:]
        assert rebuilt == new, (old, new)
    # every other item changed: one stretch per change, nothing else moves
    old = [f"item{n}" for n in range(10)]
    new = [f"new{n}" if n % 2 else f"item{n}" for n in range(10)]
    assert _differences(old, new) == [(n, n + 1, n, n + 1) for n in range(1, 10, 2)]


def test_a_service_pfedit_commented_out_comes_back_whole():
    """enable_service (a recipe's service step) brings back what comment_service took, its
    -o lines included, and then sets the overrides asked for; commenting out again and
    uncommenting gives back the same bytes."""
    text = (
        "smtp      inet  n       -       y       -       -       smtpd\n"
        "submission inet n       -       y       -       -       smtpd\n"
        "  -o syslog_name=postfix/submission\n"
        "# a note inside the entry\n"
        "  -o smtpd_tls_security_level=encrypt\n"
        "pickup    unix  n       -       y       60      1       pickup\n"
    )
    editor = MasterEditor(loads(text, "master"))
    assert editor.comment_service("submission/inet", "not\nused  here")
    assert editor.text == text.replace(
        "submission inet", "# pfedit: commented out submission/inet (4 lines below): not used here\n"
        "#submission inet"
    ).replace("  -o", "#  -o").replace("# a note", "## a note")  # fmt: skip
    assert not editor.comment_service("submission/inet")
    assert editor.commented_service("submission/inet")
    assert editor.enable_service("submission/inet", {"smtpd_sasl_auth_enable": "yes"})
    assert editor.doc.service("submission", "inet").overrides == {
        "syslog_name": "postfix/submission",
        "smtpd_tls_security_level": "encrypt",
        "smtpd_sasl_auth_enable": "yes",
    }
    assert editor.text == text.replace(
        "pickup", "  -o smtpd_sasl_auth_enable=yes\npickup", 1
    )  # fmt: skip
    with pytest.raises(EditError, match="no service nosuch/inet"):
        editor.set_command("nosuch/inet", "postscreen")
    with pytest.raises(EditError, match="not one master.cf word"):
        editor.set_command("smtp/inet", "post screen")
    assert not editor.set_command("smtp/inet", "smtpd")
