"""pfconf.semantics' daemons, SMTP servers, clients and address classes: what each part of a
running Postfix is configured to do, checked against postconf where it can tell."""

from __future__ import annotations

import socket

import pytest
from conftest import real_files
from oracle import _lines, _run, fold, in_parallel, require_postconf

from pfconf import loads, postfix
from pfconf.kb import parse_version
from pfconf.model import MainCf
from pfconf.semantics import Postfix
from pfconf.semantics.services import inet_endpoint


def _model(main: str, master: str | None = None, version: str = "3.9") -> Postfix:
    main_doc = loads(main, "main")
    master_doc = loads(master, "master") if master is not None else None
    assert isinstance(main_doc, MainCf)
    return Postfix(main_doc, master_doc, parse_version(version))  # type: ignore[arg-type]


def _overrides_by_postconf(data: bytes) -> tuple[int, dict[str, str]]:
    proc = _run(["-P", "-x"], {"main.cf": b"", "master.cf": data})
    values = {}
    for line in _lines(proc.stdout.decode("utf-8", "surrogateescape")):
        name, _, value = line.partition(" =")
        values[name] = value.removeprefix(" ")
    return proc.returncode, values


def test_each_service_sees_its_overrides_as_postconf_P_x_shows_them():
    """Every -o override of every real master.cf postconf accepts, expanded: the daemon's
    view of main.cf plus its overrides gives the value postconf -P -x prints."""
    require_postconf()
    files = real_files("master")
    assert len(files) > 50
    readings = in_parallel(lambda p: _overrides_by_postconf(p.read_bytes()), files)
    version = parse_version(postfix.installed_version())[:2]
    compared = 0
    wrong = {}
    for path, (status, shown) in zip(files, readings):
        if status != 0:
            continue
        master = loads(path.read_bytes(), "master")
        model = Postfix(MainCf(()), master, version, hostname=socket.gethostname())  # type: ignore[arg-type]
        for daemon in model.daemons:
            names = set(daemon.service.overrides)
            for name, raw in daemon.service.overrides.items():
                key = f"{daemon.name}/{daemon.type}/{name}"
                if key not in shown or any(f"${n}" in raw or f"{{{n}}}" in raw for n in names):
                    # postconf -x expands an override with main.cf's values only; the
                    # daemon also sees its other overrides (compared in the unit tests)
                    continue
                if model.daemon(daemon.name, daemon.type) is not daemon:
                    continue  # a duplicate entry: postconf -P shows the first
                compared += 1
                ours = daemon.config.value(name) or ""
                if fold(ours) != fold(shown[key]):
                    wrong[f"{path.name}:{key}"] = (ours, shown[key])
    assert not wrong, list(wrong.items())[:5]
    assert compared > 300


def test_an_override_is_seen_by_the_values_that_refer_to_it():
    """mail_conf_update() stores each -o before the daemon reads its parameters, so a main.cf
    value that says $name sees the service's override of name."""
    model = _model(
        "mua_client_restrictions = permit_sasl_authenticated, reject\n"
        "smtpd_client_restrictions = $mua_client_restrictions\n"
        "smtpd_banner = $myhostname ESMTP\nmyhostname = mx.example.com\n",
        "smtp inet n - y - - smtpd\n"
        "submission inet n - y - - smtpd -o myhostname=submit.example.com\n"
        "  -o mua_client_restrictions=permit_mynetworks,reject\n",
    )
    smtp, submission = model.smtp_servers
    assert smtp.config.value("smtpd_banner") == "mx.example.com ESMTP"
    assert submission.config.value("smtpd_banner") == "submit.example.com ESMTP"
    names = [r.name for r in submission.restrictions["smtpd_client_restrictions"].items]
    assert names == ["permit_mynetworks", "reject"]
    # each item points at the override that writes it
    first = submission.restrictions["smtpd_client_restrictions"].items[0]
    assert first.written.origin is not None and first.written.origin.name == (
        "mua_client_restrictions"
    )
    assert first.written.span is not None and first.written.span.line == 3


