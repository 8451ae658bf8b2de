"""The live lookup-table rules (LIVE001-LIVE009) on files each test builds: tables made with
the installed postmap and postalias, ages set with os.utime, modes with chmod.

Each rule has ``test_<code>_fires...`` and ``test_<code>_quiet...`` functions, which
tests/test_rule_cases.py asks for in place of corpus cases.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from oracle import require_postconf

from pfconf.lint import Finding, Options, lint
from pfconf.live import Host
from pfconf.live.tablefiles import cidr_problems
from pfconf.postfix import run


class Site:
    """A configuration directory in tmp_path, with the files its tables name."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.conf = root / "etc"
        self.conf.mkdir()

    def path(self, name: str) -> str:
        return str(self.root / name)

    def write(self, name: str, text: str, *, mode: int | None = None, age: float = 0) -> str:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        if mode is not None:
            path.chmod(mode)
        if age:
            self.age(str(path), age)
        return str(path)

    @staticmethod
    def age(path: str, seconds: float) -> None:
        """Set the file's times to ``seconds`` ago."""
        when = time.time() - seconds
        os.utime(path, (when, when))

    def main(self, text: str, master: str | None = None) -> None:
        (self.conf / "main.cf").write_text(text, encoding="utf-8")
        if master is not None:
            (self.conf / "master.cf").write_text(master, encoding="utf-8")
        for name in ("main.cf", "master.cf"):
            if (self.conf / name).exists():
                self.age(str(self.conf / name), 60)  # postconf rereads files a second old

    def postmap(self, table: str, program: str = "postmap") -> None:
        done = run(program, [table], config_dir=str(self.conf))
        assert done.returncode == 0, done.stderr

    def lint(self, *codes: str) -> list[Finding]:
        files = [str(self.conf / n) for n in ("main.cf", "master.cf") if (self.conf / n).exists()]
        run_ = lint(files, Options(select=codes or ("LIVE",), live=True))
        return run_.findings


@pytest.fixture
def site(tmp_path: Path) -> Site:
    require_postconf()
    return Site(tmp_path)


def _at(findings: list[Finding]) -> list[tuple[str, int, int, str]]:
    return [(f.code, f.line, f.column, f.severity) for f in findings]


def _missing_type() -> str:
    """A table type Postfix knows that the installed one lacks."""
    types = Host().table_types() or frozenset()
    for candidate in ("pcre", "lmdb", "cdb", "sqlite", "mysql", "pgsql", "ldap", "mongodb"):
        if candidate not in types:
            return candidate
    pytest.skip("this Postfix has every optional table type")


# -- LIVE001: the type is supported here ------------------------------------------------------


def test_live001_fires_on_a_type_postconf_m_does_not_list(site):
    missing = _missing_type()
    table = site.write("checks", "/x/ REJECT\n")
    site.main(f"header_checks = {missing}:{table}\n")
    findings = site.lint("LIVE001")
    assert _at(findings) == [("LIVE001", 1, 17, "error")]
    assert f"no {missing!r} table type" in findings[0].message
    assert "postconf -m" in findings[0].message


def test_live001_fires_on_a_registered_plugin_that_is_not_there(site):
    meta = site.root / "meta"
    meta.mkdir()
    library = site.path("lib/postfix-pcre.so")
    (meta / "dynamicmaps.cf").write_text(f"pcre\t{library}\tdict_pcre_open\n", encoding="utf-8")
    Site.age(str(meta / "dynamicmaps.cf"), 60)
    table = site.write("client.pcre", "/x/ REJECT\n")
    site.main(f"meta_directory = {meta}\nheader_checks = pcre:{table}\n")
    findings = site.lint("LIVE001")
    assert _at(findings) == [("LIVE001", 2, 17, "error")]
    assert f"plugin {library}" in findings[0].message
    assert "does not exist" in findings[0].message
    assert f"{meta / 'dynamicmaps.cf'}, line 1" in findings[0].message

    # a library others may write is refused as well (dymap_dict_lookup)
    site.write("lib/postfix-pcre.so", "not really a library", mode=0o666)
    findings = site.lint("LIVE001")
    assert len(findings) == 1 and "written by group or others (mode 0666)" in findings[0].message


def test_live001_quiet_on_built_in_types_and_a_sound_plugin(site):
    meta = site.root / "meta"
    meta.mkdir()
    site.write("lib/postfix-pcre.so", "stands in for the library", mode=0o644)
    (meta / "dynamicmaps.cf").write_text(
        "# a comment\npcre\tpostfix-pcre.so\tdict_pcre_open\n", encoding="utf-8"
    )
    Site.age(str(meta / "dynamicmaps.cf"), 60)
    regexp = site.write("checks", "/x/ REJECT\n")
    pcre = site.write("client.pcre", "/x/ REJECT\n")
    site.main(
        f"meta_directory = {meta}\nshlib_directory = {site.root / 'lib'}\n"
        f"header_checks = regexp:{regexp}\n"
        f"smtpd_client_restrictions = check_client_access pcre:{pcre}\n"
        "smtpd_sender_restrictions = check_sender_access inline:{ a@example.com=REJECT }\n"
    )
    assert site.lint("LIVE001") == []


