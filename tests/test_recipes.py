"""Recipes on realistic starting points, checked with postconf -n and -P, for idempotence,
kept comments and untouched lines, and with pflint afterwards."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest
from conftest import CORPUS, invoke

from pfconf import loads, postfix
from pfconf.cli.pfedit import cli
from pfconf.edit.recipes import builtin_recipes, load_recipe
from pfconf.lint.engine import lint

DEBIAN_SHARE = Path("/usr/share/postfix")


def _seed_main() -> str:
    from test_seed import seed_main_cf

    return seed_main_cf()


def _debian_fresh_main() -> str:
    """What Debian's postinst writes: main.cf.debian, main.cf.tls, then its postconf -e lines."""
    text = (DEBIAN_SHARE / "main.cf.debian").read_text() + (DEBIAN_SHARE / "main.cf.tls").read_text()
    return text + (
        "smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated defer_unauth_destination\n"
        "myhostname = mail.example.com\nalias_maps = hash:/etc/aliases\n"
        "alias_database = hash:/etc/aliases\nmydestination = $myhostname, localhost\n"
        "relayhost = \nmynetworks = 127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128\n"
        "mailbox_size_limit = 0\nrecipient_delimiter = +\ninet_interfaces = all\n"
        "inet_protocols = all\n"
    )


def _stock_master() -> str:
    return (DEBIAN_SHARE / "master.cf.dist").read_text()


STARTS = {
    "seed+stock": (_seed_main, _stock_master),
    "debian-fresh": (_debian_fresh_main, _stock_master),
    "corpus-debian": (
        lambda: (CORPUS / "main" / "debian-default.cf").read_text(),
        lambda: (CORPUS / "master" / "debian-default.cf").read_text(),
    ),
    "corpus-rhel": (lambda: (CORPUS / "main" / "rhel-default.cf").read_text(), _stock_master),
    "minimal": (lambda: "# a host name and nothing else\nmyhostname = mail.example.com\n", _stock_master),
    "corpus-full-server": (
        lambda: (CORPUS / "main" / "full-server-dovecot-rspamd.cf").read_text(),
        lambda: (CORPUS / "master" / "debian-default.cf").read_text(),
    ),
}


@pytest.fixture
def postconf():
    from oracle import require_postconf

    return require_postconf()


def _setup(tmp_path: Path, start: str) -> Path:
    main, master = STARTS[start]
    (tmp_path / "main.cf").write_text(main())
    (tmp_path / "master.cf").write_text(master())
    return tmp_path


def _postconf_text(directory: Path, *args: str) -> str:
    for name in ("main.cf", "master.cf"):
        os.utime(directory / name, (0, 0))  # postconf trusts files older than a second
    proc = postfix.run("postconf", args, config_dir=str(directory))
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.decode()


def _postconf(postconf: str, directory: Path, *args: str) -> dict[str, str]:
    out = _postconf_text(directory, *args)
    result = {}
    for line in out.splitlines():
        name, _, value = line.partition(" =")
        result[name] = value.strip()
    return result


def _pfedit(directory: Path, *args: str, expect: int = 0):  # type: ignore[no-untyped-def]
    """pfedit -c directory ARGS..., insisting on the exit status (0 unless told)."""
    return invoke(cli, ["-c", directory, *args], expect)


def _subsequence(small: list[str], big: list[str]) -> bool:
    it = iter(big)
    return all(line in it for line in small)


