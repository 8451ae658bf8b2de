"""The virtual-mailboxes recipe read back with postconf: what it writes, that a second run
changes nothing, and that it refuses (writing nothing) where hosting a domain would change
where existing mail goes.  The end-to-end proof with Dovecot is
tests/e2e/test_recipe_virtual_mailboxes.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_recipes import _pfedit, _postconf, _setup

from pfconf import loads
from pfconf.lint.engine import lint
from pfconf.semantics import Configuration
from pfconf.semantics.addresses import domain_listed

HOSTED = "hosted.example"
LMTP = "lmtp:unix:private/dovecot-lmtp"


@pytest.fixture
def postconf() -> str:
    from oracle import require_postconf

    return str(require_postconf())


def _flags(options: tuple[str, ...]) -> list[str]:
    """``name=value`` as the recipe's generated flag: ``--name=value``."""
    flags = []
    for option in options:
        name, _, value = option.partition("=")
        flags.append(f"--{name.replace('_', '-')}={value}")
    return flags


def _apply(directory: Path, *options: str, status: int = 0) -> str:
    return str(_pfedit(directory, "apply", "virtual-mailboxes", "--postfix-version", "3.7",
                       *_flags(options), expect=status).output)  # fmt: skip


def _files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in directory.iterdir()}


def _append(directory: Path, text: str) -> None:
    with open(directory / "main.cf", "a") as handle:
        handle.write(text)


# (the seed and the Debian corpus file read /etc/mailname, which postmap needs and this
# machine may lack: they appear among the refusals, which run no postmap)
@pytest.mark.parametrize("start", ["debian-fresh", "corpus-rhel", "minimal"])
def test_hosted_domain(tmp_path: Path, postconf: str, start: str) -> None:
    directory = _setup(tmp_path, start)
    before = _postconf(postconf, directory, "-n")
    _pfedit(directory, "apply", "virtual-mailboxes", "--domains", HOSTED, "--check", expect=1)
    _apply(directory, f"domains={HOSTED}")

    values = _postconf(postconf, directory, "-n")
    assert values["virtual_mailbox_domains"] == HOSTED
    assert values["virtual_mailbox_maps"] == f"hash:{directory}/vmailbox"
    assert values["virtual_transport"] == LMTP
    # nothing else changed: local mail goes where it went
    assert {k: v for k, v in values.items() if not k.startswith("virtual_")} == before
    table = (directory / "vmailbox").read_text()
    assert all(line.startswith("#") for line in table.splitlines())  # empty, with its help
    assert (directory / "vmailbox.db").is_file()  # Postfix can open it: postmap ran

    # idempotent: a second run changes nothing, and --check agrees
    files = _files(directory)
    assert _apply(directory, f"domains={HOSTED}") == ""
    assert _files(directory) == files
    _pfedit(directory, "apply", "virtual-mailboxes", "--domains", HOSTED, "--check")

    # pflint finds the domain in one class only
    run = lint([str(directory / "main.cf")])
    assert [f for f in run.findings if f.code == "PAR016" and HOSTED in f.message] == []


def test_more_domains_are_added_and_the_table_is_kept(tmp_path: Path, postconf: str) -> None:
    directory = _setup(tmp_path, "debian-fresh")
    _apply(directory, "domains=a.example")
    with open(directory / "vmailbox", "a") as handle:
        handle.write("alice@a.example    mailbox\n")  # the administrator fills it in
    table = (directory / "vmailbox").read_bytes()
    output = _apply(directory, "domains=b.example, c.example,A.EXAMPLE")
    assert _postconf(postconf, directory, "-n")["virtual_mailbox_domains"] == (
        "a.example b.example c.example"
    )
    assert (directory / "vmailbox").read_bytes() == table
    assert "vmailbox" not in output  # neither rewritten nor rebuilt


def test_an_existing_table_is_kept_and_its_missing_index_noted(tmp_path: Path) -> None:
    directory = _setup(tmp_path, "minimal")
    (directory / "vmailbox").write_text("alice@hosted.example  x\n")
    output = _apply(directory, f"domains={HOSTED}")
    assert (directory / "vmailbox").read_text() == "alice@hosted.example  x\n"
    assert not (directory / "vmailbox.db").exists()
    assert f"{directory}/vmailbox is kept as it is, but has no indexed file: run postmap" in output


