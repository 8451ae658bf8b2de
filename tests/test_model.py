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


# -- who may relay (pfconf.semantics.relay) ----------------------------------------------------


def test_the_startup_check_searches_classes_as_has_required_does():
    """smtpd_check_init(): a class is searched where it is named; a permit inside it ends
    only the class's search, a permit in the list ends the list's; warn_if_reject makes the
    search skip the next word."""
    from pfconf.semantics.relay import startup_check

    def check(main):  # type: ignore[no-untyped-def]
        (server,) = _model("compatibility_level = 3.11\n" + main).smtp_servers
        return startup_check(server)

    found = check("smtpd_restriction_classes = c\nc = reject_unauth_destination\n"
                  "smtpd_relay_restrictions = permit_mynetworks, c\n").found  # fmt: skip
    assert found is not None and found.name == "reject_unauth_destination"
    assert check("smtpd_restriction_classes = c\nc = permit\n"
                 "smtpd_relay_restrictions = c, defer_unauth_destination\n").starts  # fmt: skip
    stopped = check("smtpd_restriction_classes = c\nc = permit, reject_unauth_destination\n"
                    "smtpd_relay_restrictions = permit_mynetworks, c\n")  # fmt: skip
    assert not stopped.starts and stopped.stopped_at == {}
    permit_first = check("smtpd_relay_restrictions = permit, reject_unauth_destination\n")
    assert not permit_first.starts
    assert permit_first.stopped_at["smtpd_relay_restrictions"].name == "permit"
    assert not check("smtpd_relay_restrictions = warn_if_reject reject_unauth_destination\n").starts
    # below compatibility level 1 both lists default to empty
    (server,) = _model("").smtp_servers
    assert not startup_check(server).starts


def test_a_strangers_relay_attempt():
    from pfconf.semantics.relay import stranger_relay

    def verdict(main, master=None):  # type: ignore[no-untyped-def]
        servers = _model("compatibility_level = 3.11\n" + main, master).smtp_servers
        return stranger_relay(servers[0])

    assert verdict("").refused_by is not None  # the default relay list
    opened = verdict("mynetworks = 127.0.0.0/8, 0.0.0.0/0\n")
    assert opened.open
    (opening,) = opened.openings
    assert opening.list_name == "smtpd_relay_restrictions"
    assert opening.network is not None and opening.network.text == "0.0.0.0/0"
    assert opening.network.written.span is not None
    assert opening.network.written.span.column == 27
    # a permit reached through a class ends the list that uses the class
    through = verdict("smtpd_restriction_classes = c\nc = permit\n"
                      "smtpd_relay_restrictions = c, reject_unauth_destination\n")  # fmt: skip
    (opening,) = through.openings
    assert opening.restriction.classes == ("c",) and opening.skips is not None
    # a permit ends only its own list: the other list still refuses
    assert not verdict("smtpd_recipient_restrictions = permit\n").open
    # the client list can refuse everyone before RCPT TO counts
    refused = verdict(
        "mynetworks = 0.0.0.0/0\nsmtpd_client_restrictions = permit_sasl_authenticated, reject\n"
    )
    assert refused.refused_by is not None and refused.refused_by.name == "reject"
    # lookups are noted only where every list that refuses has one before its refusal
    noted = verdict("smtpd_relay_restrictions = check_client_access hash:a, "
                    "reject_unauth_destination\n")  # fmt: skip
    assert [(r.name, check.name) for r, check in noted.lookups] == [
        ("check_client_access", "reject_unauth_destination")
    ]
    both = verdict("smtpd_relay_restrictions = check_client_access hash:a, "
                   "reject_unauth_destination\nsmtpd_recipient_restrictions = "
                   "reject_unauth_destination\n")  # fmt: skip
    assert both.lookups == ()
    # the opening that skips a check is the cause; a permit in a list without one is not
    cause = verdict("mynetworks = 0.0.0.0/0\nsmtpd_relay_restrictions = permit_mynetworks, "
                    "reject\nsmtpd_recipient_restrictions = permit\n")  # fmt: skip
    assert [o.restriction.name for o in cause.openings] == ["permit_mynetworks"]