@pytest.mark.parametrize("start", sorted(STARTS))
def test_sasl_tls(tmp_path, start, postconf):
    if not (DEBIAN_SHARE / "master.cf.dist").exists():
        pytest.fail("Postfix's shared files are missing: .ci/run installs postfix")
    directory = _setup(tmp_path, start)
    before_main = (directory / "main.cf").read_text()
    args = ["apply", "sasl-tls", "--postfix-version", "3.7"]
    if start == "minimal":  # no certificate configured yet
        args += ["--cert", "/etc/ssl/mail.pem", "--key", "/etc/ssl/mail.key"]

    _pfedit(directory, *args, "--check", expect=1)
    result = _pfedit(directory, *args)
    _pfedit(directory, *args, "--check")  # idempotent
    second = _pfedit(directory, *args)
    assert second.output == ""

    values = _postconf(postconf, directory, "-n")
    assert values["smtpd_tls_security_level"] == "may"
    assert values["smtpd_tls_auth_only"] == "yes"
    assert values["smtp_tls_security_level"] == "may"
    assert values["smtpd_sasl_type"] == "dovecot"
    assert values["smtpd_sasl_path"] == "private/auth"
    assert values["smtpd_tls_mandatory_protocols"] in (">=TLSv1.2",)
    for obsolete in ("smtpd_use_tls", "smtp_use_tls", "smtpd_enforce_tls", "smtpd_sasl_application_name"):
        assert obsolete not in values
    assert values.get("smtpd_tls_cert_file") or values.get("smtpd_tls_chain_files")

    overrides = _postconf(postconf, directory, "-P")
    assert overrides["submission/inet/smtpd_tls_security_level"] == "encrypt"
    assert overrides["submission/inet/smtpd_sasl_auth_enable"] == "yes"
    assert overrides["submission/inet/smtpd_client_restrictions"] == "permit_sasl_authenticated,reject"
    port465 = "submissions" if "submissions/inet/smtpd_tls_wrappermode" in overrides else "smtps"
    assert overrides[f"{port465}/inet/smtpd_tls_wrappermode"] == "yes"
    services = _postconf_text(directory, "-M")
    assert len(re.findall(r"^submission\s+inet", services, re.MULTILINE)) == 1

    after_main = (directory / "main.cf").read_text()
    comments = [l for l in before_main.splitlines() if l.lstrip().startswith("#")]
    assert _subsequence(comments, after_main.splitlines())  # every comment kept, in order
    # every line of an entry the recipe did not touch is byte-identical, in order
    touched = set(re.findall(r"^main\.cf: ([A-Za-z0-9_.-]+)", result.output, re.MULTILINE))
    untouched = [
        line
        for entry in loads(before_main).entries
        if entry.name not in touched
        for line in entry.node.dump().splitlines()
    ]
    assert _subsequence(untouched, after_main.splitlines())

    run = lint([str(directory / "main.cf")])
    errors = [f for f in run.findings if f.code.startswith(("TLS", "SASL")) and f.severity == "error"]
    assert errors == []


def test_sasl_tls_refuses_without_a_certificate(tmp_path):
    directory = _setup(tmp_path, "minimal")
    before = (directory / "main.cf").read_bytes()
    result = _pfedit(directory, "apply", "sasl-tls", "--postfix-version", "3.7", expect=2)
    assert "no TLS certificate" in result.output
    assert (directory / "main.cf").read_bytes() == before


def test_sasl_tls_with_cyrus_writes_smtpd_conf(tmp_path, postconf):
    directory = _setup(tmp_path, "debian-fresh")
    (directory / "sasl").mkdir()
    _pfedit(directory, "apply", "sasl-tls", "--sasl", "cyrus", "--postfix-version", "3.7")
    assert "saslauthd" in (directory / "sasl" / "smtpd.conf").read_text()
    values = _postconf(postconf, directory, "-n")
    assert values["smtpd_sasl_type"] == "cyrus" and values["smtpd_sasl_path"] == "smtpd"


def test_protocol_syntax_follows_the_target_version(tmp_path, postconf):
    directory = _setup(tmp_path, "debian-fresh")
    _pfedit(directory, "apply", "tls-hardening", "--postfix-version", "3.5")
    values = _postconf(postconf, directory, "-n")
    assert values["smtpd_tls_mandatory_protocols"] == "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1"
    other = tmp_path / "new"
    other.mkdir()
    _setup(other, "debian-fresh")
    _pfedit(other, "apply", "tls-hardening", "--postfix-version", "3.9")
    assert _postconf(postconf, other, "-n")["smtpd_tls_mandatory_protocols"] == ">=TLSv1.2"


def test_stricter_protocols_are_kept(tmp_path, postconf):
    directory = _setup(tmp_path, "corpus-full-server")
    before = _postconf(postconf, directory, "-n")
    assert before["smtpd_tls_protocols"] == ">=TLSv1.2"  # stricter than the recipe's floor
    result = _pfedit(directory, "apply", "tls-hardening", "--postfix-version", "3.9")
    assert result.output  # the recipe did change other settings...
    after = _postconf(postconf, directory, "-n")
    assert after["smtpd_tls_protocols"] == ">=TLSv1.2"  # ...but not this one
    assert after != before
    text = (directory / "main.cf").read_text()
    assert len(re.findall(r"^smtpd_tls_protocols\s*=", text, re.MULTILINE)) == 1
    assert "smtpd_tls_protocols" not in result.output