def test_master_columns_and_their_defaults():
    """master_ent.c: '-' is private and unprivileged, chrooted only below compatibility level
    1; the process limit '-' is default_process_limit of main.cf (not of an override)."""
    model = _model(
        "default_process_limit = 50\ncompatibility_level = 3.6\n",
        "smtp inet n - - - - smtpd -o default_process_limit=7\n"
        "pickup unix n - y 60 1 pickup\n"
        "127.0.0.1:10025 inet n n n - 2 smtpd\n"
        "submission inet n - n - - smtpd\n",
    )
    smtp, pickup, loopback, submission = model.daemons
    assert (smtp.private, smtp.unprivileged, smtp.chroot) == (False, True, False)
    assert smtp.process_limit == 50
    assert pickup.chroot and pickup.process_limit == 1
    assert loopback.endpoint is not None and loopback.endpoint.host == "127.0.0.1"
    assert loopback.port == 10025 and not loopback.unprivileged
    assert smtp.port == 25 and submission.port == 587
    assert _model("", "smtp inet n - - - - smtpd\n").daemons[0].chroot  # level 0: chroot


@pytest.mark.parametrize(
    "name, host, port, number",
    [
        ("smtp", None, "smtp", 25),
        ("127.0.0.1:smtps", "127.0.0.1", "smtps", 465),
        ("[::1]:2525", "::1", "2525", 2525),
        ("0.0.0.0:submission", "0.0.0.0", "submission", 587),
        ("10024", None, "10024", 10024),
        ("localhost:nosuchservice", "localhost", "nosuchservice", None),
    ],
)
def test_inet_endpoints(name, host, port, number):
    endpoint = inet_endpoint(name)
    assert (endpoint.host, endpoint.port, endpoint.number) == (host, port, number)


@pytest.mark.parametrize(
    "main, master, tls, auth",
    [
        ("smtpd_sasl_auth_enable = yes\n", "", "none", "always"),
        (
            "smtpd_sasl_auth_enable = yes\nsmtpd_tls_auth_only = yes\n", "", "none", "none",
        ),
        (
            "smtpd_sasl_auth_enable = yes\nsmtpd_tls_security_level = may\n"
            + "smtpd_tls_chain_files = /k.pem\n", "", "optional", "always",
        ),
        (
            "smtpd_tls_security_level = may\nsmtpd_tls_chain_files = /k.pem\n",
            " -o smtpd_sasl_auth_enable=yes -o smtpd_tls_security_level=encrypt",
            "required", "after_tls",
        ),
        (
            "smtpd_tls_cert_file = /c.pem\n",
            " -o smtpd_sasl_auth_enable=yes -o smtpd_tls_wrappermode=yes",
            "required", "after_tls",
        ),
    ],
)  # fmt: skip
def test_what_an_smtpd_offers(main, master, tls, auth):
    model = _model(main, "submission inet n - n - - smtpd" + master + "\n")
    (server,) = model.smtp_servers
    assert (server.tls.state, server.auth.state) == (tls, auth)


def test_restriction_classes_and_arguments():
    """Classes resolve to their own lists (after the built-in names); an access table or a
    zone is bound to the restriction before it, whatever the separators."""
    model = _model(
        "smtpd_restriction_classes = friendly, strict\n"
        "friendly = permit\nstrict = reject_rbl_client zen.spamhaus.org, strict\n"
        "smtpd_recipient_restrictions = check_recipient_access hash:/etc/postfix/r,\n"
        "    reject_unauth_destination strict friendly\n"
    )
    (server,) = model.smtp_servers
    listed = server.restrictions["smtpd_recipient_restrictions"]
    assert [r.text for r in listed.items] == [
        "check_recipient_access hash:/etc/postfix/r",
        "reject_unauth_destination",
        "strict",
        "friendly",
    ]
    flat = [(r.text, r.classes) for r in listed.flattened()]
    assert flat == [
        ("check_recipient_access hash:/etc/postfix/r", ()),
        ("reject_unauth_destination", ()),
        ("reject_rbl_client zen.spamhaus.org", ("strict",)),
        ("strict", ("strict",)),  # a class naming itself is not followed again
        ("permit", ("friendly",)),
    ]
    rbl = listed.flattened()[2]
    assert rbl.written.span is not None and rbl.written.span.line == 3
    assert not server.restrictions["smtpd_client_restrictions"].items
    assert server.restrictions["smtpd_client_restrictions"].is_default


