"""The postscreen recipe read back with postconf (-M, -F, -P, -n) on the seed, Debian's default
and Postfix's stock master.cf: the services, the blocklists, idempotence, pflint's verdict,
and where it refuses.  tests/e2e/test_recipe_postscreen.py shows it on a running Postfix."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import ROOT
from test_recipes import _pfedit, _postconf, _postconf_text, _setup, _stock_master

from pfconf import _toml
from pfconf.edit.recipes import load_recipe
from pfconf.lint.engine import Options, lint

DEFAULT_SITES = (
    "zen.spamhaus.org=127.0.0.[2..11]*3 bl.spamcop.net=127.0.0.2*2 psbl.surriel.com=127.0.0.2*1"
)
SERVICES = ["smtp/inet", "smtpd/pass", "dnsblog/unix", "tlsproxy/unix"]


@pytest.fixture
def postconf() -> str:
    from oracle import require_postconf

    return str(require_postconf())


def _apply(directory: Path, *args: str, expect: int = 0) -> str:
    result = _pfedit(directory, "apply", "postscreen", "--postfix-version", "3.7", *args,
                     expect=expect)  # fmt: skip
    return str(result.output)


def _services(directory: Path) -> list[list[str]]:
    """postconf -M: each service's fields, in file order."""
    return [line.split() for line in _postconf_text(directory, "-M").splitlines()]


def _findings(directory: Path) -> set[tuple[str, str]]:
    """pflint's findings as (code, message), with smtp/inet read as smtpd/pass: a finding
    about smtpd's settings follows them to the service that now runs smtpd."""
    run = lint([str(directory / "main.cf"), str(directory / "master.cf")],
               Options(target=(3, 7)))  # fmt: skip
    return {(f.code, f.message.replace("smtp/inet", "smtpd/pass")) for f in run.findings}


@pytest.mark.parametrize("start", ["seed+stock", "debian-fresh", "corpus-debian", "minimal"])
def test_postscreen_on_the_starting_points(tmp_path: Path, postconf: str, start: str) -> None:
    directory = _setup(tmp_path, start)
    before_overrides = _postconf(postconf, directory, "-P")
    findings = _findings(directory)
    _pfedit(directory, "apply", "postscreen", "--postfix-version", "3.7", "--check", expect=1)
    _apply(directory)

    services = _services(directory)
    keys = [f"{s[0]}/{s[1]}" for s in services]
    # smtp/inet runs postscreen, one process, with the other fields as they were
    assert services[keys.index("smtp/inet")][2:] == ["n", "-", "y", "-", "1", "postscreen"]
    # the three helpers right after it, in the order POSTSCREEN_README gives them
    start_at = keys.index("smtp/inet")
    assert keys[start_at : start_at + 4] == SERVICES
    assert services[keys.index("smtpd/pass")][2:] == ["-", "-", "y", "-", "-", "smtpd"]
    assert services[keys.index("dnsblog/unix")][6:] == ["0", "dnsblog"]
    assert services[keys.index("tlsproxy/unix")][6:] == ["0", "tlsproxy"]
    # -F reads the same fields
    fields = _postconf(postconf, directory, "-F", "smtp/inet/command", "smtp/inet/process_limit")
    assert fields == {"smtp/inet/command": "postscreen", "smtp/inet/process_limit": "1"}
    # no -o anywhere changed: the stock services have none on smtp/inet
    assert _postconf(postconf, directory, "-P") == before_overrides

    values = _postconf(postconf, directory, "-n")
    assert values["postscreen_dnsbl_sites"] == DEFAULT_SITES
    assert values["postscreen_dnsbl_threshold"] == "3"
    assert values["postscreen_dnsbl_action"] == "enforce"
    assert values["postscreen_greet_action"] == "enforce"
    # defaults stay defaults: the access list (permit_mynetworks), TLS as smtpd's, and the
    # deep protocol tests off
    for name in ("postscreen_access_list", "postscreen_tls_security_level",
                 "postscreen_pipelining_enable", "postscreen_non_smtp_command_enable",
                 "postscreen_bare_newline_enable"):  # fmt: skip
        assert name not in values
    level = _postconf(postconf, directory, "-x", "postscreen_tls_security_level",
                      "smtpd_tls_security_level")  # fmt: skip
    assert level["postscreen_tls_security_level"] == level["smtpd_tls_security_level"]

    # a second run changes nothing, and --check agrees
    written = {name: (directory / name).read_bytes() for name in ("main.cf", "master.cf")}
    assert _apply(directory) == ""
    assert {name: (directory / name).read_bytes() for name in written} == written
    _pfedit(directory, "apply", "postscreen", "--postfix-version", "3.7", "--check")

    # pflint finds nothing the recipe caused (MST012's services, RBL's filters...)
    assert _findings(directory) - findings == set()