def test_relay_client_hides_the_password(tmp_path, postconf):
    directory = _setup(tmp_path, "debian-fresh")
    secret = tmp_path / "pw"
    secret.write_text("s3cr3t-Pa55\n")
    args = [
        "apply", "relay-client", "--relayhost", "[smtp.example.net]:587", "--user", "me@example.net",
        "--password-file", str(secret),
    ]  # fmt: skip
    diff = _pfedit(directory, *args, "--diff")
    assert "s3cr3t" not in diff.output and "secret content not shown" in diff.output
    result = _pfedit(directory, *args)
    assert "s3cr3t" not in result.output
    assert f"ran postmap -c {directory} hash:{directory}/sasl_passwd" in result.output
    table = directory / "sasl_passwd"
    assert table.read_text() == "[smtp.example.net]:587 me@example.net:s3cr3t-Pa55\n"
    assert stat.S_IMODE(table.stat().st_mode) == 0o600
    assert (directory / "sasl_passwd.db").exists()  # built by postmap -c DIR hash:...
    values = _postconf(postconf, directory, "-n")
    assert values["relayhost"] == "[smtp.example.net]:587"
    assert values["smtp_tls_security_level"] == "encrypt"
    assert values["smtp_sasl_password_maps"] == f"hash:{directory}/sasl_passwd"
    _pfedit(directory, *args, "--check")
    run = lint([str(directory / "main.cf")])
    assert not [f for f in run.findings if f.code in ("TLS005", "SASL002", "SASL003")]


def test_submission_only(tmp_path, postconf):
    directory = _setup(tmp_path, "seed+stock")
    _pfedit(directory, "apply", "sasl-tls", "--postfix-version", "3.7")
    _pfedit(directory, "apply", "submission-only", "--postfix-version", "3.7")
    assert "smtpd_sasl_auth_enable" not in _postconf(postconf, directory, "-n")
    overrides = _postconf(postconf, directory, "-P")
    assert overrides["submission/inet/smtpd_sasl_auth_enable"] == "yes"
    _pfedit(directory, "apply", "submission-only", "--postfix-version", "3.7", "--check")


def test_every_builtin_recipe_loads():
    assert set(builtin_recipes()) >= {"sasl-tls", "relay-client", "submission-only", "tls-hardening"}
    for name in builtin_recipes():
        recipe = load_recipe(name)
        assert recipe.summary and recipe.steps


def test_user_recipe_file(tmp_path):
    directory = _setup(tmp_path, "debian-fresh")
    recipe = tmp_path / "mine.toml"
    recipe.write_text(
        '[recipe]\nname = "mine"\nsummary = "x"\n[[steps]]\naction = "set"\n'
        'name = "disable_vrfy_command"\nvalue = "yes"\nreason = "no address probing"\n'
    )
    result = _pfedit(directory, "apply", "--recipe-file", str(recipe), "--postfix-version", "3.7")
    assert "no address probing" in result.output
    bad = tmp_path / "bad.toml"
    bad.write_text('[recipe]\nsummary = "x"\n[[steps]]\naction = "explode"\n')
    broken = _pfedit(directory, "apply", "--recipe-file", str(bad), expect=2)
    assert "unknown action" in broken.output


@pytest.mark.parametrize(
    "client, kept",
    [
        ("smtp_sasl_auth_enable = yes\n", False),
        # a table named through $name counts: the recipe asks the model, not the text
        ("smtp_sasl_auth_enable = yes\nmy_table = hash:/etc/postfix/sasl_passwd\n"
         + "smtp_sasl_password_maps = $my_table\n", True),
        ("smtp_sasl_auth_enable = no\n", True),
    ],
)  # fmt: skip
def test_sasl_tls_switches_off_client_sasl_without_passwords(tmp_path, client, kept):
    """smtp(8) with SASL on and no password table stops at start: the recipe switches the
    client's SASL off, unless a table (however written) is there for it to use."""
    (tmp_path / "main.cf").write_text(
        "smtpd_tls_cert_file = /etc/ssl/mail.pem\nsmtpd_tls_key_file = /etc/ssl/mail.key\n"
        + client
    )
    (tmp_path / "master.cf").write_text(_stock_master())
    _pfedit(tmp_path, "apply", "sasl-tls", "--postfix-version", "3.7")
    text = (tmp_path / "main.cf").read_text()
    assert ("smtp_sasl_auth_enable" in text) == kept


# -- typed steps: a recipe file is checked whole when it loads ----------------------------------

_GOOD_HEAD = '[recipe]\nname = "mine"\nsummary = "a test"\n\n[options.level]\nhelp = "the level"\n\n'
_GOOD_STEP = '[[steps]]\naction = "set"\nname = "disable_vrfy_command"\nvalue = "yes"\nreason = "r"\n\n'