def test_another_table_and_endpoint(tmp_path: Path, postconf: str) -> None:
    directory = _setup(tmp_path, "minimal")
    (tmp_path / "tables").mkdir()
    table = tmp_path / "tables" / "users"
    _apply(directory, f"domains={HOSTED}", f"mailbox_maps=btree:{table}",
           "lmtp=lmtp:inet:[127.0.0.1]:24")  # fmt: skip
    values = _postconf(postconf, directory, "-n")
    assert values["virtual_mailbox_maps"] == f"btree:{table}"
    assert values["virtual_transport"] == "lmtp:inet:[127.0.0.1]:24"
    assert table.is_file() and Path(f"{table}.db").is_file()
    assert not (directory / "vmailbox").exists()


def test_a_database_table_is_not_a_file_to_write(tmp_path: Path, postconf: str) -> None:
    """The full server keeps its domains and users in PostgreSQL, delivered to Dovecot:
    with its table given, a domain is added next to the table; no file is written."""
    directory = _setup(tmp_path, "corpus-full-server")
    maps = "proxy:pgsql:/etc/postfix/pgsql/mailboxes.cf"
    output = _apply(directory, f"domains={HOSTED}", status=2)
    assert "virtual_mailbox_domains already lists domains whose addresses another table" in output
    _apply(directory, f"domains={HOSTED}", f"mailbox_maps={maps}")
    values = _postconf(postconf, directory, "-n")
    assert (
        values["virtual_mailbox_domains"] == f"proxy:pgsql:/etc/postfix/pgsql/domains.cf {HOSTED}"
    )
    assert values["virtual_mailbox_maps"] == maps
    assert sorted(p.name for p in directory.iterdir()) == ["main.cf", "master.cf"]


# -- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "setting", "domain", "message"),
    [
        # the default mydestination names $myhostname
        ("minimal", "", "mail.example.com", "mydestination lists mail.example.com (as $myhostname)"),
        ("minimal", "", "localhost.example.com",
         "mydestination lists localhost.example.com (as localhost.$mydomain)"),
        ("minimal", "mydestination = $myhostname, localhost, $mydomain\n", "Example.COM",
         "mydestination lists example.com (as $mydomain)"),
        ("seed+stock", "", "deimos.fr", "mydestination lists deimos.fr:"),
        ("debian-fresh", "virtual_alias_domains = hosted.example\n", HOSTED,
         "virtual_alias_domains lists hosted.example: a virtual alias domain accepts only"),
        ("debian-fresh", "relay_domains = hosted.example\n", HOSTED,
         "relay_domains lists hosted.example: its mail is relayed to another server today"),
        # relay_domains matches subdomains (parent_domain_matches_subdomains names it)
        ("debian-fresh", "relay_domains = example\n", HOSTED,
         "relay_domains lists hosted.example (through example)"),
        # compatibility level 0: relay_domains is $mydestination, found there first
        ("minimal", "compatibility_level = 0\n", "mail.example.com",
         "mydestination lists mail.example.com"),
        ("debian-fresh", "virtual_mailbox_domains = other.example\n", HOSTED,
         ("virtual_mailbox_domains already lists domains that another virtual_transport "
          "delivers: setting it to lmtp:unix:private/dovecot-lmtp would move their mail")),
        ("debian-fresh", "virtual_mailbox_maps = hash:/etc/postfix/vmailbox\n", HOSTED,
         "virtual_mailbox_domains already lists domains that another virtual_transport"),
    ],
)  # fmt: skip
def test_refused_and_nothing_written(
    tmp_path: Path, start: str, setting: str, domain: str, message: str
) -> None:
    directory = _setup(tmp_path, start)
    _append(directory, setting)
    files = _files(directory)
    output = _apply(directory, f"domains={domain}", status=2)
    assert f"pfedit: {message}" in output
    assert _files(directory) == files