# -- LIVE002 and LIVE003: indexed tables built and up to date -----------------------------------


def test_live002_fires_when_postmap_was_never_run(site):
    source = site.write("virtual", "a@example.com b@example.net\n")
    site.main(f"virtual_alias_maps = hash:{source}\n")
    findings = site.lint("LIVE002")
    assert _at(findings) == [("LIVE002", 1, 22, "error")]
    assert f"{source}.db does not exist" in findings[0].message
    assert f"run postmap hash:{source}" in findings[0].message


def test_live002_fires_on_a_dangling_link_in_place_of_the_database(site):
    source = site.write("virtual", "a@example.com b@example.net\n")
    os.symlink(site.path("gone.db"), source + ".db")
    site.main(f"virtual_alias_maps = hash:{source}\n")
    [finding] = site.lint("LIVE002")
    assert f"is a dangling symbolic link to {site.path('gone.db')}" in finding.message


def test_live002_quiet_when_the_database_is_built(site):
    source = site.write("virtual", "a@example.com b@example.net\n")
    site.main(f"virtual_alias_maps = hash:{source}\n")
    site.postmap(f"hash:{source}")
    assert site.lint("LIVE002", "LIVE003") == []


def test_live003_fires_when_the_source_changed_after_postmap(site):
    source = site.write("sasl_passwd", "[relay.example.net]:587 user:secret\n")
    site.main(f"smtp_sasl_password_maps = hash:{source}\n")
    site.postmap(f"hash:{source}")
    Site.age(source + ".db", 7200)
    Site.age(source, 3600)
    findings = site.lint("LIVE002", "LIVE003")
    assert _at(findings) == [("LIVE003", 1, 27, "warning")]
    assert f"{source}.db is older than its source {source}" in findings[0].message


def test_live003_quiet_while_the_source_changed_only_seconds_ago(site):
    # Postfix itself says nothing for 100 seconds: a postmap may be running right now
    source = site.write("sasl_passwd", "[relay.example.net]:587 user:secret\n")
    site.main(f"smtp_sasl_password_maps = hash:{source}\n")
    site.postmap(f"hash:{source}")
    Site.age(source + ".db", 7200)
    Site.age(source, 30)
    assert site.lint("LIVE003") == []


# -- LIVE004: the file of a file-based table ---------------------------------------------------


def test_live004_fires_on_a_missing_file_a_directory_and_a_fifo(site):
    os.mkdir(site.path("adir"))
    os.mkfifo(site.path("fifo"))
    site.main(
        f"header_checks = regexp:{site.path('nothing')}\n"
        f"body_checks = regexp:{site.path('adir')}\n"
        f"mime_header_checks = regexp:{site.path('fifo')}\n"
    )
    findings = site.lint("LIVE004")
    assert _at(findings) == [
        ("LIVE004", 1, 17, "error"),
        ("LIVE004", 2, 15, "error"),
        ("LIVE004", 3, 22, "error"),
    ]
    assert "does not exist" in findings[0].message
    assert "is a directory, not a regular file" in findings[1].message
    assert "is a named pipe (FIFO), not a regular file" in findings[2].message


def test_live004_quiet_on_files_that_are_there_and_inline_tables(site):
    checks = site.write("checks", "/x/ REJECT\n")
    cidr = site.write("clients.cidr", "192.0.2.0/24 REJECT\n")
    site.main(
        f"header_checks = regexp:{checks}\n"
        f"smtpd_client_restrictions = check_client_access cidr:{cidr}\n"
        "body_checks = regexp:{{/^x/ REJECT}}\n"
    )
    assert site.lint("LIVE004") == []


# -- LIVE005: cidr lines ----------------------------------------------------------------------


def test_live005_fires_on_each_line_postfix_skips(site):
    cidr = site.write(
        "clients.cidr",
        "# clients\n192.0.2.0/24 OK\n192.168.1.1/24 REJECT\n10.0.0.0/33 REJECT\n2001:db8::/32\n",
    )
    site.main(f"smtpd_client_restrictions = check_client_access cidr:{cidr}\n")
    findings = site.lint("LIVE005")
    assert _at(findings) == [("LIVE005", 1, 49, "warning")] * 3
    messages = [f.message for f in findings]
    assert "line 3: '192.168.1.1/24' has bits set beyond the prefix length" in messages[0]
    assert "192.168.1.0/24" in messages[0]
    assert "line 4: '10.0.0.0/33': the prefix length 33 is longer than 32 bits" in messages[1]
    assert "line 5: no lookup result" in messages[2]
    assert all(m.endswith("Postfix skips this line") for m in messages)