@pytest.mark.parametrize(
    "steps, line, message",
    [
        # an unknown key (a misspelt one was silently ignored before)
        ('[[steps]]\naction = "set"\nname = "a"\nvaule = "x"\nreason = "r"\n', 'vaule =',
         "step 2 (set): unknown key 'vaule'"),
        ('[[steps]]\naction = "set"\nname = "a"\nvalue = "x"\nkeep_if_set = "yes"\nreason = "r"\n',
         'keep_if_set =', "step 2 (set): keep_if_set: expected true or false, got the string 'yes'"),
        ('[[steps]]\naction = "set"\nvalue = "x"\nreason = "r"\n', '[[steps]]',
         "step 2 (set): missing key 'name'"),
        ('[[steps]]\naction = "unset"\nname = "a"\n', '[[steps]]',
         "step 2 (unset): missing key 'reason'"),
        ('[[steps]]\naction = "explode"\n', 'action =', "step 2 (explode): unknown action 'explode'"),
        ('[[steps]]\nname = "a"\n', '[[steps]]', "step 2: no action"),
        ('[[steps]]\naction = "set"\nname = "a"\nvalues = [{ since = "3.6", vlaue = "x" }]\nreason = "r"\n',
         'values =', "step 2 (set): values[1]: unknown key 'vlaue'"),
        ('[[steps]]\naction = "set"\nname = "a"\nvalue = "x"\nvalue_from = "level"\nreason = "r"\n',
         '[[steps]]', "step 2 (set): give exactly one of value, value_from, values"),
        ('[[steps]]\naction = "set"\nname = "a"\nvalue = "x"\nwhen = { levle = true }\nreason = "r"\n',
         'when =', "step 2 (set): when: no option 'levle' in this recipe"),
        ('[[steps]]\naction = "set"\nname = "a"\nvalue = "x"\nsince = "three"\nreason = "r"\n',
         'since =', "step 2 (set): since: 'three' is not a version like 3.6"),
        (('[[steps]]\naction = "service"\nkey = "submission/inet"\nreason = "r"\n'
         '[steps.overrides]\nsmtpd_tls_security_level = 1\n'), '[steps.overrides]',
         "step 2 (service): overrides.smtpd_tls_security_level: expected a string, got the number 1"),
        (('[[steps]]\naction = "change_service"\nkey = "smtp/inet"\nfields = { maxproc = "1" }\n'
         'reason = "r"\n'), 'fields =', "step 2 (change_service): fields: 'maxproc' is not one of"),
        (('[[steps]]\naction = "move_overrides"\nsource = "smtp/inet"\ntarget = "smtp/inet"\n'
         'reason = "r"\n'), '[[steps]]', "step 2 (move_overrides): source and target are the same service"),
        ('[[steps]]\naction = "file"\npath = "/etc/passwd"\ncontent = ""\nreason = "r"\n', 'path =',
         "step 2 (file): path: '/etc/passwd' is not a path inside the configuration directory"),
        ('[[steps]]\naction = "require"\nany = ["option:nope"]\nmessage = "m"\n', 'any =',
         "step 2 (require): any: no option 'nope' in this recipe"),
        # the steps and conditions of virtual-mailboxes
        ('[[steps]]\naction = "list_add"\nname = "a"\nreason = "r"\n', '[[steps]]',
         "step 2 (list_add): give exactly one of value, value_from"),
        ('[[steps]]\naction = "list_add"\nname = "a"\nvalue_from = "nope"\nreason = "r"\n',
         'value_from =', "step 2 (list_add): value_from: no option 'nope' in this recipe"),
        ('[[steps]]\naction = "stop"\nmessage = "m"\nreason = "r"\n', '[[steps]]',
         "step 2 (stop): a stop step needs conditions"),
        ('[[steps]]\naction = "stop"\nmessage = "{listed}"\nwhen = { level = true }\nreason = "r"\n',
         'message =', "step 2 (stop): message: {listed} is what when_listed found, and the step has none"),
        ('[[steps]]\naction = "stop"\nmessage = "m"\nwhen_listed = { mynetworks = "level" }\nreason = "r"\n',
         'when_listed =', "step 2 (stop): when_listed: 'mynetworks' is not a list of domains"),
        ('[[steps]]\naction = "stop"\nmessage = "m"\nwhen_listed = { mydestination = "level" }\nreason = "r"\n',
         'when_listed =', "step 2 (stop): when_listed: the option 'level' must be of type \"domains\""),
        ('[[steps]]\naction = "stop"\nmessage = "m"\nwhen_listed = { relay_domains = "nope" }\nreason = "r"\n',
         'when_listed =', "step 2 (stop): when_listed: no option 'nope' in this recipe"),
        ('[[steps]]\naction = "unset"\nname = "a"\nunless_main = { relayhost = "{nope}" }\nreason = "r"\n',
         'unless_main =', "step 2 (unset): unless_main: relayhost: no option 'nope' in this recipe"),
        ('[[steps]]\naction = "set"\nname = "a"\nvalues = [{ unless_main = { b = "" }, value = "x" }]\nreason = "r"\n',
         'values =', "step 2 (set): values[1]: a value is chosen by options and versions only"),
        ('[[steps]]\naction = "file"\ncontent = ""\nreason = "r"\n', '[[steps]]',
         "step 2 (file): give exactly one of path, table_from"),
        ('[[steps]]\naction = "file"\ntable_from = "nope"\ncontent = ""\nreason = "r"\n', 'table_from =',
         "step 2 (file): table_from: no option 'nope' in this recipe"),
        ('[[steps]]\naction = "file"\ntable_from = "level"\npostmap = true\ncontent = ""\nreason = "r"\n',
         'postmap =', "step 2 (file): postmap: the table table_from names is built with postmap already"),
        ('steps = 3\n', None, "no [[steps]]"),
    ],
)  # fmt: skip
def test_a_bad_step_is_refused_with_its_place(tmp_path, steps, line, message):
    """Each problem is refused when the file loads, in one line naming the file, the step's
    line and the step (its number and action); through pfedit, with exit status 2, before
    the configuration directory is even looked at."""
    from pfconf.edit.recipes import RecipeError

    recipe = tmp_path / "mine.toml"
    if steps.startswith("steps ="):
        recipe.write_text(steps + _GOOD_HEAD)
    else:
        recipe.write_text(_GOOD_HEAD + _GOOD_STEP + steps)
    text = recipe.read_text().splitlines()
    if line is None:
        where = f"{recipe}: "
    else:  # the last line that starts so
        number = max(n for n, t in enumerate(text, 1) if t.startswith(line))
        where = f"{recipe}:{number}: "
    with pytest.raises(RecipeError) as caught:
        load_recipe(str(recipe))
    assert str(caught.value).startswith(where + message), str(caught.value)
    result = _pfedit(tmp_path / "nonexistent", "apply", "--recipe-file", recipe, expect=2)
    assert result.output.startswith(f"pfedit: {where}{message}") and result.output.count("\n") == 1