def test_overrides_go_with_smtpd_and_those_postscreen_reads_stay(
    tmp_path: Path, postconf: str
) -> None:
    """Every -o of smtp/inet reaches smtpd/pass in its order; those postscreen reads itself
    (its banner, TLS level, log name) stay on smtp/inet as well, as POSTSCREEN_README asks."""
    directory = _setup(tmp_path, "debian-fresh")
    _pfedit(directory, "service", "set", "smtp/inet", "smtpd_tls_security_level=may",
            "smtpd_sasl_auth_enable=yes", "syslog_name=postfix/port25",
            "smtpd_banner=$myhostname ESMTP", "content_filter=")  # fmt: skip
    findings = _findings(directory)
    _apply(directory)
    overrides = _postconf(postconf, directory, "-P")
    assert {k: v for k, v in overrides.items() if k.startswith("smtp/inet/")} == {
        "smtp/inet/smtpd_tls_security_level": "may",
        "smtp/inet/syslog_name": "postfix/port25",
        "smtp/inet/smtpd_banner": "$myhostname ESMTP",
    }
    screen, smtpd = _postconf_text(directory, "-M", "smtp/inet", "smtpd/pass").splitlines()
    assert screen.split(None, 7)[7] == ("postscreen -o smtpd_tls_security_level=may "
                                        "-o syslog_name=postfix/port25 "
                                        "-o {smtpd_banner=$myhostname ESMTP}")  # fmt: skip
    assert smtpd.split(None, 7)[7] == (
        "smtpd -o smtpd_tls_security_level=may -o smtpd_sasl_auth_enable=yes "
        "-o syslog_name=postfix/port25 -o {smtpd_banner=$myhostname ESMTP} -o content_filter="
    )
    assert _findings(directory) - findings == set()
    assert _apply(directory) == ""


def test_an_existing_postscreen_gets_only_what_it_lacks(tmp_path: Path, postconf: str) -> None:
    """smtp/inet runs postscreen already, with an -o of its own and no dnsblog: its
    overrides stay where they are, dnsblog comes back, the lists in main.cf (and their
    threshold) are kept; a second run changes nothing."""
    (tmp_path / "main.cf").write_text(
        "myhostname = mail.example.com\npostscreen_dnsbl_sites = zen.spamhaus.org=127.0.0.[2..11]\n"
        "postscreen_dnsbl_action = drop\n"
    )
    master = (
        _stock_master()
        .replace(
            "smtp      inet  n       -       y       -       -       smtpd\n",
            "smtp      inet  n       -       y       -       1       postscreen\n"
            "  -o postscreen_greet_wait=3s\n",
        )
        .replace("#smtpd     pass", "smtpd     pass")
        .replace("#tlsproxy  unix", "tlsproxy  unix")
    )
    (tmp_path / "master.cf").write_text(master)
    before = _postconf(postconf, tmp_path, "-P")
    output = _apply(tmp_path)
    assert "dnsblog/unix enable service" in output
    assert "smtp/inet" not in output and "smtpd/pass" not in output
    assert _postconf(postconf, tmp_path, "-P") == before
    values = _postconf(postconf, tmp_path, "-n")
    assert values["postscreen_dnsbl_sites"] == "zen.spamhaus.org=127.0.0.[2..11]"
    assert "postscreen_dnsbl_threshold" not in values  # the lists' own threshold: Postfix's 1
    assert values["postscreen_dnsbl_action"] == "drop"  # stricter than enforce: kept
    assert values["postscreen_greet_action"] == "enforce"
    assert _apply(tmp_path) == ""


