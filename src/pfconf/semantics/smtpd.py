"""What each SMTP server offers: TLS, AUTH, and its restriction lists.

An smtpd runs with main.cf plus its service's ``-o`` overrides; the model judges every smtpd
service of master.cf that way, and main.cf alone when master.cf runs none.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import attrs

from ..values import split_list
from .configuration import Configuration, yes
from .endpoints import ExternalService, milter, milter_parens, policy_service
from .restrictions import (
    ETRN_LIST,
    LISTS,
    Restriction,
    RestrictionClass,
    RestrictionList,
    Written,
    read_classes,
    read_list,
    restriction_classes,
    words,
)
from .sasl import dovecot_socket
from .services import Daemon

#: Where smtpd finds a server certificate, in the order smtpd.c (pre_jail_init) looks: with
#: none of them set (and smtpd_tls_cert_file not ``none``), smtpd logs "No server certs
#: available. TLS won't be enabled", yet still announces STARTTLS (the announcement follows
#: the security level) and answers the command with 454.
SERVER_CERTIFICATES = (
    "smtpd_tls_chain_files",
    "smtpd_tls_cert_file",
    "smtpd_tls_eccert_file",
    "smtpd_tls_dcert_file",
)

#: The legacy certificate parameters (suffixes) with the key each one needs, in the order
#: tls_set_my_certificate_key_info() (tls/tls_certkey.c) loads them: RSA, DSA, ECDSA.
_CERTIFICATE_KEYS = (
    ("tls_cert_file", "tls_key_file"),
    ("tls_dcert_file", "tls_dkey_file"),
    ("tls_eccert_file", "tls_eckey_file"),
)

#: Levels a TLS server accepts (smtpd.c, tlsproxy.c, postscreen_smtpd.c: tls_level_lookup());
#: the verifying ones are taken as ``encrypt`` with a warning, any other level is fatal.
_SERVER_LEVELS = {
    "none": "none",
    "may": "may",
    "encrypt": "encrypt",
    "fingerprint": "encrypt",
    "verify": "encrypt",
    "secure": "encrypt",
}


@attrs.frozen
class ServerCertificate:
    """What a TLS server engine starts with: the setting that gives its certificate (None:
    none), and why the engine cannot start (None: it can, as far as the settings tell; the
    files themselves are not read)."""

    parameter: str | None
    problem: str | None = None
    #: ``*_tls_cert_file = none``: anonymous ciphers, no certificate at all
    anonymous: bool = False
    #: the key parameter set to nothing, which makes the certificate fail to load
    empty_key: str | None = None

    @property
    def usable(self) -> bool:
        return self.problem is None


def _text(value: Callable[[str], str | None], name: str) -> str:
    return (value(name) or "").strip()


def server_certificate(
    value: Callable[[str], str | None], prefix: str = "smtpd", *, enforce: bool = False
) -> ServerCertificate:
    """The certificate a TLS server engine loads (smtpd.c pre_jail_init(); tlsproxy.c and
    postscreen_tls_conf.c hold copies of the code with their own ``prefix``): the chain files,
    else the legacy RSA, DSA and ECDSA certificates, each with its key (an explicitly empty
    key file fails to load: tls_certkey.c set_cert_stuff(); the default key file is the
    certificate file itself, read as holding both).  ``*_tls_cert_file = none`` means
    anonymous ciphers, which work unless client certificates are asked for."""
    ask = yes(value(f"{prefix}_tls_ask_ccert")) or (
        enforce and yes(value(f"{prefix}_tls_req_ccert"))
    )
    chain = f"{prefix}_tls_chain_files"
    if _text(value, chain):
        return ServerCertificate(chain)
    anonymous = _text(value, f"{prefix}_tls_cert_file").lower() == "none"
    found: str | None = None
    for cert_suffix, key_suffix in _CERTIFICATE_KEYS:
        cert, key = f"{prefix}_{cert_suffix}", f"{prefix}_{key_suffix}"
        if not _text(value, cert) or (anonymous and cert_suffix == "tls_cert_file"):
            continue
        found = found or cert
        written = value(key)
        if written is not None and not written.strip():
            problem = f"{key} is empty, so {cert} cannot be loaded"
            return ServerCertificate(found, problem, empty_key=key)
    if found is not None:
        return ServerCertificate(found)
    if anonymous:
        if ask:
            return ServerCertificate(
                f"{prefix}_tls_cert_file",
                f"{prefix}_tls_cert_file = none (no certificate) while client certificates are "
                "asked for",
                anonymous=True,
            )
        return ServerCertificate(f"{prefix}_tls_cert_file", anonymous=True)
    return ServerCertificate(None, "no server certificate is set")


@attrs.frozen
class ServerTls:
    """What a TLS server offers, as a client sees it: ``none`` (no TLS session is possible,
    mail in plain text is accepted), ``optional`` (STARTTLS works, plain text allowed),
    ``required`` (STARTTLS before mail, or TLS from the first byte in wrapper mode) or
    ``unavailable`` (TLS is required but cannot start, for want of a certificate: no client
    can send mail), and why, in Postfix's words.

    ``level`` is what the server enforces (``none``, ``may`` or ``encrypt``; ``invalid`` for
    a level it refuses to start with), decided by ``parameter``; ``announced`` says whether
    EHLO lists STARTTLS (smtpd announces it whenever the level asks for TLS, certificate or
    not, and answers it with "454 4.7.0 TLS not available due to local problem")."""

    state: str
    why: str
    level: str = "none"
    parameter: str | None = None
    wrapper: bool = False
    announced: bool = False
    #: None when the level asks for no TLS
    certificate: ServerCertificate | None = None


def server_level(
    value: Callable[[str], str | None], prefix: str = "smtpd"
) -> tuple[str, str | None, str]:
    """The level a TLS server enforces, the parameter that decides it, and why (smtpd.c
    pre_jail_init(), the same code in tlsproxy.c and postscreen): ``*_tls_security_level``
    when set (wrapper mode aside), else the legacy ``*_enforce_tls`` / ``*_use_tls``;
    smtpd's wrapper mode implies encrypt."""
    wrapper = prefix == "smtpd" and yes(value("smtpd_tls_wrappermode"))
    name = f"{prefix}_tls_security_level"
    text = _text(value, name).lower()
    if text and not wrapper:
        level = _SERVER_LEVELS.get(text, "invalid")
        return level, name, f"{name} = {text}"
    if wrapper:
        return "encrypt", "smtpd_tls_wrappermode", "smtpd_tls_wrappermode = yes"
    if yes(value(f"{prefix}_enforce_tls")):
        return "encrypt", f"{prefix}_enforce_tls", f"{prefix}_enforce_tls = yes"
    if yes(value(f"{prefix}_use_tls")):
        return "may", f"{prefix}_use_tls", f"{prefix}_use_tls = yes"
    return "none", None, f"{name} is not set"