@pytest.mark.parametrize(
    "options, message",
    [
        ('[options.level]\nhelp = "h"\ntype = "number"\n', "type: 'number' is not one of"),
        ('[options.level]\nhelp = "h"\ncolour = "red"\n', "unknown key 'colour'"),
        ('[options.level]\ndefault = "x"\n', "missing key 'help'"),
        ('[options.level]\nhelp = "h"\ntype = "integer"\ndefault = "x"\n',
         "default: 'x' is not a value of type integer"),
        ('[options.level]\nhelp = "h"\nrequired = 1\n', "required: expected true or false, got the number 1"),
        ('[options.check]\nhelp = "h"\n', "--check is pfedit apply's own option"),
        ('[options.domains]\nhelp = "h"\ntype = "domains"\ndefault = "$mydomain"\n',
         "default: '$mydomain' is not a domain name"),
    ],
)  # fmt: skip
def test_a_bad_option_is_refused_with_its_place(tmp_path, options, message):
    recipe = tmp_path / "mine.toml"
    recipe.write_text('[recipe]\nsummary = "s"\n\n' + options + "\n" + _GOOD_STEP)
    name = options.split("]")[0].split(".")[1]
    result = _pfedit(tmp_path, "apply", "--recipe-file", recipe, expect=2)
    assert f"{recipe}:" in result.output and f"[options.{name}]: {message}" in result.output


def test_every_builtin_step_is_typed():
    """The built-in recipes load into step classes (no dictionaries left), each knowing its
    number and its line in the file."""
    from pfconf.edit.steps import Step

    for name in builtin_recipes():
        recipe = load_recipe(name)
        text = Path(recipe.path).read_text().splitlines()
        for number, step in enumerate(recipe.steps, 1):
            assert isinstance(step, Step) and step.number == number
            assert text[step.line - 1].strip() == "[[steps]]"
            assert step.describe() and (step.reason or step.action == "require")


# -- the master.cf steps on real master.cf files -------------------------------------------------