def test_the_process_limit_of_an_existing_postscreen_becomes_one(tmp_path: Path) -> None:
    (tmp_path / "main.cf").write_text("myhostname = mail.example.com\n")
    (tmp_path / "master.cf").write_text(_stock_master().replace(
        "smtp      inet  n       -       y       -       -       smtpd\n",
        "smtp      inet  n       -       y       -       -       postscreen\n",
    ))  # fmt: skip
    assert "smtp/inet: process_limit: - -> 1" in _apply(tmp_path)


def test_given_lists_and_threshold(tmp_path: Path, postconf: str) -> None:
    directory = _setup(tmp_path, "minimal")
    sites = "zen.spamhaus.org=127.0.0.[2..11]*2 bl.spamcop.net=127.0.0.2"
    _apply(directory, "--dnsbl-sites", sites, "--dnsbl-threshold", "2")
    values = _postconf(postconf, directory, "-n")
    assert (values["postscreen_dnsbl_sites"], values["postscreen_dnsbl_threshold"]) == (sites, "2")
    # the same options again: nothing; without them, what main.cf has now is kept
    assert _apply(directory, "--dnsbl-sites", sites, "--dnsbl-threshold", "2") == ""
    assert _apply(directory) == ""


def test_lists_without_a_threshold_are_refused(tmp_path: Path) -> None:
    """Weights mean something only next to a threshold: --dnsbl-sites alone is refused
    where main.cf sets none, and nothing is written."""
    directory = _setup(tmp_path, "minimal")
    before = {p.name: p.read_bytes() for p in directory.iterdir()}
    output = _apply(directory, "--dnsbl-sites", "zen.spamhaus.org*2", expect=2)
    assert "--dnsbl-sites needs --dnsbl-threshold" in output
    assert {p.name: p.read_bytes() for p in directory.iterdir()} == before
    with open(directory / "main.cf", "a") as handle:
        handle.write("postscreen_dnsbl_threshold = 2\n")
    _apply(directory, "--dnsbl-sites", "zen.spamhaus.org*2")


def test_a_threshold_left_over_without_lists_follows_the_default_lists(
    tmp_path: Path, postconf: str
) -> None:
    directory = _setup(tmp_path, "minimal")
    with open(directory / "main.cf", "a") as handle:
        handle.write("postscreen_dnsbl_threshold = 1\n")
    _apply(directory)
    assert _postconf(postconf, directory, "-n")["postscreen_dnsbl_threshold"] == "3"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("master", "smtp      inet", "#smtp      inet"), "master.cf runs no smtp inet service"),
        (("main", "", "master_service_disable = smtp/inet\n"), "master.cf runs no smtp inet"),
        (("main", "", "master_service_disable = inet\n"), "master.cf runs no smtp inet"),
        (("master", "-       -       smtpd\n#smtp", "-       -       proxymap\n#smtp"),
         "smtp inet runs neither smtpd nor postscreen"),
    ],
)  # fmt: skip
def test_where_it_refuses(tmp_path: Path, change: tuple[str, str, str], message: str) -> None:
    """Port 25 off (no smtp inet service, or one master_service_disable turns off), or
    another program than smtpd on it: exit 2, the reason, and nothing written."""
    directory = _setup(tmp_path, "debian-fresh")
    which, old, new = change
    path = directory / f"{which}.cf"
    text = path.read_text()
    if old:
        assert old in text
        path.write_text(text.replace(old, new, 1))
    else:
        path.write_text(text + new)
    before = {p.name: p.read_bytes() for p in directory.iterdir()}
    output = _apply(directory, expect=2)
    assert message in output
    assert {p.name: p.read_bytes() for p in directory.iterdir()} == before