@pytest.mark.parametrize(
    ("setting", "domain"),
    [
        ("mydestination = !example.com, $mydomain\n", "example.com"),  # the first match decides
        ("mydestination = hash:/etc/postfix/local_domains\n", "example.com"),  # not read
        ("relay_domains = .example\n", "example"),  # a leading dot: subdomains only
        ("parent_domain_matches_subdomains =\nrelay_domains = example\n", HOSTED),
        ("virtual_alias_domains = $virtual_alias_maps\nvirtual_alias_maps = hash:/x\n", HOSTED),
    ],
)
def test_not_listed(tmp_path: Path, setting: str, domain: str) -> None:
    directory = _setup(tmp_path, "minimal")
    _append(directory, setting)
    _apply(directory, f"domains={domain}")
    assert f"virtual_mailbox_domains = {domain}" in (directory / "main.cf").read_text()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ((), "virtual-mailboxes: --domains is required"),
        (("domains=hash:/etc/postfix/domains",), "'hash:/etc/postfix/domains' is not a domain"),
        (("domains=$mydomain",), "'$mydomain' is not a domain name"),
        (("domains=-bad.example",), "'-bad.example' is not a domain name"),
        (("domains=example.com.",), "'example.com.' is not a domain name"),
        ((f"domains={HOSTED}", "mailbox_maps=hash:vmailbox"), "give the table's full path"),
        ((f"domains={HOSTED}", "mailbox_maps="), "--mailbox-maps: cannot be empty"),
    ],
)
def test_bad_options(tmp_path: Path, options: tuple[str, ...], message: str) -> None:
    directory = _setup(tmp_path, "minimal")
    files = _files(directory)
    assert message in _apply(directory, *options, status=2)
    assert _files(directory) == files


# -- the condition: pfconf.semantics.addresses.domain_listed -----------------------------------


@pytest.mark.parametrize(
    ("text", "parameter", "domain", "found"),
    [
        ("myhostname = mail.example.com\n", "mydestination", "mail.example.com",
         "mydestination lists mail.example.com (as $myhostname)"),
        ("myhostname = mail.example.com\n", "mydestination", "example.com", None),
        # string lists match whole names: no parent domain, no leading-dot form
        ("mydestination = example.com .example.org\n", "mydestination", "a.example.com", None),
        ("mydestination = example.com .example.org\n", "mydestination", "a.example.org", None),
        ("relay_domains = .example.org\n", "relay_domains", "a.example.org", None),
        ("parent_domain_matches_subdomains =\nrelay_domains = .example.org\n", "relay_domains",
         "a.example.org", "relay_domains lists a.example.org (through .example.org)"),
        ("relay_domains = example.org\n", "relay_domains", "a.b.example.org",
         "relay_domains lists a.b.example.org (through example.org)"),
        ("relay_domains = !a.example.org example.org\n", "relay_domains", "a.example.org", None),
        # a word starting with # ends the list (match_list_parse)
        ("mydestination = localhost #local example.com\n", "mydestination", "example.com", None),
        ("virtual_alias_domains = EXAMPLE.com\n", "virtual_alias_domains", "example.COM.",
         "virtual_alias_domains lists example.com"),
    ],
)  # fmt: skip
def test_domain_listed(text: str, parameter: str, domain: str, found: str | None) -> None:
    config = Configuration(loads(text, "main"))
    listed = domain_listed(config, parameter, domain)
    assert (listed.describe() if listed else None) == found


def test_the_hosts_own_name_counts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without myhostname in main.cf, $myhostname is the machine's name, as Postfix finds it."""
    import socket

    monkeypatch.setattr(socket, "gethostname", lambda: "box.example.org")
    directory = tmp_path
    (directory / "main.cf").write_text("# nothing set\n")
    (directory / "master.cf").write_text("")
    output = _apply(directory, "domains=box.example.org", status=2)
    assert "mydestination lists box.example.org (as $myhostname)" in output
    assert sorted(os.listdir(directory)) == ["main.cf", "master.cf"]


def test_explained(tmp_path: Path) -> None:
    """--explain says each new kind of step and condition in words, with the generated flags."""
    output = _pfedit(tmp_path / "nonexistent", "apply", "virtual-mailboxes", "--explain").output
    assert "  --domains DOMAINS\n" in output and "  --mailbox-maps TEXT\n" in output
    assert "1. if mydestination lists a domain of --domains: stop, writing nothing\n" in output
    assert ("4. if Postfix does not read virtual_mailbox_domains as empty and Postfix does not "
            "read virtual_transport as the value of --lmtp: stop, writing nothing") in output  # fmt: skip
    assert "6. write the table --mailbox-maps names (mode 0644), then build it" in output
    assert "a file already there is kept as it is" in output
    assert "7. main.cf: add each item of --domains that virtual_mailbox_domains lacks" in output
