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
from pfconf.semantics.delivery import ip_address, parse_destination
from pfconf.semantics.endpoints import policy_service
from pfconf.semantics.replies import rbl_template
from pfconf.semantics.restrictions import ccert_table_problem, ip_pattern_error
from pfconf.semantics.services import inet_endpoint
from pfconf.semantics.settings import (
    charset_problem,
    dane_digests,
    header_problem,
    known_tcp_ports,
    log_file_mode_problem,
)
from pfconf.semantics.tls import (
    bad_exclusion,
    cipher_exclusions,
    config_file_problem,
    fingerprints,
    match_names,
)
from pfconf.values import hostname_problem


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
        ("[ipv6:::1]:10027", "::1", "10027", 10027),  # host_port() drops the IPv6: prefix
        (":10029", None, "10029", 10029),
        ("127.0.0.1:\u00b2", "127.0.0.1", "\u00b2", None),
    ],
)
def test_inet_endpoints(name, host, port, number):
    endpoint = inet_endpoint(name)
    assert endpoint is not None
    assert (endpoint.host, endpoint.port, endpoint.number) == (host, port, number)


@pytest.mark.parametrize("name", ["127.0.0.1:", "[::1:10025", "[127.0.0.1]", "bad_host!:25"])
def test_no_endpoint_for_a_name_master_cannot_read(name):
    assert inet_endpoint(name) is None


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
        # required TLS implies AUTH only after STARTTLS even when smtpd has no certificate
        # and so no TLS to offer (smtpd.c, main): AUTH is never offered
        (
            "", " -o smtpd_sasl_auth_enable=yes -o smtpd_tls_security_level=encrypt",
            "unavailable", "none",
        ),
        ("smtpd_enforce_tls = yes\nsmtpd_sasl_auth_enable = yes\n", "", "unavailable", "none"),
        # smtpd reads verify, secure and fingerprint as encrypt (with a warning)
        (
            "smtpd_tls_chain_files = /k.pem\n",
            " -o smtpd_sasl_auth_enable=yes -o smtpd_tls_security_level=verify",
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


def test_no_smtp_client_without_a_service_that_runs_one():
    """A master.cf without smtp or lmtp services runs no SMTP client: main.cf's smtp_*
    settings reach no process (as with a container's master.cf that runs only an smtpd,
    seen in the real corpus review).  Only when the
    master.cf is not known does main.cf alone stand for the client."""
    main = "smtp_bind_address = 0.0.0.0:2525\n"
    assert _model(main, "2525 inet n - n - 20 smtpd\n").smtp_clients == ()
    (client,) = _model(main).smtp_clients
    assert client.daemon is None


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


def test_restriction_classes_with_their_definitions():
    """Every listed class, used or not, with where it is listed; one without a value (or
    one that expands to nothing) has no definition, as smtpd_check_init() finds it."""
    model = _model(
        "smtpd_restriction_classes = used, unused, missing, empty\n"
        "used = check_policy_service inet:127.0.0.1:10023\n"
        "unused = check_policy_service policyd\nempty = $nothing\n"
        "smtpd_recipient_restrictions = reject_unauth_destination, used\n"
        "smtpd_etrn_restrictions = check_policy_service unix:private/etrn\n"
    )
    (server,) = model.smtp_servers
    listed = [(c.name, c.definition is not None) for c in server.classes]
    assert listed == [("used", True), ("unused", True), ("missing", False), ("empty", False)]
    span = server.classes[2].written.span
    assert span is not None and (span.line, span.column, span.end_column) == (1, 43, 50)
    # smtpd registers the policy services of every list it parses when it starts: the
    # lists, smtpd_etrn_restrictions and each class, used or not
    services = [(r.list_name, r.argument, s.fatal) for r, s in server.policy_services]
    assert services == [
        ("smtpd_etrn_restrictions", "unix:private/etrn", None),
        ("used", "inet:127.0.0.1:10023", None),
        ("unused", "policyd", 'need service transport:endpoint instead of "policyd"'),
    ]


@pytest.mark.parametrize(
    "text, version, fatal, settings",
    [
        ("inet:127.0.0.1:10023", "3.9", None, ()),
        ("127.0.0.1:10023", "3.9", "invalid transport name: 127.0.0.1 in service: 127.0.0.1:10023", ()),
        ("INET:host:1", "3.9", "invalid transport name: INET in service: INET:host:1", ()),
        ("unix:", "3.9", 'need service transport:endpoint instead of "unix:"', ()),
        ("{ inet:h:1, timeout=10s, { policy_context = a b } }", "3.9", None,
         (("timeout", "10s"), ("policy_context", "a b"))),
        # conv_time() reads one unit letter and ignores the rest, as Postfix does
        ("{ inet:h:1, max_idle=10sec }", "3.9", None, (("max_idle", "10sec"),)),
        ("{ inet:h:1, timeout 10s }", "3.9",
         'malformed option: missing \'=\' after attribute name: "...timeout..."', ()),
        ("{ inet:h:1, timeout=ten }", "3.9", "timeout: bad time value or unit: ten", ()),
        ("{ inet:h:1, timeout=0 }", "3.9", "invalid timeout: 0 (min 1)", ()),
        ("{ inet:h:1, try_limit=2x }", "3.9", "bad numerical configuration: try_limit = 2x", ()),
        ("{ inet:h:1, default_action= }", "3.9", "bad string length 0 < 1: default_action = ", ()),
        ("{ inet:h:1, policy_context=x }", "3.0", 'unknown option: "policy_context = x"', ()),
        ("{ inet:h:1 }", "2.11", "invalid transport name: { inet in service: { inet:h:1 }", ()),
        ("{ inet:h:1", "3.9", "policy service syntax error: missing '}' in \"{ inet:h:1\"", ()),
        ("{ }", "3.9", 'empty policy service: "{ }"', ()),
    ],
)  # fmt: skip
def test_policy_service_entries_read_as_smtpd_registers_them(text, version, fatal, settings):
    service = policy_service(text, parse_version(version))
    assert (service.fatal, service.settings) == (fatal, settings)


def test_milters_per_service_and_for_cleanup():
    """smtpd_milters as each smtpd reads it (none with no_milters), non_smtpd_milters as
    each cleanup reads it; a bad endpoint only fails when used, a bad entry stops."""
    model = _model(
        "smtpd_milters = 127.0.0.1:8891, { unix:/run/m, connect_timeout=10s }\n"
        "non_smtpd_milters = { inet:h:1, connect_timeout = 10s }\n",
        "smtp inet n - n - - smtpd\n"
        "in2 inet n - n - - smtpd -o receive_override_options=no_milters\n"
        "cleanup unix n - n - 0 cleanup\n",
    )
    plain, no_milters = model.smtp_servers
    entries = [(e.endpoint, e.endpoint_error, e.fatal) for _, e in plain.milters]
    assert entries == [
        ("127.0.0.1:8891", "invalid transport name: 127.0.0.1 in Milter service: 127.0.0.1:8891",
         None),
        ("unix:/run/m", None, None),
    ]  # fmt: skip
    assert no_milters.milters == ()
    ((daemon, written, entry),) = model.cleanup_milters
    assert daemon is not None and daemon.program == "cleanup"
    assert written.span is not None and written.span.line == 2
    assert (
        entry.fatal
        == "malformed option: missing '=' after attribute name: \"...connect_timeout...\""
    )


@pytest.mark.parametrize(
    "argument, problem",
    [
        ("hash:/etc/postfix/ccerts", None),
        ("{ hash:/x, { search_order = cert_fingerprint, pubkey_fingerprint } }", None),
        ("{ hash:/x, search_order=subject_cn }", True),
        ("{ hash:/x, search_order=fingerprint }", False),
        ("{ hash:/x, search=cert_fingerprint }", False),
        ("{ /x }", False),
        ("{ hash:/x", False),
    ],
)
def test_check_ccert_access_search_orders(argument, problem):
    """map_search_create(): what check_ccert_access cannot use at all (False), or only for
    clients with a certificate (True: a search name it does not handle)."""
    found = ccert_table_problem(argument, parse_version("3.9"))
    assert (None if found is None else found[1]) == problem


@pytest.mark.parametrize(
    "template, error, code_error",
    [
        ("$rbl_code Service unavailable; $rbl_class [$rbl_what] blocked using $rbl_domain", None,
         None),
        ("$rbl_code Blocked${rbl_reason?; $rbl_reason}${nothing?{$nothing}}", None, None),
        ("554 5.7.1 see http://$server_name/ for $client_address", None, None),
        ("$rbl_code see http://$myhostname/", 'unknown macro name "myhostname"', None),
        ("$rbl_code ${rbl_domain", 'truncated macro reference: "$rbl_code ${rbl_domain"', None),
        ("Blocked using $rbl_domain", None, True),
        ("$rbl_what is blocked", None, None),  # starts with client data: not judged
    ],
)  # fmt: skip
def test_rbl_reply_templates(template, error, code_error):
    reading = rbl_template(template, parse_version("3.9"), "554")
    assert reading.error == error
    assert (reading.code_error is not None) == bool(code_error)


@pytest.mark.parametrize(
    "pattern, problem",
    [
        ("127.0.0.2", None),
        ("[127.0.0.2]", None),
        ("127.0.0.[2..11]", None),
        ("127.0.[0..255].[1;3;5..7]", None),
        ("127.0.0.256", 'need decimal number 0..255 or "["'),
        ("127.0.0.*", 'need decimal number 0..255 or "["'),
        ("127.0.0.2-11", "garbage after pattern"),
        ("127.0.0", 'need "."'),
        ("127.0.0.[11..2]", "numeric range error"),
        ("127.0.0.[2,3]", 'need ";" or "]"'),
        ("[127.0.0.2", 'missing "]" character'),
        ("", "empty address pattern"),
    ],
)
def test_dns_list_reply_filters_as_ip_match_reads_them(pattern, problem):
    assert ip_pattern_error(pattern) == problem


# -- the daemon's reading of its command line, what programs demand, named transports --------


def test_a_daemon_reads_its_options_with_its_own_getopt():
    """smtpd's skeleton takes a value for -n (single_server.c), so the -o after it is read,
    which postconf -P does not show; a lone - ends the daemon's options."""
    model = _model(
        "",
        "smtp inet n - n - - smtpd -n name -o syslog_name=a\n"
        "relay unix - - n - - smtp - x -o syslog_name=b\n"
        "custom unix - n n - - mydaemon -n x -o syslog_name=c\n",
    )
    smtp, relay, custom = model.daemons
    assert smtp.service.overrides == {}  # postconf's reading
    assert [(o.name, o.value) for o in smtp.overrides] == [("syslog_name", "a")]
    assert smtp.config.value("syslog_name") == "a"
    assert smtp.command_line is not None and smtp.command_line.known
    assert [(o.letter, o.value) for o in smtp.command_line.options] == [
        ("n", "name"), ("o", "syslog_name=a"),
    ]  # fmt: skip
    assert relay.service.overrides == {"syslog_name": "b"}
    assert relay.overrides == () and relay.config.origin("syslog_name") is None
    # a program pflint does not know is read as postconf reads it
    assert custom.command_line is not None and not custom.command_line.known
    assert custom.overrides == () and custom.command_line.refused == ()


def test_override_places_in_the_daemons_reading():
    model = _model("", "smtp inet n - n - - smtpd -vosyslog_name=a -o { x = y }\n")
    (daemon,) = model.daemons
    first, second = daemon.overrides
    assert (first.name, first.value, first.braced) == ("syslog_name", "a", False)
    assert (first.option.column, first.argument.column) == (29, 30)  # the o of -vo
    assert (second.name, second.value, second.braced) == ("x", "y", True)
    assert second.argument.column == 47 and second.text == "{ x = y }"


def test_what_a_program_demands_of_its_service():
    model = _model(
        "compatibility_level = 3.6\nmaster_service_disable = !smtp/inet, inet\n",
        "smtp inet n - n - - smtpd\nsubmission inet n - n - - smtpd\n"
        "qmgr unix n - n 300 1 qmgr\npostlog unix-dgram n - n - 1 postlogd\n"
        "local unix - n n - - local\n",
        version="3.7",
    )
    smtp, submission, qmgr, postlog, local = model.daemons
    assert not smtp.disabled and submission.disabled and not submission.started
    assert qmgr.facts is not None and qmgr.facts.process_limit == 1
    assert qmgr.facts.arguments == "none" and "o:" in qmgr.facts.letters
    assert local.facts is not None and local.facts.privileged and local.facts.process_limit is None
    assert not postlog.started  # no maillog_file: nothing logs through postlogd
    assert _model("maillog_file = /var/log/mail\n", "postlog unix-dgram n - n - 1 postlogd\n")\
        .daemons[0].started  # fmt: skip
    # before 3.4 the skeleton has no -r; smtp's flags= arrive in 3.5
    old = _model("", "smtp unix - - n - - smtp\n", version="3.3").daemons[0]
    assert old.facts is not None and "r:" not in old.facts.letters and old.facts.arguments == "none"
    assert _model("", "smtp unix - - n - - smtp\n").daemons[0].facts.arguments == "flags"  # type: ignore[union-attr]


def test_named_transports_say_where_they_are_written():
    model = _model(
        "content_filter = amavis:[127.0.0.1]:10024\nfilter = spam\n"
        "transport_maps = inline:{ lists.example.com=mailman: }\n"
        "fallback_transport = $filter\n",
        "smtp inet n - n - - smtpd\n127.0.0.1:10025 inet n - n - - smtpd -o content_filter=\n"
        "dovecot inet n - n - - smtpd -o content_filter=scan:x\n",
    )
    found = {(t.transport, t.parameter, t.daemon.key if t.daemon else None): t
             for t in model.named_transports}  # fmt: skip
    amavis = found[("amavis", "content_filter", None)]
    assert amavis.nexthop == "[127.0.0.1]:10024"
    assert amavis.written is not None and amavis.written.span is not None
    assert (amavis.written.span.line, amavis.written.span.column) == (1, 18)
    mailman = found[("mailman", "transport_maps", None)]
    assert mailman.written is not None and mailman.written.span is not None
    assert mailman.written.span.column == 45
    spam = found[("spam", "fallback_transport", None)]
    assert spam.written is not None and spam.written.span is None  # expanded from $filter
    scan = found[("scan", "content_filter", "dovecot/inet")]
    assert scan.written is not None and scan.written.span is not None
    assert scan.written.span.column == 48
    assert found[("smtp", "default_transport", None)].written is None  # the default
    assert not any(t.daemon and t.daemon.name == "127.0.0.1:10025" for t in model.named_transports)


STOCK_CLIENTS = (
    "smtp unix - - n - - smtp\nrelay unix - - n - - smtp\nlmtp unix - - n - - lmtp\n"
    "smtpd-in inet n - n - - smtpd\npickup unix n - n 60 1 pickup\n"
)


@pytest.mark.parametrize(
    "text, lmtp, host, service, port, problem",
    [
        ("[192.0.2.1]", False, "192.0.2.1", "25", 25, None),
        ("mail.example.com:submission", False, "mail.example.com", "submission", 587, None),
        ("[ipv6:2001:db8::1]:26", False, "2001:db8::1", "26", 26, None),
        ("[smtp.example.com]:99999", False, "smtp.example.com", "99999", None,
         "bad network port: 99999 for destination: [smtp.example.com]:99999"),
        ("[192.0.2.1", False, None, None, None,
         'missing "]" in server description: [192.0.2.1'),
        ("[host]x", False, None, None, None, 'garbage after "]" in server description: [host]x'),
        ("host:25x", False, None, None, None,
         "garbage after numerical service in server description: host:25x"),
        ("[ipv6:192.0.2.1]", False, None, None, None,
         "malformed IPv6 address in server description: [ipv6:192.0.2.1]"),
        ("inet:[192.0.2.1]", True, "192.0.2.1", "24", 24, None),
        ("inet:host:0", True, "host", "0", None, "bad network port: 0 for destination: host:0"),
        # host_port() checks a written host, even an empty one in brackets
        ("[]:25", False, None, None, None,
         "valid hostname or network address required in server description: []:25"),
        ("-relay.example.com", False, None, None, None,
         ("valid hostname or network address required in server description: "
          "-relay.example.com")),
        ("192.0.2.1.5", False, None, None, None,
         "valid hostname or network address required in server description: 192.0.2.1.5"),
        ("[ipv6:fe80::1%eth0]", False, None, None, None,
         "malformed IPv6 address in server description: [ipv6:fe80::1%eth0]"),
        # "\u00b2" is no ASCII digit: a service name (getservbyname() decides), no crash
        ("host:\u00b2", False, "host", "\u00b2", None, None),
    ],
)  # fmt: skip
def test_next_hops_as_smtp_parses_them(text, lmtp, host, service, port, problem):
    destination = parse_destination(text, "24" if lmtp else "25", lmtp)
    assert (destination.host, destination.service, destination.port) == (host, service, port)
    assert destination.problem == problem


def test_lmtp_unix_destination():
    destination = parse_destination("unix:private/dovecot-lmtp", "24", lmtp=True)
    assert destination.unix == "private/dovecot-lmtp" and destination.problem is None
    # smtp(8) in SMTP mode knows no unix: prefix (smtp_connect.c): a host named "unix"
    assert parse_destination("unix:private/x", "25").unix is None


@pytest.mark.parametrize(
    "main, address, why",
    [
        ("", "127.0.0.1", "inet_interfaces = all"),
        ("", "::1", None),  # IPv6 depends on the build's inet_protocols default
        ("inet_protocols = all\n", "::1", "inet_interfaces = all"),
        ("inet_protocols = ipv6\n", "127.0.0.1", None),
        ("inet_interfaces = loopback-only\n", "127.0.0.1", "inet_interfaces = loopback-only"),
        ("inet_interfaces = 192.0.2.1\n", "127.0.0.1", None),
        ("inet_interfaces = 192.0.2.1, localhost\n", "127.0.0.1",
         "inet_interfaces lists localhost"),
        ("inet_interfaces = 192.0.2.1\n", "192.0.2.1", "inet_interfaces lists 192.0.2.1"),
        ("inet_interfaces = 192.0.2.1\nproxy_interfaces = 198.51.100.1\n", "198.51.100.1",
         "proxy_interfaces lists 198.51.100.1"),
        # own_inet_addr_init() compares the whole value: "all, 192.0.2.1" is a host list
        ("inet_interfaces = 192.0.2.1 all\n", "127.0.0.1", None),
    ],
)  # fmt: skip
def test_own_addresses(main, address, why):
    assert _model(main).own_addresses.why(ip_address(address)) == why


def test_routes_name_next_hops_and_their_services():
    model = _model(
        "relayhost = [relay.example.com]\nrelay_domains = example.net\n"
        "virtual_mailbox_domains = example.org\nvirtual_transport = lmtp:unix:private/d\n"
        "content_filter = amavis:[127.0.0.1]:10024\nfallback_relay = [backup.example.com]\n",
        STOCK_CLIENTS,
    )
    found = [(r.parameter, r.transport, r.nexthop, r.program, r.fallback) for r in model.routes]
    assert found == [
        ("relayhost", "smtp", "[relay.example.com]", "smtp", False),
        ("relayhost", "relay", "[relay.example.com]", "smtp", False),
        ("virtual_transport", "lmtp", "unix:private/d", "lmtp", False),
        ("content_filter", "amavis", "[127.0.0.1]:10024", None, False),
        ("smtp_fallback_relay", "smtp", "[backup.example.com]", "smtp", True),
        ("smtp_fallback_relay", "relay", "[backup.example.com]", "smtp", True),
    ]
    relay = model.routes[1]
    assert relay.origin is not None and relay.origin.name == "relayhost"
    assert model.routes[-1].origin.name == "fallback_relay"  # type: ignore[union-attr]
    assert [d.unix for d in model.routes[2].destinations] == ["private/d"]


def test_routes_skip_classes_no_mail_reaches_and_transports_with_their_own_next_hop():
    model = _model(
        "compatibility_level = 3.7\nrelayhost = [relay.example.com]\n"
        "default_transport = smtp:[out.example.com]\nvirtual_transport = lmtp:unix:private/d\n",
        STOCK_CLIENTS,
    )
    # relay_domains is empty at level 3.7, and no virtual_mailbox_domains: neither class
    # is reached; default_transport's own next hop wins over relayhost
    assert [(r.parameter, r.nexthop) for r in model.routes] == [
        ("default_transport", "[out.example.com]"),
    ]


def test_content_filter_route_per_service_override():
    model = _model(
        "content_filter = smtp-amavis:[127.0.0.1]:10024\n",
        STOCK_CLIENTS + "127.0.0.1:10025 inet n - n - - smtpd -o content_filter=\n"
        "submission inet n - n - - smtpd -o content_filter=smtp:[127.0.0.1]\n",
    )
    filters = [(r.nexthop, type(r.origin).__name__) for r in model.routes
               if r.parameter == "content_filter"]  # fmt: skip
    assert filters == [("[127.0.0.1]:10024", "Parameter"), ("[127.0.0.1]", "Override")]


def test_fingerprints_as_tls_dane_reads_them():
    found = fingerprints("AB:CD:EF, abcdef01 sha256:AB:CD\nAB::CD AB:CD: " + "ab" * 97)
    assert [(f.text[:12], f.usable) for f in found] == [
        ("AB:CD:EF", True),
        ("abcdef01", True),
        ("sha256:AB:CD", False),
        ("AB::CD", False),
        ("AB:CD:", False),
        # over three characters per byte of the widest digest (64 bytes): Postfix's only
        # length check
        ("abababababab", False),
    ]


def test_cipher_exclusions_split_at_colons_too():
    words = cipher_exclusions("aNULL, !eNULL:-RC4 @STRENGTH")
    assert words == ("aNULL", "!eNULL", "-RC4", "@STRENGTH")
    assert [bad_exclusion(w) for w in words] == [False, True, True, True]
    assert match_names("nexthop, dot-nexthop:.") == ("nexthop", "dot-nexthop", ".")


@pytest.mark.parametrize(
    "name, problem",
    [
        ("smtp.example.com", None),
        ("hostname", None),
        ("mail_1.example.com", None),  # valid_hostname() allows "_"
        ("smtp.example.com:587", "invalid character 58(decimal)"),
        ("mail..example.com", "misplaced delimiter"),
        ("mail.example.com.", "misplaced delimiter"),
        ("-mail.example.com", "misplaced hyphen"),
        ("192.0.2.1", "numeric hostname"),
        ("a" * 64 + ".com", "hostname label too long"),
        ("", "empty hostname"),
    ],
)
def test_hostname_problem_as_valid_hostname(name, problem):
    assert hostname_problem(name) == problem


def test_tls_config_file_forms():
    assert [config_file_problem(v) for v in ("default", "none", "/etc/ssl/x.cnf")] == [None] * 3
    assert config_file_problem("openssl.cnf") and config_file_problem("Default")


def test_delivers_with_named_transports_and_tables():
    master = STOCK_CLIENTS + "smtps unix - - n - - smtp\nfilter unix - - n - - smtp\n"
    model = _model("", master)
    assert model.delivers_with("smtp") and model.delivers_with("relay")
    assert not model.delivers_with("smtps")
    assert _model("transport_maps = hash:/etc/postfix/transport\n", master).delivers_with("smtps")
    overridden = _model("", master + "10025 inet n - n - - smtpd -o content_filter=filter:\n")
    assert overridden.delivers_with("filter") and not overridden.delivers_with("smtps")


def test_proxied_tables_in_main_cf_and_overrides():
    model = _model(
        "virtual_alias_maps = proxy:mysql:/etc/postfix/virtual.cf\n"
        "smtpd_sender_login_maps = pipemap:{proxy:ldap:/etc/postfix/a.cf, hash:/etc/x}\n"
        "address_verify_map = proxy:btree:/var/lib/postfix/verify\n"
        "proxy_read_maps = proxy:hash:/etc/postfix/listed\nmy_own = proxy:hash:/unused\n",
        "smtp inet n - n - - smtpd -o smtpd_client_restrictions=check_client_access,proxy:static:OK\n",
        version="3.7",
    )
    found = [(t.parameter, t.table, t.write, t.daemon is not None) for t in model.proxied_tables]
    assert found == [
        ("virtual_alias_maps", "mysql:/etc/postfix/virtual.cf", False, False),
        ("smtpd_sender_login_maps", "ldap:/etc/postfix/a.cf", False, False),
        ("address_verify_map", "btree:/var/lib/postfix/verify", True, False),
        ("smtpd_client_restrictions", "static:OK", False, True),
    ]


@pytest.mark.parametrize(
    "main, version, approved, complete",
    [
        # the default lists parameters by $name; only words starting with proxy: count
        ("virtual_alias_maps = proxy:mysql:/v.cf hash:/x\n", "3.7", {"mysql:/v.cf"}, True),
        ("proxy_read_maps = proxy:proxy:hash:/a, hash:/b\n", "3.7", {"hash:/a"}, True),
        # nested tables from 3.7 on
        ("proxy_read_maps = unionmap:{proxy:hash:/a, proxy:hash:/b}\n", "3.7",
         {"hash:/a", "hash:/b"}, True),
        ("proxy_read_maps = unionmap:{proxy:hash:/a}\n", "3.6", set(), True),
        # a file of tables (3.11): its contents are the host's
        ("proxy_read_maps = /etc/postfix/proxied\n", "3.11", set(), False),
        ("proxy_read_maps = { proxy:hash:/a, x = y }\n", "3.11", {"hash:/a"}, True),
        # restriction classes are approved from 3.11 on
        (("smtpd_restriction_classes = c\nc = check_client_access proxy:hash:/c\n"
          "proxy_read_maps =\n"), "3.11", {"hash:/c"}, True),
    ],
)  # fmt: skip
def test_proxy_approval(main, version, approved, complete):
    approval = _model(main, version=version).proxy_approval(write=False)
    assert approval.complete == complete
    assert approved <= approval.tables
    if main.startswith("proxy_read_maps") or "proxy_read_maps =\n" in main:
        assert approval.tables == approved


def test_known_tcp_ports_as_postfix_reads_them():
    pieces = known_tcp_ports("smtps = submissions=465, x:1, 25=y, z=, a b=1, p=70000, smtps=1")
    assert [(p.text.strip(), p.problem) for p in pieces] == [
        ("smtps = submissions=465", None),
        ("x:1", 'is not in "name = value" form'),
        ("25=y", "numerical service name"),
        ("z=", 'missing port value after "="'),
        ("a b=1", "whitespace in service name"),
        ("p=70000", "port number out of range"),
        ("smtps=1", "duplicate service name"),
    ]


def test_log_file_modes_and_headers():
    assert [log_file_mode_problem(v) is None for v in ("0600", "640", "00644", "0664")] == [
        True, True, True, False,
    ]  # fmt: skip
    assert header_problem("To: undisclosed-recipients:;") is None
    assert header_problem("X-Foo : bar") is None  # blanks before the colon are allowed
    assert header_problem("undisclosed recipients") and header_problem(": value")


def test_dane_digests_as_tls_dane_digest_init():
    pieces = dane_digests("sha512 sha256 sha384 sha384=3 sha1=1 x=255 x=0 =4 sha512=2")
    assert [(p.text, p.problem) for p in pieces] == [
        ("sha512", None),
        ("sha256", None),
        ("sha384", "a digest other than sha256 and sha512 needs an explicit number"),
        ("sha384=3", None),
        ("sha1=1", "matching type 1 can only be sha256"),
        ("x=255", "invalid matching type number"),
        ("x=0", "reserved matching type number"),
        ("=4", None),
        ("sha512=2", "matching type 2 specified more than once"),
    ]


def test_charset_names_as_rfc2047_encode_checks_them():
    assert charset_problem("utf-8") is None and charset_problem("ISO-8859-15") is None
    assert charset_problem("iso 8859-1") == "invalid character 0x20 in charset name"
    assert charset_problem("utf.8") == "invalid character 0x2e in charset name"
    # ENC_WORD_MAX_LEN / 2: 37 characters pass, 38 do not, from 3.10.9 and 3.11.2 on
    assert charset_problem("x" * 37) is None
    too_long = "unreasonable charset name (more than 37 characters)"
    assert charset_problem("x" * 38) == too_long
    assert charset_problem("x" * 37 + ".") == too_long  # the length is checked first
    assert charset_problem("x" * 38, (3, 11)) == too_long  # the newest 3.11 has it
    assert charset_problem("x" * 38, (3, 11, 2)) == too_long
    assert charset_problem("x" * 38, (3, 11, 1)) is None
    assert charset_problem("x" * 38, (3, 10, 9)) == too_long
    assert charset_problem("x" * 38, (3, 10, 8)) is None


# -- TLS and SASL facts the TLS/SASL rules ask (issue #11, item 2) ------------------------------

STOCK_TAIL = (
    "pickup unix n - n 60 1 pickup\ncleanup unix n - n - 0 cleanup\n"
    "qmgr unix n - n 300 1 qmgr\nsmtp unix - - n - - smtp\nrelay unix - - n - - smtp\n"
    "lmtp unix - - n - - lmtp\n"
)


@pytest.mark.parametrize(
    "main, state, problem",
    [
        # smtpd.c pre_jail_init: the key defaults to the certificate's file, which then
        # holds both; only a key written as nothing makes the certificate fail to load
        ("smtpd_tls_cert_file = /c.pem\n", "optional", None),
        ("smtpd_tls_cert_file = /c.pem\nsmtpd_tls_key_file =\n", "none",
         "smtpd_tls_key_file is empty, so smtpd_tls_cert_file cannot be loaded"),
        ("smtpd_tls_eccert_file = /e.pem\nsmtpd_tls_eckey_file =\n", "none",
         "smtpd_tls_eckey_file is empty, so smtpd_tls_eccert_file cannot be loaded"),
        # chain files win over the legacy pairs (they are then ignored)
        (("smtpd_tls_chain_files = /k.pem\nsmtpd_tls_cert_file = /c.pem\n"
          "smtpd_tls_key_file =\n"), "optional", None),
        # "none": anonymous ciphers, fine unless client certificates are asked for
        ("smtpd_tls_cert_file = none\n", "optional", None),
        ("smtpd_tls_cert_file = none\nsmtpd_tls_ask_ccert = yes\n", "none",
         ("smtpd_tls_cert_file = none (no certificate) while client certificates are "
          "asked for")),
        ("", "none", "no server certificate is set"),
    ],
)  # fmt: skip
def test_server_certificate(main, state, problem):
    (server,) = _model("smtpd_tls_security_level = may\n" + main).smtp_servers
    assert server.tls.state == state and server.tls.announced
    assert server.tls.certificate is not None
    assert server.tls.certificate.problem == problem


def test_required_tls_without_a_certificate_is_unavailable_and_offers_no_auth():
    """smtpd.c: enforce_tls forces smtpd_tls_auth_only, and with no TLS engine no session
    ever has TLS: AUTH is never offered, and MAIL gets 530 (the TLS003 runtime case)."""
    model = _model(
        "smtpd_sasl_auth_enable = yes\n",
        "submission inet n - n - - smtpd -o smtpd_tls_security_level=encrypt\n"
        "smtps inet n - n - - smtpd -o smtpd_tls_wrappermode=yes\n",
    )
    submission, smtps = model.smtp_servers
    assert (submission.tls.state, submission.tls.level) == ("unavailable", "encrypt")
    assert submission.tls.announced and submission.auth.state == "none"
    assert smtps.tls.state == "unavailable" and smtps.tls.wrapper and not smtps.tls.announced
    assert smtps.tls.parameter == "smtpd_tls_wrappermode"
    # the verifying levels are encrypt for smtpd; an unknown one stops it
    (server,) = _model("smtpd_tls_security_level = verify\nsmtpd_tls_chain_files = /k\n"
                       ).smtp_servers  # fmt: skip
    assert (server.tls.level, server.tls.state) == ("encrypt", "required")
    (server,) = _model("smtpd_tls_security_level = dane\n").smtp_servers
    assert server.tls.level == "invalid" and server.tls.state == "none"


def test_postscreen_tls_up_to_3_11_goes_through_tlsproxy():
    """postscreen_starttls.c: STARTTLS goes to tlsproxy, which has its own settings."""
    from pfconf.semantics.postscreen import postscreen_tls, talks_smtp

    master = (
        "smtp inet n - n - 1 postscreen\nsmtpd pass - - n - - smtpd\n"
        "  -o smtpd_tls_chain_files=/k.pem\n"
    )
    main = "smtpd_tls_security_level = may\npostscreen_pipelining_enable = yes\n"
    for proxy, problem in (
        ("", "master.cf has no tlsproxy unix service"),
        ("tlsproxy unix - - n - 0 tlsproxy\n",
         "tlsproxy cannot start TLS: no server certificate is set"),
        ("tlsproxy unix - - n - 0 tlsproxy -o tlsproxy_tls_security_level=none\n",
         "tlsproxy's server role is off (tlsproxy_tls_security_level = none)"),
        ("tlsproxy unix - - n - 0 tlsproxy -o tlsproxy_tls_chain_files=/k.pem\n", None),
    ):  # fmt: skip
        model = _model(main, master + proxy, version="3.7")
        (screen,) = model.postscreens
        assert talks_smtp(screen)
        tls = postscreen_tls(screen, model.daemons)
        assert tls.announced and tls.level == "may"
        assert tls.certificate is not None and tls.certificate.problem == problem
    # 3.12: postscreen loads its own certificate and announces STARTTLS only with one
    model = _model(main, master, version="3.12")
    tls = postscreen_tls(model.postscreens[0], model.daemons)
    assert not tls.announced and tls.state == "none"
    # without deep tests or an enforce action postscreen hands clients over at once
    model = _model("smtpd_tls_security_level = may\n", master, version="3.7")
    assert not talks_smtp(model.postscreens[0])


def test_the_ports_that_reach_an_smtpd():
    from pfconf.semantics.postscreen import server_ports

    model = _model(
        "",
        "smtp inet n - n - 1 postscreen\nsmtpd pass - - n - - smtpd\n"
        "submission inet n - n - - smtpd\n127.0.0.1:10025 inet n - n - - smtpd\n"
        "other pass - - n - - smtpd\n",
    )
    ports = [server_ports(s, model.postscreens) for s in model.smtp_servers]
    assert ports == [(25,), (587,), (10025,), ()]


@pytest.mark.parametrize(
    "main, level, required, plaintext",
    [
        ("", "none", False, True),
        ("smtp_tls_security_level = may\n", "may", False, True),
        ("smtp_tls_security_level = dane\n", "dane", True, True),
        ("smtp_tls_security_level = encrypt\n", "encrypt", True, False),
        # wrapper mode below encrypt skips the host: never plain text
        ("smtp_tls_wrappermode = yes\nsmtp_tls_security_level = may\n", "may", False, False),
        # the legacy switch: verify, since smtp_tls_enforce_peername is yes by default
        ("smtp_enforce_tls = yes\n", "verify", True, False),
    ],
)
def test_client_tls_required_and_plain_text(main, level, required, plaintext):
    (client,) = _model(main).smtp_clients
    assert (client.tls.level, client.tls.required) == (level, required)
    assert client.tls.plaintext_possible == plaintext


@pytest.mark.parametrize(
    "filter_, anonymous, plain",
    [
        ("", True, True),
        ("plain, login", False, True),
        ("PLAIN", False, True),
        ("!anonymous, static:rest", False, True),
        ("!plain, !login, static:all", True, False),
        ("cram-md5", False, False),
        ("hash:/etc/postfix/mechs", None, None),
        ("/etc/postfix/mechs", None, None),
    ],
)
def test_client_sasl_mechanism_filter(filter_, anonymous, plain):
    """sasl_mech_filter(): a third list intersected with the server's offer; the first
    pattern that matches decides (smtp_sasl_mechanism_filter, postconf.proto)."""
    (client,) = _model(
        "smtp_sasl_auth_enable = yes\nsmtp_sasl_password_maps = hash:/p\n"
        f"smtp_sasl_security_options =\nsmtp_sasl_mechanism_filter = {filter_}\n"
    ).smtp_clients
    sasl = client.sasl
    assert sasl.authenticates and sasl.options == frozenset()
    assert sasl.allows("ANONYMOUS") is anonymous
    assert sasl.plaintext_in_clear is plain


def test_client_sasl_options_and_lmtp():
    model = _model(
        "smtp_sasl_auth_enable = yes\nlmtp_sasl_auth_enable = yes\n"
        "lmtp_sasl_password_maps = hash:/l\n",
        STOCK_TAIL,
    )
    smtp, relay, lmtp = model.smtp_clients
    # the defaults: noplaintext, noanonymous, for TLS sessions too
    assert smtp.sasl.enabled and not smtp.sasl.authenticates
    assert smtp.sasl.options == {"noplaintext", "noanonymous"} == smtp.sasl.tls_options
    assert smtp.sasl.plaintext_in_clear is False
    assert lmtp.protocol == "lmtp" and lmtp.sasl.authenticates
    assert relay.sasl.password_maps is None


def test_server_sasl_reads_the_filter_from_3_6():
    from pfconf.semantics.sasl import server_sasl

    main = "smtpd_sasl_security_options = noanonymous\nsmtpd_sasl_mechanism_filter = cram-md5\n"
    (server,) = _model(main, version="3.7").smtp_servers
    assert server_sasl(server.config).plaintext_in_clear is False
    (server,) = _model(main, version="3.5").smtp_servers  # no filter before 3.6
    assert server_sasl(server.config).plaintext_in_clear is True
    (server,) = _model("").smtp_servers  # default noanonymous: PLAIN before STARTTLS
    assert server_sasl(server.config).plaintext_in_clear is True


def test_default_value_where_main_cf_sets_the_parameter():
    from pfconf.semantics.configuration import default_value

    model = _model(
        "compatibility_level = 3.6\nsmtpd_relay_restrictions = permit_mynetworks\n"
        "smtpd_tls_cert_file = /c.pem\nsmtpd_tls_key_file = /k.pem\n",
    )
    config = model.config
    assert default_value(config, "smtpd_relay_restrictions") == (
        "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination"
    )
    assert default_value(config, "smtpd_tls_key_file") == "/c.pem"
    assert default_value(config, "no_such_parameter") is None


def test_which_clients_mail_reaches():
    """master starts a delivery agent when mail goes to its transport: a transport setting
    (defaults included) names it, or a transport table might."""
    from pfconf.semantics.client import client_reached

    model = _model("", STOCK_TAIL)
    assert [client_reached(c, model) for c in model.smtp_clients] == [True, True, False]
    # a class's transport counts only when mail can reach the class: no virtual mailbox
    # domain, no mail for virtual_transport, and master never starts that client
    model = _model("virtual_transport = lmtp:unix:private/dovecot-lmtp\n", STOCK_TAIL)
    assert not client_reached(model.smtp_clients[2], model)
    model = _model(
        "virtual_transport = lmtp:unix:private/dovecot-lmtp\nvirtual_mailbox_domains = example.com\n",
        STOCK_TAIL,
    )
    assert client_reached(model.smtp_clients[2], model)
    model = _model("transport_maps = hash:/etc/postfix/transport\n", STOCK_TAIL)
    assert client_reached(model.smtp_clients[2], model)


def test_clients_reached_is_one_question():
    """client_reached (SASL003) and Postfix.reached_clients (the sweep's client rules) ask
    delivers_with: the same transport tables count (a sender-dependent verification table
    may name the lmtp transport too), and neither counts the transport of an address class
    that no address resolves to."""
    from pfconf.semantics.client import client_reached

    table = "address_verify_sender_dependent_default_transport_maps = hash:/etc/postfix/x\n"
    model = _model(table, STOCK_TAIL)
    assert client_reached(model.smtp_clients[2], model)
    assert model.reached_clients == model.smtp_clients
    model = _model("virtual_transport = lmtp:unix:private/dovecot-lmtp\n", STOCK_TAIL)
    lmtp = model.smtp_clients[2]
    assert not client_reached(lmtp, model) and lmtp not in model.reached_clients
    model = _model(
        "virtual_transport = lmtp:unix:private/dovecot-lmtp\n"
        "virtual_mailbox_domains = example.com\n",
        STOCK_TAIL,
    )
    assert lmtp.key in [c.key for c in model.reached_clients]
    alone = _model("")  # no master.cf: main.cf's smtp client counts as reached
    assert alone.reached_clients == alone.smtp_clients and alone.smtp_clients[0].daemon is None


# -- how values are read, what the level keeps, who delivers (pfconf.semantics.reading,
# .compatibility, addresses.deliveries) -------------------------------------------------------


def test_how_each_parameter_is_read():
    """mail_params_init() checks host names, myorigin, the level and its numbers in every
    program; the knowledge base's kinds say how the rest is read."""
    from pfconf.semantics import reading

    config = _model("").config
    assert reading.reading(config, "mydestination") == reading.MATCH_LIST
    assert reading.reading(config, "mydomain") == reading.HOSTNAME
    assert reading.reading(config, "myorigin") == reading.ONE_WORD
    assert reading.reading(config, "compatibility_level") == reading.COMPATIBILITY_LEVEL
    assert reading.reading(config, "message_size_limit") == reading.NUMBER
    assert reading.checked_at_startup(config, "message_size_limit")
    # smtpd alone reads these: not a start-up check
    assert reading.reading(config, "smtpd_tls_auth_only") == reading.BOOLEAN
    assert not reading.checked_at_startup(config, "smtpd_tls_auth_only")
    assert reading.reading(config, "alias_maps") == reading.TABLES
    assert reading.reading(config, "smtpd_helo_restrictions") == reading.RESTRICTIONS
    assert reading.reading(config, "smtpd_banner") == reading.TEXT
    assert not reading.expands(config, "mailbox_command")
    assert [reading.boolean(v) for v in ("YES", "no", "true", "", None)] == [
        True, False, None, None, None
    ]  # fmt: skip


def test_a_match_list_is_placed_word_by_word_and_ends_at_a_comment():
    """Every word sits where it is written (a $name's words at the $name); the list ends at
    the first word that starts with '#', whatever line the rest is on."""
    from pfconf.semantics.reading import placed_match_list

    model = _model(
        "mydomain = example.com\n"
        "mydestination = $mydomain, localhost # here\n"
        "    example.net\n"
        "relay_domains = $mydestination, example.org\n"
    )
    config = model.config
    placed = placed_match_list(config, "mydestination")
    assert placed is not None
    assert [w.text for w in placed.items] == ["example.com", "localhost"]
    assert placed.items[0].written.span is not None
    assert (placed.items[0].written.span.line, placed.items[0].written.span.column) == (2, 17)
    assert placed.comment is not None and placed.comment.text == "#"
    assert [(w.text, w.written.span.line) for w in placed.dropped if w.written.span] == [
        ("here", 2),
        ("example.net", 3),
    ]
    assert config.match_list("mydestination").items == ("example.com", "localhost")  # type: ignore[union-attr]
    # a list built on mydestination inherits its comment: example.org is dropped too
    relay = placed_match_list(config, "relay_domains")
    assert relay is not None and [w.text for w in relay.items] == ["example.com", "localhost"]
    assert [w.text for w in relay.dropped][-1] == "example.org"
    assert placed_match_list(config, "no_such_parameter") is None


def test_what_the_compatibility_level_keeps_old():
    """Parameters whose default depends on the level, left unset: the ones a higher level
    would change."""
    from pfconf.semantics import compatibility

    config = _model("compatibility_level = 2\nrespectful_logging = yes\n", version="3.7").config
    assert compatibility.level(config) == (2, 0, 0)
    kept = compatibility.changes(config, "3.6")
    assert "smtpd_tls_fingerprint_digest" in kept and "respectful_logging" not in kept
    assert "mynetworks_style" not in kept  # level 2 already has the new default
    assert compatibility.changes(_model("compatibility_level = 3.6\n", version="3.7").config,
                                 "3.6") == ()  # fmt: skip
    assert compatibility.level(_model("compatibility_level = 3.x\n").config) is None
    assert compatibility.parse("3.6") == (3, 6, 0)


def test_each_address_class_is_delivered_by_a_master_cf_service():
    """qmgr hands a class's mail to the unix service its transport names; a class whose
    domain list is empty (or ends at '#' at once) gets no mail."""
    model = _model(
        "local_transport = mylocal\nvirtual_transport = lmtp:unix:private/dovecot\n"
        "virtual_mailbox_domains = # none yet\n",
        "mylocal unix - n n - - local\nlmtp unix - - n - - lmtp\nrelay unix - - n - - smtp\n",
    )
    by_class = {d.address_class.name: d for d in model.deliveries}
    assert by_class["local"].program == "local" and by_class["local"].daemon is not None
    assert by_class["local"].daemon.name == "mylocal"
    assert by_class["virtual mailbox"].program == "lmtp"
    assert not by_class["virtual mailbox"].receives
    # relay_transport's default is the service "relay", which runs smtp(8)
    assert by_class["relay"].transport == "relay" and by_class["relay"].program == "smtp"
    # default_transport is "smtp", and this master.cf has no such service
    assert by_class["default"].receives and by_class["default"].daemon is None
    assert by_class["virtual alias"].transport is None and by_class["virtual alias"].daemon is None


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


def test_dnsbl_site_problem_in_postscreen_order():
    from pfconf.semantics.dnsbl import site_problem

    assert site_problem("zen.spamhaus.org=127.0.0.[2..11]*3") is None
    assert site_problem("list.dnswl.org=127.0.[0..255].[1;2;3]*-2") is None
    assert site_problem("b.barracudacentral.org=[127.0.0.2]") is None
    # the weight is checked first: a filter after it is part of the weight
    assert site_problem("zen.spamhaus.org*2=127.0.0.2") == (
        "weight",
        'bad DNSBL weight factor "2=127.0.0.2"',
    )
    assert site_problem("zen.spamhaus.org*") == ("weight", 'bad DNSBL weight factor ""')
    assert site_problem("zen.spamhaus.org=127.0.0")[0] == "filter"  # type: ignore[index]
    assert site_problem("zen.spamhaus.org=")[1].endswith("empty address pattern")  # type: ignore[index]
    assert site_problem("bl.spamcop.net.") == (
        "zone",
        'bad DNSBL domain name "bl.spamcop.net." (misplaced delimiter)',
    )


def test_no_network_protocol_disables_inet_services():
    master = "smtp inet n - n - - smtpd\nqmgr unix n - n 300 1 qmgr\n"
    smtp, qmgr = _model("inet_protocols = ,\n", master, version="3.7").daemons
    assert smtp.disabled and not qmgr.disabled  # master_ent.c, set_master_ent()
    assert not _model("inet_protocols = ipv4\n", master, version="3.7").daemons[0].disabled
    # before 2.9 master did not disable them
    assert not _model("inet_protocols =\n", master, version="2.8").daemons[0].disabled


def test_reply_footer_macros_smtpd_and_postscreen():
    from pfconf.semantics.replies import (
        POSTSCREEN_FOOTER_MACROS,
        SMTPD_FOOTER_MACROS,
        postscreen_footer,
        unknown_macros,
    )

    text = r"\c see $server_name ${client_name?{$helo_name}:{$nohelo}} $myhostname $$x"
    # both outcomes of ${client_name?...:...}: nohelo only when the client has no name
    assert set(unknown_macros(text, SMTPD_FOOTER_MACROS)) == {"nohelo", "myhostname"}
    # an unknown name is empty: its ?-branch is never expanded
    assert set(unknown_macros(text, POSTSCREEN_FOOTER_MACROS)) == {
        "client_name", "nohelo", "myhostname"
    }  # fmt: skip
    footer = "smtpd_reject_footer = $client\n"
    # the default $smtpd_reject_footer is put in once at start-up
    assert postscreen_footer(_model(footer).config) == ("$client", "smtpd_reject_footer")
    braced = footer + "postscreen_reject_footer = ${smtpd_reject_footer}\n"
    assert postscreen_footer(_model(braced, version="3.11").config)[0] == "$client"
    # before 3.11 only the $name form is
    assert postscreen_footer(_model(braced, version="3.10").config) == (
        "${smtpd_reject_footer}",
        "postscreen_reject_footer",
    )


def test_protocol_families():
    from pfconf.semantics.services import protocol_families

    assert protocol_families(_model("inet_protocols = all\n").config) == {"ipv4", "ipv6"}
    assert protocol_families(_model("inet_protocols = IPv6\n").config) == {"ipv6"}
    # the default is the build's: only IPv4 is sure
    assert protocol_families(_model("").config) == {"ipv4"}