def test_the_default_lists_are_alive_and_filtered() -> None:
    """Every zone of the default lists is "live" in rules/dnsbl.toml, and a zone whose
    operator answers refusals with codes of its own has a filter that keeps them out."""
    recipe = load_recipe("postscreen")
    default = next(s for s in recipe.steps if getattr(s, "name", None) == "postscreen_dnsbl_sites"
                   and getattr(s, "value", None))  # fmt: skip
    assert default.value == DEFAULT_SITES
    zones = _toml.load_file(str(ROOT / "rules" / "dnsbl.toml"))["zones"]
    weights = {}
    for site in DEFAULT_SITES.split():
        match = re.fullmatch(r"([a-z0-9.-]+)(?:=([0-9.\[\];]+))?\*(\d+)", site)
        assert match, site
        zone, filter_, weight = match.groups()
        assert zones[zone]["status"] == "live", zone
        assert filter_, f"{zone}: a lapsed domain's wildcard answer would count as listed"
        if "filter" in zones[zone]:
            assert filter_ == zones[zone]["filter"]
        weights[zone] = int(weight)
    # the threshold can be reached, and one list alone other than Spamhaus does not reach it
    assert weights["zen.spamhaus.org"] == 3
    assert sorted(w for z, w in weights.items() if z != "zen.spamhaus.org") == [1, 2]
    assert sum(weights.values()) - weights["zen.spamhaus.org"] == 3


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ('action = "unset"\nname = "biff"\nwhen_service = { smtp = "smtpd" }',
         "when_service: 'smtp' is not a service name/type"),
        ('action = "require"\nany = ["service:smtp"]\nmessage = "m"',
         "any: 'service:smtp': not a service name/type"),
        ('action = "require"\nany = ["services:smtp/inet"]\nmessage = "m"',
         "is none of option:NAME, main:NAME, service:KEY and service:KEY=PROGRAM"),
    ],
)  # fmt: skip
def test_service_conditions_are_checked_when_the_recipe_loads(
    tmp_path: Path, step: str, message: str
) -> None:
    directory = _setup(tmp_path, "minimal")
    recipe = tmp_path / "bad.toml"
    recipe.write_text(f'[recipe]\nsummary = "s"\n[[steps]]\n{step}\nreason = "r"\n')
    result = _pfedit(directory, "apply", "--recipe-file", recipe, expect=2)
    assert re.match(rf"pfedit: {re.escape(str(recipe))}:[4-6]: step 1 \(", result.output)
    assert message in result.output, result.output


def test_a_service_condition_reads_what_master_runs(tmp_path: Path) -> None:
    """when_service and require's service: read the program master runs, by its name
    whatever the path, and nothing for a service master_service_disable turns off."""
    directory = _setup(tmp_path, "minimal")
    recipe = tmp_path / "probe.toml"
    recipe.write_text(
        '[recipe]\nsummary = "s"\n'
        '[[steps]]\naction = "require"\nany = ["service:relay/unix=smtp"]\nmessage = "no relay"\n'
        '[[steps]]\naction = "set"\nname = "biff"\nvalue = "no"\nreason = "r"\n'
        'when_service = { "pickup/unix" = "pickup" }\n'
        '[[steps]]\naction = "set"\nname = "delay_warning_time"\nvalue = "4h"\nreason = "r"\n'
        'when_service = { "pickup/unix" = "" }\n'
    )
    master = directory / "master.cf"
    master.write_text(master.read_text().replace(
        "-       smtp\n", "-       /usr/lib/postfix/sbin/smtp\n", 1
    ))  # fmt: skip
    args = ["apply", "--recipe-file", recipe, "--diff"]
    assert "+biff = no" in _pfedit(directory, *args).output
    with open(directory / "main.cf", "a") as handle:
        handle.write("master_service_disable = pickup/unix\n")
    output = _pfedit(directory, *args).output
    assert "+delay_warning_time = 4h" in output and "biff" not in output
    master.write_text(master.read_text().replace("\nrelay ", "\n#relay ", 1))
    assert _pfedit(directory, *args, expect=2).output == "pfedit: no relay\n"