def test_default_relay_list_comes_from_the_release():
    (server,) = _model("compatibility_level = 3.6\n").smtp_servers
    relay = server.restrictions["smtpd_relay_restrictions"]
    assert relay.is_default
    assert [r.name for r in relay.items] == [
        "permit_mynetworks",
        "permit_sasl_authenticated",
        "defer_unauth_destination",
    ]


@pytest.mark.parametrize(
    "main, level, why",
    [
        ("", "none", "smtp_tls_security_level is not set"),
        ("smtp_use_tls = yes\n", "may", "smtp_use_tls = yes"),
        ("smtp_enforce_tls = yes\nsmtp_tls_enforce_peername = yes\n", "verify", None),
        ("smtp_tls_security_level = encrypt\nsmtp_use_tls = no\n", "encrypt", None),
    ],
)
def test_client_tls_level(main, level, why):
    (client,) = _model(main).smtp_clients
    assert client.tls.level == level
    if why:
        assert client.tls.why == why


def test_lmtp_reads_its_own_parameters():
    model = _model(
        "smtp_tls_security_level = may\nlmtp_tls_security_level = none\n"
        "smtp_sasl_auth_enable = yes\nsmtp_sasl_password_maps = hash:/etc/postfix/sasl\n",
        "smtp unix - - n - - smtp\nlmtp unix - - n - - lmtp\n",
    )
    smtp, lmtp = model.smtp_clients
    assert (smtp.tls.level, lmtp.tls.level) == ("may", "none")
    assert smtp.sasl.enabled and smtp.sasl.password_maps == "hash:/etc/postfix/sasl"
    assert not lmtp.sasl.enabled


def test_postscreen_tests():
    model = _model(
        "postscreen_dnsbl_sites = zen.spamhaus.org*2\npostscreen_dnsbl_action = enforce\n"
        "postscreen_pipelining_enable = yes\n",
        "smtp inet n - n - 1 postscreen\nsmtpd pass - - n - - smtpd\n",
    )
    (screen,) = model.postscreens
    assert screen.test("dnsbl").runs and screen.test("dnsbl").action == "enforce"
    assert screen.test("pipelining").runs and not screen.test("bare newline").runs
    assert screen.test("pregreet").action == "ignore"
    assert screen.test("access list").switch == "postscreen_access_list"


def test_address_classes_read_match_lists():
    model = _model(
        "mydestination = $myhostname, localhost # example.org\nmyhostname = mx.example.com\n"
        "virtual_mailbox_domains = example.net\nvirtual_transport = lmtp:unix:private/dovecot\n"
    )
    local, _alias, mailbox, _relay, default = model.address_classes
    assert local.domains is not None and local.domains.items == ("mx.example.com", "localhost")
    assert local.domains.ignored == "# example.org"
    assert mailbox.transport == "lmtp:unix:private/dovecot"
    assert default.domains is None and default.transport == "smtp"
    assert [(t.transport, t.parameter) for t in model.named_transports][:3] == [
        ("local", "local_transport"),
        ("lmtp", "virtual_transport"),
        ("relay", "relay_transport"),
    ]


def test_mynetworks_explicit_or_by_style():
    assert _model("mynetworks = 127.0.0.0/8 [::1]/128\n").mynetworks.items is not None
    computed = _model("compatibility_level = 2\n").mynetworks
    assert not computed.explicit and computed.style == "host"
    assert _model("").mynetworks.style == "subnet"  # level 0: the old default