def test_live005_quiet_on_a_clean_table(site):
    cidr = site.write(
        "clients.cidr",
        "192.0.2.0/24 OK\n[2001:db8::]/32 REJECT\n!10.0.0.0/8\n  REJECT not ours\n"
        "IF 198.51.100.0/24\n198.51.100.7 OK\nENDIF\n",
    )
    site.main(f"smtpd_client_restrictions = check_client_access cidr:{cidr}\n")
    assert site.lint("LIVE005") == []


def test_the_cidr_reader_agrees_with_postmap(site):
    """Every line dict_cidr.c skips (postmap's warnings) and no other."""
    lines = [
        "192.0.2.0/24 OK", "192.0.2.1/24 OK", "01.2.3.4 OK", "1.2.3 OK", "::1 OK",
        "[::1]/128 OK", "[::1 OK", "[::1]x OK", "192.0.2.9", "IF 10.0.0.0/8", "ENDIF x",
        "1.2.3.4/33 OK", "1.2.3.4/ OK", "1.2.3.4/-1 OK", "!1.2.3.4 REJECT",
        "2001:db8::1/32 OK", "0.0.0.0/0 OK", "1.0.0.0/0 OK", "IF !192.168.0.0/16",
        "192.168.1.0/24 OK", "ENDIF", "ENDIF", "IF", "IF 1.2.3.4 x", "IF1.2.3.4", "endif",
        "fe80::1%eth0 OK", "10.0.0.0/8", " REJECT", "1.2.3.4\tOK", "IF 10.1.0.0/16",
    ]  # fmt: skip
    path = site.write("oracle.cidr", "\n".join(lines) + "\n")
    site.main("")
    done = run("postmap", ["-q", "192.0.2.200", f"cidr:{path}"], config_dir=str(site.conf))
    said = sorted(
        int(line.split(", line ")[1].split(":")[0])
        for line in done.stderr.decode().splitlines()
        if f"cidr map {path}, line " in line
    )
    ours = sorted(p.line for p in cidr_problems(Path(path).read_bytes(), (3, 7)))
    assert said and ours == said


# -- LIVE006: regexp, pcre and texthash lines, as postmap reads them ----------------------------


def test_live006_fires_on_what_postmap_warns_about(site):
    checks = site.write(
        "header_checks", "/^Subject: (win/ REJECT\n/^From:/ OK\n/^To:/q DUNNO\nbogus line\n"
    )
    site.main(f"header_checks = regexp:{checks}\n")
    findings = site.lint("LIVE006")
    assert _at(findings) == [("LIVE006", 1, 17, "warning")] * 3
    assert [f.message.split(", line ")[1].split(":")[0] for f in findings] == ["1", "3", "4"]
    assert "postmap warns: unknown regexp option" in findings[1].message
    assert findings[1].message.endswith("Postfix skips this line")


def test_live006_quiet_on_a_table_postmap_reads_without_a_word(site):
    checks = site.write("header_checks", "/^Subject: \\(win/ REJECT\nIF /^X-/\n/y/ OK\nENDIF\n")
    site.main(f"header_checks = regexp:{checks}\n")
    assert site.lint("LIVE006") == []


def test_live006_fires_on_texthash_lines_postmap_ignores(site):
    table = site.write(
        "client_access", '192.0.2.1 REJECT\nnovalue\n"192.0.2.2 OK\nuser: REJECT\n'
    )
    site.main(f"smtpd_client_restrictions = check_client_access texthash:{table}\n")
    findings = site.lint("LIVE006")
    assert _at(findings) == [("LIVE006", 1, 49, "warning")] * 3
    lines = [f.message.split(", line ")[1].split(":")[0] for f in findings]
    assert lines == ["2", "3", "4"]
    assert "expected format: key whitespace value: Postfix skips this line" in findings[0].message
    assert "unbalanced" in findings[1].message
    # a "key: value" line is used as it is: Postfix only warns
    assert findings[2].message.endswith("Postfix logs this each time it opens the table")


def test_live006_quiet_on_a_texthash_table_with_quoted_keys_and_continuations(site):
    table = site.write(
        "client_access", '# clients\n192.0.2.1 REJECT\n"a b" OK\nexample.com\n  REJECT\n'
    )
    site.main(f"smtpd_client_restrictions = check_client_access texthash:{table}\n")
    assert site.lint("LIVE006", "LIVE024") == []


# -- LIVE024: a texthash key given twice --------------------------------------------------------