def test_lists_run_in_the_order_of_smtpd_relay_before_recipient_restrictions():
    from pfconf.semantics.relay import evaluation_order

    new = _model("compatibility_level = 3.6\n").config
    old = _model("compatibility_level = 2\n").config
    relay, recipient = "smtpd_relay_restrictions", "smtpd_recipient_restrictions"
    assert evaluation_order(new)[3:5] == (relay, recipient)
    assert evaluation_order(old)[3:5] == (recipient, relay)


def test_trusted_networks_and_who_can_reach_a_server():
    from pfconf.semantics.relay import (
        own_networks_public,
        reachable_by_strangers,
        trusted_networks,
    )

    config = _model("mynetworks = 10.0.0.0/8, [::1]/128, 81.2.69.0/24 # 0.0.0.0/0\n").config
    networks = trusted_networks(config)
    assert networks is not None
    assert [(n.text, n.public, n.over_wide) for n in networks] == [
        ("10.0.0.0/8", False, False),
        ("[::1]/128", False, False),
        ("81.2.69.0/24", True, False),
    ]
    assert own_networks_public(config)
    assert not own_networks_public(_model("mynetworks = 127.0.0.0/8 192.168.0.0/16\n").config)
    assert not own_networks_public(_model("compatibility_level = 2\n").config)  # host style
    assert trusted_networks(_model("").config) is None
    assert [n.over_wide for n in trusted_networks(_model("mynetworks = 0/0 4.0.0.0/8\n").config)
            or ()] == [True, True]  # fmt: skip
    model = _model("", "smtp inet n - n - - smtpd\n127.0.0.1:10025 inet n - n - - smtpd\n")
    assert [reachable_by_strangers(s) for s in model.smtp_servers] == [True, False]
    (local,) = _model("inet_interfaces = loopback-only\n").smtp_servers
    assert not reachable_by_strangers(local)


# -- DNS lists (pfconf.semantics.dnsbl) ----------------------------------------------------------


def test_dnsbl_queries_of_smtpd_and_postscreen():
    from pfconf.semantics.dnsbl import postscreen_queries, smtpd_queries, split_site

    model = _model(
        "compatibility_level = 3.11\nsmtpd_restriction_classes = used, unused\n"
        "used = reject_rbl_client a.example\nunused = reject_rhsbl_sender b.example=127.0.0.2\n"
        "smtpd_client_restrictions = permit_mynetworks, used, reject_rbl_client c.example\n"
        "smtpd_recipient_restrictions = reject_rbl_client C.Example., reject_unauth_destination\n"
        "postscreen_dnsbl_sites = d.example=127.0.0.[2..4]*3, e.example\n"
    )
    (server,) = model.smtp_servers
    queries = smtpd_queries(server)
    assert [(q.lookup, q.zone, q.filter, q.list_name) for q in queries] == [
        ("reject_rbl_client", "a.example", None, "smtpd_client_restrictions"),
        ("reject_rbl_client", "c.example", None, "smtpd_client_restrictions"),
        ("reject_rbl_client", "c.example", None, "smtpd_recipient_restrictions"),
        ("reject_rhsbl_sender", "b.example", "127.0.0.2", None),
    ]
    used, client_c, recipient_c, unused = queries
    assert used.guards == client_c.guards == {"permit_mynetworks"}
    assert recipient_c.always_with(client_c) and not client_c.always_with(recipient_c)
    assert not unused.always_with(used)
    sites = postscreen_queries(model.config)
    assert [(q.zone, q.filter, q.weight) for q in sites] == [
        ("d.example", "127.0.0.[2..4]", 3),
        ("e.example", None, 1),
    ]
    assert sites[0].written.span is not None and sites[0].written.span.line == 7
    assert split_site("x.example*-2") == ("x.example", None, -2)
    assert split_site("x.example*z")[2] is None  # postscreen refuses the weight


def test_result_filters_admit_answers():
    from pfconf.semantics.dnsbl import admits

    assert admits(None, "127.0.0.4")
    assert admits("127.0.0.[2..11]", "127.0.0.[4..7]")
    assert not admits("127.0.0.[2..3]", "127.0.0.[4..7]")
    assert admits("127.0.0.[2;4..7]", "127.0.0.4")
    assert not admits("127.0.0.2", None)
    assert not admits("127.0.0.[2..", "127.0.0.2")  # unreadable: admits nothing