def server_tls(value: Callable[[str], str | None]) -> ServerTls:
    """The TLS an smtpd offers, from its effective values (``value(name)``: main.cf with the
    service's -o overrides; None stands for the default)."""
    level, parameter, why = server_level(value)
    wrapper = parameter == "smtpd_tls_wrappermode"
    if level == "invalid":
        return ServerTls("none", f"{why}: smtpd stops (Invalid TLS level)", level, parameter)
    if level == "none":
        return ServerTls("none", why, level, parameter)
    certificate = server_certificate(value, enforce=level == "encrypt")
    announced = not wrapper
    if certificate.usable:
        state = "required" if level == "encrypt" else "optional"
        return ServerTls(state, why, level, parameter, wrapper, announced, certificate)
    state = "unavailable" if level == "encrypt" else "none"
    why = f"{why}, but {certificate.problem}"
    return ServerTls(state, why, level, parameter, wrapper, announced, certificate)


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
    if tls.level == "encrypt":
        if tls.state == "unavailable":
            return Auth("none", f"TLS is required but cannot start: {tls.why}")
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
    def dovecot_socket(self) -> str | None:
        """The UNIX-domain socket this smtpd connects to for AUTH, smtpd_sasl_path as
        sasl.dovecot_socket() reads it: only when some session offers AUTH (smtpd.c runs
        smtpd_sasl_activate() for it, which connects) and smtpd_sasl_type is ``dovecot``
        (xsasl_server_init() compares the name exactly).  None otherwise: Cyrus's
        smtpd_sasl_path names an application, not a socket."""
        if self.auth.state == "none":
            return None
        if (self.config.value("smtpd_sasl_type") or "").strip() != "dovecot":
            return None
        return dovecot_socket(self.config.value("smtpd_sasl_path") or "", self.config.version)

    @functools.cached_property
    def restriction_classes(self) -> frozenset[str]:
        return restriction_classes(self.config)

    @functools.cached_property
    def restrictions(self) -> dict[str, RestrictionList]:
        """Each of smtpd's lists (LISTS, in evaluation order) as this server reads it."""
        return {name: read_list(self.config, name, self.restriction_classes) for name in LISTS}

    @functools.cached_property
    def classes(self) -> tuple[RestrictionClass, ...]:
        """Every name of smtpd_restriction_classes, with its definition (None: none)."""
        return read_classes(self.config)

    @functools.cached_property
    def etrn_restrictions(self) -> RestrictionList:
        """smtpd_etrn_restrictions, evaluated when a client sends ETRN."""
        return read_list(self.config, ETRN_LIST, self.restriction_classes)

    @functools.cached_property
    def startup_lists(self) -> tuple[RestrictionList, ...]:
        """Every list smtpd_check_init() parses when smtpd starts, used or not: the lists of
        LISTS, smtpd_etrn_restrictions, and the own list of each defined class."""
        defined = tuple(c.definition for c in self.classes if c.definition is not None)
        return (*self.restrictions.values(), self.etrn_restrictions, *defined)

    @functools.cached_property
    def policy_services(self) -> tuple[tuple[Restriction, ExternalService], ...]:
        """Each check_policy_service with an argument in :attr:`startup_lists`, its argument
        read as policy_client_register() reads it when smtpd starts (smtpd_check_parse())."""
        found = []
        for listed in self.startup_lists:
            for item in listed.items:
                if item.lowered == "check_policy_service" and item.argument is not None:
                    found.append((item, policy_service(item.argument, self.config.version)))
        return tuple(found)

    @functools.cached_property
    def milters(self) -> tuple[tuple[Written, ExternalService], ...]:
        """smtpd_milters as this smtpd reads it (milter_new()); none when
        receive_override_options has no_milters (smtpd.c, setup_milters(): the Milters are
        then not created at all)."""
        overrides = split_list(self.config.value("receive_override_options") or "")
        if any(word.text == "no_milters" for word in overrides):
            return ()
        return read_milters(self.config, "smtpd_milters")

    @functools.cached_property
    def rewrite_clients(self) -> tuple[tuple[str, Written], ...]:
        """The words of local_header_rewrite_clients (smtpd_check_parse()), each with where
        it is written."""
        return tuple(words(self.config, "local_header_rewrite_clients"))


def read_milters(config: Configuration, name: str) -> tuple[tuple[Written, ExternalService], ...]:
    """The entries of a Milter list (smtpd_milters, non_smtpd_milters), each with where it is
    written."""
    version = config.version
    return tuple(
        (written, milter(text, version))
        for text, written in words(config, name, milter_parens(version))
    )


def smtp_servers(config: Configuration, daemons: tuple[Daemon, ...]) -> tuple[SmtpServer, ...]:
    """The SMTP servers of a configuration: each smtpd service, or main.cf alone when master.cf
    runs none (or is not known)."""
    found = tuple(SmtpServer(d.config, d) for d in daemons if d.program == "smtpd")
    return found or (SmtpServer(config),)