_POSTSCREEN = """
[recipe]
name = "screen"
summary = "postscreen in front of smtpd"

[[steps]]
action = "service"
key = "smtpd/pass"
entry = "smtpd     pass  -       -       CHROOT       -       -       smtpd"
after = "smtp/inet"
reason = "smtpd takes the connections postscreen passes on"

[[steps]]
action = "move_overrides"
source = "smtp/inet"
target = "smtpd/pass"
keep = ["syslog_name"]
reason = "smtpd's settings go with smtpd"

[[steps]]
action = "change_service"
key = "smtp/inet"
command = "postscreen"
fields = { process_limit = "1" }
reason = "postscreen answers port 25 and screens clients"

[[steps]]
action = "service"
key = "dnsblog/unix"
entry = "dnsblog   unix  -       -       CHROOT       -       0       dnsblog"
after = "smtpd/pass"
reason = "postscreen's DNS blocklist lookups"

[[steps]]
action = "service"
key = "tlsproxy/unix"
entry = "tlsproxy  unix  -       -       CHROOT       -       0       tlsproxy"
after = "dnsblog/unix"
reason = "postscreen's STARTTLS"

[[steps]]
action = "comment_service"
key = "relay/unix"
reason = "no relayhost here, and relay is not used"
"""


@pytest.mark.parametrize("master", ["stock", "pfconf-stock"])
def test_master_steps_on_a_real_master_cf(tmp_path, master, postconf):
    """postscreen in front of smtpd: smtp/inet's command and process limit change in place,
    its -o options go to a new smtpd/pass (enabled from the stock comment where there is
    one, else added after smtp/inet), and relay/unix is commented out with its reason;
    postconf -M and -P read exactly that, and a second run changes nothing."""
    from conftest import ROOT

    text = _stock_master() if master == "stock" else (ROOT / "rules" / "stock-master.cf").read_text()
    (tmp_path / "main.cf").write_text("myhostname = mail.example.com\n")
    (tmp_path / "master.cf").write_text(text)
    _pfedit(tmp_path, "service", "set", "smtp/inet", "smtpd_tls_security_level=may",
            "smtpd_sasl_auth_enable=yes", "syslog_name=postfix/port25")  # fmt: skip
    before = _postconf_text(tmp_path, "-M").splitlines()
    recipe = tmp_path / "screen.toml"
    recipe.write_text(_POSTSCREEN)
    args = ["apply", "--recipe-file", recipe, "--postfix-version", "3.7"]
    _pfedit(tmp_path, *args, "--check", expect=1)
    result = _pfedit(tmp_path, *args)
    assert "smtp/inet: -o smtpd_tls_security_level moved to smtpd/pass" in result.output
    assert "smtp/inet: command: smtpd -> postscreen" in result.output
    assert "relay/unix comment out (no relayhost here, and relay is not used)" in result.output

    services = _postconf_text(tmp_path, "-M").splitlines()
    names = [line.split()[0] + "/" + line.split()[1] for line in services]
    assert re.fullmatch(r"smtp +inet +n +- +[yn] +- +1 +postscreen -o syslog_name=postfix/port25",
                        services[names.index("smtp/inet")])  # fmt: skip
    # smtpd/pass right after smtp/inet (added there, or the stock comment there enabled)
    assert names[names.index("smtp/inet") + 1] == "smtpd/pass"
    assert names[names.index("smtpd/pass") + 1 : names.index("smtpd/pass") + 3] == [
        "dnsblog/unix", "tlsproxy/unix"
    ]  # fmt: skip
    assert "relay/unix" not in names
    overrides = _postconf(postconf, tmp_path, "-P")
    assert overrides["smtpd/pass/smtpd_tls_security_level"] == "may"
    assert overrides["smtpd/pass/smtpd_sasl_auth_enable"] == "yes"
    assert overrides["smtp/inet/syslog_name"] == "postfix/port25"
    assert not any(k.startswith("smtp/inet/smtpd_") for k in overrides)
    # the other services are as they were, in order
    others = [line for line in before if not line.startswith(("smtp ", "relay "))]
    assert _subsequence(others, services)
    written = (tmp_path / "master.cf").read_text()
    assert re.search(r"^# pfedit: commented out relay/unix \(\d lines? below\): no relayhost here",
                     written, re.MULTILINE)  # fmt: skip

    _pfedit(tmp_path, *args, "--check")  # idempotent
    assert _pfedit(tmp_path, *args).output == ""
    assert (tmp_path / "master.cf").read_text() == written

    # what was commented out comes back byte for byte
    _pfedit(tmp_path, "service", "uncomment", "relay/unix")
    relay = re.search(r"^relay .*\n(?:[ \t].*\n)*", text, re.MULTILINE)
    assert relay is not None and relay.group(0) in (tmp_path / "master.cf").read_text()
    assert "pfedit: commented out relay/unix" not in (tmp_path / "master.cf").read_text()


