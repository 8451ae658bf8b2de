"""postscreen(8): which of its tests run, and what it does when one fails.

postscreen.c reads one action per test (``ignore``: log only, ``enforce``: reject after the
other tests, ``drop``: hang up); the DNSBL test runs only with sites to ask, and the deep
protocol tests (pipelining, non-SMTP commands, bare newlines) only when enabled, since they
make a client that passes come back later (postscreen_smtpd.c).
"""

from __future__ import annotations

import attrs

from .configuration import Configuration, yes
from .restrictions import Written, words
from .services import Daemon
from .smtpd import (
    ServerCertificate,
    ServerTls,
    SmtpServer,
    server_certificate,
    server_level,
)


@attrs.frozen
class ScreenTest:
    """One of postscreen's tests: whether it runs, and its action when a client fails it."""

    name: str
    runs: bool
    action: str | None
    #: the parameter that switches it on or supplies what it needs
    switch: str


@attrs.frozen(eq=False)
class Postscreen:
    """A postscreen service with the configuration it runs with."""

    daemon: Daemon

    @property
    def config(self) -> Configuration:
        return self.daemon.config

    @property
    def access_list(self) -> tuple[tuple[str, Written], ...]:
        """The words of postscreen_access_list (split like a restriction list by
        server_acl_parse()), each with where it is written."""
        return tuple(words(self.config, "postscreen_access_list"))

    def _action(self, name: str) -> str | None:
        value = self.config.value(name)
        return value.strip().lower() if value is not None else None

    @property
    def tests(self) -> tuple[ScreenTest, ...]:
        value = self.config.value
        sites = (value("postscreen_dnsbl_sites") or "").strip()
        return (
            ScreenTest(
                "access list", bool((value("postscreen_access_list") or "").strip()),
                self._action("postscreen_denylist_action")
                or self._action("postscreen_blacklist_action"),
                "postscreen_access_list",
            ),
            ScreenTest(
                "pregreet", True, self._action("postscreen_greet_action"),
                "postscreen_greet_action",
            ),
            ScreenTest(
                "dnsbl", bool(sites), self._action("postscreen_dnsbl_action"),
                "postscreen_dnsbl_sites",
            ),
            ScreenTest(
                "pipelining", yes(value("postscreen_pipelining_enable")),
                self._action("postscreen_pipelining_action"), "postscreen_pipelining_enable",
            ),
            ScreenTest(
                "non-smtp command", yes(value("postscreen_non_smtp_command_enable")),
                self._action("postscreen_non_smtp_command_action"),
                "postscreen_non_smtp_command_enable",
            ),
            ScreenTest(
                "bare newline", yes(value("postscreen_bare_newline_enable")),
                self._action("postscreen_bare_newline_action"),
                "postscreen_bare_newline_enable",
            ),
        )  # fmt: skip

    def test(self, name: str) -> ScreenTest:
        for test in self.tests:
            if test.name == name:
                return test
        raise KeyError(name)


def postscreens(daemons: tuple[Daemon, ...]) -> tuple[Postscreen, ...]:
    return tuple(Postscreen(d) for d in daemons if d.program == "postscreen")


# -- STARTTLS in postscreen's own SMTP engine (the TLS rules) --------------------------------

#: The tests whose dialogue runs in postscreen's own SMTP engine, whatever their action.
DEEP_TESTS = ("pipelining", "non-smtp command", "bare newline")


def talks_smtp(screen: Postscreen) -> bool:
    """Whether postscreen's own SMTP engine ever talks to a client: for the deep protocol
    tests, and to reject a client that failed a test whose action is ``enforce``
    (postscreen_smtpd.c).  Otherwise a client is handed to smtpd or dropped at once."""
    return any(t.runs and (t.name in DEEP_TESTS or t.action == "enforce") for t in screen.tests)


def postscreen_tls(screen: Postscreen, daemons: tuple[Daemon, ...]) -> ServerTls:
    """What postscreen's SMTP engine offers (postscreen_smtpd.c psc_smtpd_pre_jail_init()):
    its level from postscreen_tls_security_level (``$smtpd_tls_security_level``) or the
    legacy postscreen_use_tls / postscreen_enforce_tls.

    Up to Postfix 3.11 postscreen announces STARTTLS whenever the level asks for TLS and
    hands the command to tlsproxy(8) (postscreen_starttls.c), which answers with its own
    settings (``tlsproxy_tls_*``, defaults ``$smtpd_tls_*``, as the tlsproxy service reads
    them): when tlsproxy has no TLS engine, or there is no tlsproxy service, postscreen
    replies 454.  From 3.12 postscreen loads its own certificate (postscreen_tls_conf.c,
    ``postscreen_tls_*``) and announces STARTTLS only when it has one."""
    config = screen.config
    level, parameter, why = server_level(config.value, "postscreen")
    if level in ("none", "invalid"):
        return ServerTls("none", why, level, parameter)
    enforce = level == "encrypt"
    if config.kb.known("postscreen_tls_cert_file", config.version):
        certificate = server_certificate(config.value, "postscreen", enforce=enforce)
        announced = certificate.usable
    else:
        announced = True
        name = (config.value("tlsproxy_service_name") or "tlsproxy").strip()
        proxy = None
        for daemon in daemons:
            if daemon.name == name and daemon.type == "unix":
                proxy = daemon  # the last entry wins, as in master
        if proxy is None:
            certificate = ServerCertificate(None, f"master.cf has no {name} unix service")
        else:
            proxy_level, _, proxy_why = server_level(proxy.config.value, "tlsproxy")
            if proxy_level in ("none", "invalid"):
                certificate = ServerCertificate(
                    None, f"tlsproxy's server role is off ({proxy_why})"
                )
            else:
                certificate = server_certificate(
                    proxy.config.value, "tlsproxy", enforce=proxy_level == "encrypt"
                )
                if not certificate.usable:
                    certificate = attrs.evolve(
                        certificate, problem=f"tlsproxy cannot start TLS: {certificate.problem}"
                    )
    if certificate.usable:
        state = "required" if enforce else "optional"
        return ServerTls(state, why, level, parameter, False, announced, certificate)
    state = "unavailable" if enforce else "none"
    why = f"{why}, but {certificate.problem}"
    return ServerTls(state, why, level, parameter, False, announced, certificate)


def server_ports(server: SmtpServer, screens: tuple[Postscreen, ...]) -> tuple[int, ...]:
    """The TCP ports on which clients reach ``server``: its own, or for a ``pass`` service,
    those of the postscreen services that hand connections to it (postscreen.c passes them
    to ``private/$smtpd_service_name``)."""
    daemon = server.daemon
    if daemon is None:
        return ()
    if daemon.type != "pass":
        return (daemon.port,) if daemon.port is not None else ()
    found: list[int] = []
    for screen in screens:
        name = (screen.config.value("smtpd_service_name") or "smtpd").strip()
        port = screen.daemon.port
        if name == daemon.name and port is not None and port not in found:
            found.append(port)
    return tuple(found)