def test_live024_fires_on_a_repeated_texthash_key(site):
    table = site.write(
        "client_access", "192.0.2.1 REJECT\n192.0.2.9 OK\n192.0.2.1 OK\n192.0.2.9 DUNNO\n"
    )
    site.main(f"smtpd_client_restrictions = check_client_access texthash:{table}\n")
    findings = site.lint("LIVE024", "LIVE006")
    assert _at(findings) == [("LIVE024", 1, 49, "error")]
    assert f"{table}, line 3: the key \"192.0.2.1\" was given before (and 1 more)" in (
        findings[0].message
    )


def test_live024_quiet_when_the_same_file_is_a_hash_table(site):
    # postmap builds a hash table from the file with a warning, and the daemons read the
    # database, where the key is once
    table = site.write("client_access", "192.0.2.1 REJECT\n192.0.2.1 OK\n")
    site.main(f"smtpd_client_restrictions = check_client_access hash:{table}\n")
    site.postmap(f"hash:{table}")
    assert site.lint("LIVE024", "LIVE006") == []


# -- LIVE007 and LIVE008: database client configurations ----------------------------------------


def test_live007_fires_on_a_missing_client_configuration(site):
    site.main(f"virtual_mailbox_maps = proxy:mysql:{site.path('mysql-mailboxes.cf')}\n")
    findings = site.lint("LIVE007")
    assert _at(findings) == [("LIVE007", 1, 30, "error")]
    assert "client configuration" in findings[0].message
    assert "does not exist" in findings[0].message


def test_live007_quiet_when_it_is_there_or_lives_in_main_cf(site):
    config = site.write("ldap.cf", "server_host = ldap.example.com\n", mode=0o640)
    site.main(
        f"virtual_alias_maps = ldap:{config}, ldap:ldapsource\n"
        "ldapsource_server_host = ldap.example.com\n"
    )
    assert site.lint("LIVE007") == []


def test_live008_fires_on_a_password_everyone_can_read(site):
    config = site.write(
        "mysql.cf", "hosts = db.example.com\nuser = postfix\npassword = secret\n", mode=0o644
    )
    site.main(f"transport_maps = mysql:{config}\n")
    findings = site.lint("LIVE008")
    assert _at(findings) == [("LIVE008", 1, 18, "warning")]
    assert "holds password (line 3)" in findings[0].message and "0644" in findings[0].message


def test_live008_quiet_without_others_read_or_without_a_secret(site):
    mysql = site.write("mysql.cf", "password = secret\n", mode=0o640)
    sqlite = site.write("sqlite.cf", "dbpath = /var/lib/db.sqlite\n", mode=0o644)
    ldap = site.write("ldap.cf", "bind = no\nbind_pw =\n", mode=0o644)
    site.main(f"transport_maps = mysql:{mysql}, sqlite:{sqlite}, ldap:{ldap}\n")
    assert site.lint("LIVE008") == []


# -- LIVE009: aliases ------------------------------------------------------------------------


def _aliases(site: Site) -> str:
    source = site.write("aliases", "postmaster: root\n")
    site.main(f"alias_maps = hash:{source}\nalias_database = hash:{source}\n")
    return source


def test_live009_fires_when_newaliases_never_ran(site):
    source = _aliases(site)
    findings = site.lint("LIVE002", "LIVE009")
    assert _at(findings) == [("LIVE009", 1, 14, "error")]
    assert f"{source}.db does not exist" in findings[0].message
    assert "local delivery defers mail that needs an alias; run newaliases" in (
        findings[0].message
    )
    # no local(8): smtpd still reads it (local_recipient_maps), and says nothing of delivery
    site.main(
        f"alias_maps = hash:{source}\nalias_database = hash:{source}\n",
        "smtp      inet  n       -       n       -       -       smtpd\n",
    )
    findings = site.lint("LIVE009")
    assert [f.message.split(": ", 2)[-1] for f in findings] == [
        "every lookup in it fails; run newaliases"
    ]


def test_live009_fires_as_a_warning_when_the_aliases_changed_since(site):
    source = _aliases(site)
    site.postmap(f"hash:{source}", program="postalias")
    Site.age(source + ".db", 7200)
    Site.age(source, 3600)
    findings = site.lint("LIVE003", "LIVE009")
    assert _at(findings) == [("LIVE009", 1, 14, "warning")]
    assert "older than its source" in findings[0].message


def test_live009_quiet_when_built_or_when_nothing_reads_it(site):
    source = _aliases(site)
    site.postmap(f"hash:{source}", program="postalias")
    assert site.lint("LIVE009") == []
    # an alias_database no program reads has no effect, built or not
    other = site.write("other-aliases", "postmaster: root\n")
    built = site.write("aliases2", "postmaster: root\n")
    site.postmap(f"hash:{built}", program="postalias")
    site.main(f"alias_maps = hash:{built}\nalias_database = hash:{other}\n")
    assert site.lint("LIVE002", "LIVE009") == []