def test_change_service_arguments(tmp_path, postconf):
    """A command's arguments change; its -o overrides stay, and postconf -M reads the new
    command line."""
    (tmp_path / "main.cf").write_text("")
    (tmp_path / "master.cf").write_text(_stock_master())
    recipe = tmp_path / "args.toml"
    recipe.write_text(
        '[recipe]\nsummary = "s"\n[options.flags]\nhelp = "pipe flags"\ndefault = "Fq"\n'
        '[[steps]]\naction = "change_service"\nkey = "uucp/unix"\n'
        'arguments = ["flags={flags}", "user=uucp", "argv=uux", "-r", "-z", "$nexthop!rmail", '
        '"($recipient)"]\nreason = "r"\n'
        '[[steps]]\naction = "change_service"\nkey = "relay/unix"\narguments = ["-v"]\n'
        'reason = "r"\n'
    )
    _pfedit(tmp_path, "apply", "--recipe-file", recipe, "--postfix-version", "3.7")
    relay, uucp = _postconf_text(tmp_path, "-M", "uucp/unix", "relay/unix").splitlines()
    assert re.fullmatch(r"uucp +unix +- +n +n +- +- +pipe flags=Fq user=uucp argv=uux -r -z "
                        r"\$nexthop!rmail \(\$recipient\)", uucp)  # fmt: skip
    assert re.fullmatch(r"relay +unix .* smtp -v -o syslog_name=postfix/\$service_name", relay)
    assert _pfedit(tmp_path, "apply", "--recipe-file", recipe, "--postfix-version", "3.7").output == ""


@pytest.mark.parametrize(
    "step",
    [
        'action = "change_service"\nkey = "nosuch/inet"\ncommand = "postscreen"',
        'action = "move_overrides"\nsource = "relay/unix"\ntarget = "nosuch/unix"',
        'action = "service"\nkey = "nosuch/unix"',
        'action = "service"\nkey = "new/unix"\nentry = "new unix - - n - - smtp"\nafter = "nosuch/unix"',
        'action = "require"\nany = ["main:nosuch_parameter"]\nmessage = "nothing to build on"',
    ],
)
def test_a_failed_step_leaves_nothing_written(tmp_path, step):
    """A step that cannot be made after others were: exit 2, one line, and neither file
    changes (the earlier steps are not written either)."""
    (tmp_path / "main.cf").write_text(_seed_main())
    (tmp_path / "master.cf").write_text(_stock_master())
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    recipe = tmp_path / "broken.toml"
    recipe.write_text(
        '[recipe]\nsummary = "s"\n' + _GOOD_STEP
        + '[[steps]]\naction = "service"\nkey = "submission/inet"\nreason = "r"\n'
        + "[steps.overrides]\nsmtpd_tls_security_level = \"encrypt\"\n"
        + "[[steps]]\n" + step + '\nreason = "r"\n'
    )  # fmt: skip
    before["broken.toml"] = recipe.read_bytes()
    result = _pfedit(tmp_path, "apply", "--recipe-file", recipe, "--postfix-version", "3.7", expect=2)
    assert result.output.count("\n") == 1 and result.output.startswith("pfedit: ")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


# -- explaining and listing need no configuration ------------------------------------------------


def test_explain_and_list_without_a_configuration_directory(tmp_path):
    """--list and --explain read recipes only: they work where there is no main.cf at all."""
    missing = tmp_path / "nonexistent"
    listed = _pfedit(missing, "apply", "--list").output.splitlines()
    assert [line.split(":")[0] for line in listed] == builtin_recipes()
    assert "sasl-tls: TLS on every port" in "\n".join(listed)
    for name in builtin_recipes():
        recipe = load_recipe(name)
        shown = _pfedit(missing, "apply", name, "--explain").output
        assert shown.startswith(f"{name}: {recipe.summary}\n")
        for option in recipe.options:
            assert option.flag in shown and option.help in shown
        for step in recipe.steps:
            assert f"{step.number:2}. " in shown
            if step.reason:
                assert f"why: {step.reason}" in shown
    explained = _pfedit(missing, "apply", "sasl-tls", "--explain").output
    assert "  --cert FILE\n" in explained and "  --sasl dovecot|cyrus\n" in explained
    assert "if --cert is given: main.cf: set smtpd_tls_cert_file to the value of --cert" in explained
    assert "if the target is Postfix 3.5 or later: master.cf: service submissions/inet" in explained
    # applying does need the directory
    result = _pfedit(missing, "apply", "tls-hardening", "--postfix-version", "3.7", expect=2)
    assert f"{missing}: no such directory" in result.output


