"""What each SMTP server offers: TLS, AUTH, and its restriction lists.

An smtpd runs with main.cf plus its service's ``-o`` overrides; the model judges every smtpd
service of master.cf that way, and main.cf alone when master.cf runs none.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import attrs

from .configuration import Configuration, yes
from .restrictions import LISTS, RestrictionList, read_list, restriction_classes
from .services import Daemon

#: Where smtpd finds a server certificate (tls/tls_server.c, tls_server_init: with none of
#: them set, smtpd logs that TLS is off and offers no STARTTLS).
SERVER_CERTIFICATES = (
    "smtpd_tls_chain_files",
    "smtpd_tls_cert_file",
    "smtpd_tls_eccert_file",
    "smtpd_tls_dcert_file",
)


@attrs.frozen
class ServerTls:
    """What an smtpd offers: ``none`` (no STARTTLS at all), ``optional`` (STARTTLS offered,
    plain text allowed) or ``required`` (STARTTLS before mail, or TLS from the first byte in
    wrapper mode), and why, in Postfix's words."""

    state: str
    why: str


def server_tls(value: Callable[[str], str | None]) -> ServerTls:
    """The TLS an smtpd offers, from its effective values (``value(name)``: main.cf with the
    service's -o overrides, defaults as None).  smtpd.c (pre_jail_init) decides the level:
    smtpd_tls_security_level when set, else the legacy smtpd_enforce_tls / smtpd_use_tls;
    wrapper mode requires TLS whatever the level; and TLS needs a certificate."""
    if yes(value("smtpd_tls_wrappermode")):
        return ServerTls("required", "smtpd_tls_wrappermode = yes")
    level = (value("smtpd_tls_security_level") or "").strip().lower()
    why = f"smtpd_tls_security_level = {level}"
    if not level:
        if yes(value("smtpd_enforce_tls")):
            level, why = "encrypt", "smtpd_enforce_tls = yes"
        elif yes(value("smtpd_use_tls")):
            level, why = "may", "smtpd_use_tls = yes"
        else:
            return ServerTls("none", "smtpd_tls_security_level is not set")
    if level not in ("may", "encrypt"):
        return ServerTls("none", why)
    if not any((value(name) or "").strip() for name in SERVER_CERTIFICATES):
        return ServerTls("none", f"{why}, but no server certificate is set")
    return ServerTls("required" if level == "encrypt" else "optional", why)


@attrs.frozen
class Auth:
    """Whether an smtpd offers SMTP AUTH: ``none``, ``after_tls`` (only inside a TLS session)
    or ``always`` (before STARTTLS too, so passwords may cross the network in clear)."""

    state: str
    why: str


def server_auth(value: Callable[[str], str | None], tls: ServerTls) -> Auth:
    """smtpd.c: SASL is activated for a session when smtpd_sasl_auth_enable is yes, unless
    smtpd_tls_auth_only is yes and the session has no TLS yet (smtpd_proto()); required TLS
    implies auth only after TLS (main(): var_smtpd_tls_auth_only ||= enforce_tls).  So with
    no TLS at all, smtpd_tls_auth_only = yes means no AUTH."""
    if not yes(value("smtpd_sasl_auth_enable")):
        return Auth("none", "smtpd_sasl_auth_enable is not yes")
    if tls.state == "required":
        return Auth("after_tls", tls.why)
    if yes(value("smtpd_tls_auth_only")):
        if tls.state == "none":
            return Auth("none", f"smtpd_tls_auth_only = yes, and no TLS ({tls.why})")
        return Auth("after_tls", "smtpd_tls_auth_only = yes")
    return Auth("always", "smtpd_tls_auth_only is not yes")


@attrs.frozen(eq=False)
class SmtpServer:
    """One smtpd: a master.cf service running smtpd(8), or main.cf alone (``daemon`` None)."""

    config: Configuration
    daemon: Daemon | None = None

    @property
    def key(self) -> str | None:
        return self.daemon.key if self.daemon is not None else None

    @property
    def port(self) -> int | None:
        return self.daemon.port if self.daemon is not None else None

    @functools.cached_property
    def tls(self) -> ServerTls:
        return server_tls(self.config.value)

    @functools.cached_property
    def auth(self) -> Auth:
        return server_auth(self.config.value, self.tls)

    @functools.cached_property
    def restriction_classes(self) -> frozenset[str]:
        return restriction_classes(self.config)

    @functools.cached_property
    def restrictions(self) -> dict[str, RestrictionList]:
        """Each of smtpd's lists (LISTS, in evaluation order) as this server reads it."""
        return {name: read_list(self.config, name, self.restriction_classes) for name in LISTS}


def smtp_servers(config: Configuration, daemons: tuple[Daemon, ...]) -> tuple[SmtpServer, ...]:
    """The SMTP servers of a configuration: each smtpd service, or main.cf alone when master.cf
    runs none (or is not known)."""
    found = tuple(SmtpServer(d.config, d) for d in daemons if d.program == "smtpd")
    return found or (SmtpServer(config),)