def test_recipe_options_become_flags(tmp_path):
    """pfedit apply RECIPE --help lists the options the recipe file declares; flags of other
    recipes are refused; values are checked against the option's type."""
    recipe = tmp_path / "limits.toml"
    recipe.write_text(
        '[recipe]\nsummary = "message size"\n'
        '[options.max_size]\nhelp = "the largest message, in bytes"\ntype = "integer"\n'
        "min = 1024\ndefault = 10240000\n"
        '[options.strict]\nhelp = "also refuse unknown senders"\ntype = "flag"\n'
        '[[steps]]\naction = "set"\nname = "message_size_limit"\nvalue_from = "max_size"\n'
        'reason = "the size limit"\n'
        '[[steps]]\naction = "set"\nwhen = { strict = true }\nname = "smtpd_reject_unlisted_sender"\n'
        'value = "yes"\nreason = "strict"\n'
    )
    shown = _pfedit(tmp_path, "apply", "--recipe-file", recipe, "--help").output
    assert re.search(r"--max-size N +the largest message, in bytes \(default: 10240000; 1024 <= N\)", shown)
    assert re.search(r"--strict +also refuse unknown senders", shown)
    assert "limits: message size" in shown
    builtin = _pfedit(tmp_path, "apply", "sasl-tls", "--help").output
    assert "--cert FILE" in builtin and "--sasl dovecot|cyrus" in builtin
    assert "--relayhost" not in builtin
    assert "--password-file FILE" in _pfedit(tmp_path, "apply", "relay-client", "--help").output

    (tmp_path / "main.cf").write_text("")
    args = ["apply", "--recipe-file", recipe, "--postfix-version", "3.7"]
    _pfedit(tmp_path, *args, "--max-size", "50000000", "--strict")
    text = (tmp_path / "main.cf").read_text()
    assert "message_size_limit = 50000000\n" in text and "smtpd_reject_unlisted_sender = yes\n" in text
    refused = _pfedit(tmp_path, *args, "--max-size", "big", expect=2)
    assert "--max-size: 'big' is not a whole number" in refused.output
    assert "--max-size: 100 is less than 1024" in _pfedit(tmp_path, *args, "--max-size", "100", expect=2).output
    # click words it "No such option: --cert" or "No such option '--cert'" by release
    refused = _pfedit(tmp_path, "apply", "tls-hardening", "--cert", "/x", expect=2).output
    assert "No such option" in refused and "--cert" in refused
    relative = _pfedit(tmp_path, "apply", "sasl-tls", "--cert", "mail.pem", "--key", "/k", expect=2)
    assert "--cert: 'mail.pem': give an absolute path" in relative.output


def test_relay_password_from_the_environment(tmp_path, monkeypatch):
    directory = _setup(tmp_path, "debian-fresh")
    monkeypatch.setenv("PFEDIT_RELAY_PASSWORD", "from-env")
    args = ["apply", "relay-client", "--relayhost", "[smtp.example.net]:587", "--user", "me"]
    _pfedit(directory, *args, "--diff")
    monkeypatch.delenv("PFEDIT_RELAY_PASSWORD")
    result = _pfedit(directory, *args, expect=2)
    assert "relay-client needs its password: --password-file or $PFEDIT_RELAY_PASSWORD" in result.output


def test_a_value_from_an_option_not_given(tmp_path):
    """A step that takes its value from an option nobody gave (and that has no default)
    stops the recipe with a message, not a traceback, and nothing is written."""
    (tmp_path / "main.cf").write_text("myhostname = a\n")
    recipe = tmp_path / "r.toml"
    recipe.write_text(
        '[recipe]\nsummary = "s"\n[options.relay]\nhelp = "the relay"\n'
        '[[steps]]\naction = "set"\nname = "relayhost"\nvalue_from = "relay"\nreason = "r"\n'
    )
    result = _pfedit(tmp_path, "apply", "--recipe-file", recipe, "--postfix-version", "3.7", expect=2)
    assert result.output == "pfedit: step 1: relayhost needs --relay\n"
    assert (tmp_path / "main.cf").read_text() == "myhostname = a\n"
