"""The SMTP and LMTP clients: at which TLS level they talk, and whether they authenticate.

One program, smtp(8), is both: run as ``lmtp`` (master.cf's command name) it reads the
``lmtp_`` parameters instead of the ``smtp_`` ones (smtp.c: ``smtp_mode``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs

from .configuration import Configuration, MatchList, yes
from .sasl import mechanism_allowed, mechanism_filter, plaintext_in_clear, sasl_options
from .services import Daemon

if TYPE_CHECKING:
    from .model import Postfix

#: TLS levels from weakest to strongest as tls_level_lookup() knows them (tls/tls_level.c).
TLS_LEVELS = ("none", "may", "dane", "encrypt", "fingerprint", "dane-only", "verify", "secure")
#: Levels at which the client refuses to send without TLS (smtp.c pre_init()).
ENFORCING_LEVELS = ("encrypt", "fingerprint", "dane-only", "verify", "secure")


@attrs.frozen
class ClientTls:
    """The default TLS level of a client (``policy_maps``, when set, can change it per
    destination), and why."""

    level: str
    why: str
    wrapper_mode: bool = False
    policy_maps: str | None = None
    #: the setting that decides the level (None: nothing does, the level is ``none``)
    parameter: str | None = None

    @property
    def enforced(self) -> bool:
        return self.level in ENFORCING_LEVELS

    @property
    def required(self) -> bool:
        """TLS_REQUIRED() (tls/tls.h): a level above ``may``.  The client then uses the
        ``*_mandatory_*`` protocol and cipher lists (smtp_tls_policy.c); ``dane`` is among
        them for destinations with usable TLSA records, and falls back to ``may`` without."""
        return self.level not in ("none", "may")

    @property
    def plaintext_possible(self) -> bool:
        """Whether the default level lets the client talk without TLS: at ``none``, and at
        ``may`` or ``dane`` when STARTTLS is missing or fails (smtp_proto.c continues in plain
        text).  In wrapper mode it never does: below ``encrypt`` it skips the host
        (smtp_connect.c).  A policy table may change the level per destination."""
        return not self.wrapper_mode and not self.enforced


@attrs.frozen
class ClientSasl:
    """Whether a client authenticates, and from which password table it takes credentials
    (the destinations listed there are the ones that get SASL)."""

    enabled: bool
    password_maps: str | None
    security_options: str | None
    tls_security_options: str | None
    #: ``*_sasl_mechanism_filter`` as a match list (None: empty, no filter)
    mechanism_filter: MatchList | None = None

    @property
    def authenticates(self) -> bool:
        """smtp_sasl_helo_login(): the client logs in only to a server its password table
        has an entry for; without a table it never does."""
        return self.enabled and self.password_maps is not None

    @property
    def options(self) -> frozenset[str]:
        """The security options for sessions without TLS (smtp_sasl_helo_login() passes
        ``*_sasl_security_options``), lowercased as name_mask_opt() compares them."""
        return sasl_options(self.security_options)

    @property
    def tls_options(self) -> frozenset[str]:
        """The options for TLS sessions (``*_sasl_tls_security_options``)."""
        return sasl_options(self.tls_security_options)

    def allows(self, mechanism: str) -> bool | None:
        """Whether the mechanism filter keeps ``mechanism`` (see sasl.mechanism_allowed)."""
        return mechanism_allowed(self.mechanism_filter, mechanism)

    @property
    def plaintext_in_clear(self) -> bool | None:
        """Whether a session without TLS may use PLAIN or LOGIN (sasl.plaintext_in_clear)."""
        return plaintext_in_clear(self.options, self.mechanism_filter)


def client_level(
    value: Callable[[str], str | None], prefix: str = "smtp"
) -> tuple[str, str | None, str]:
    """A client's default TLS level, the parameter that decides it, and why
    (smtp_tls_policy.c global_tls_level()): ``*_tls_security_level`` when set, else the
    legacy switches (``*_enforce_tls``: encrypt, or verify with ``*_tls_enforce_peername``,
    which is yes by default; ``*_use_tls``: may), else none."""
    name = f"{prefix}_tls_security_level"
    level = (value(name) or "").strip().lower()
    if level:
        return level, name, f"{name} = {level}"
    enforce = f"{prefix}_enforce_tls"
    if yes(value(enforce)):
        verify = yes(value(f"{prefix}_tls_enforce_peername"))
        return "verify" if verify else "encrypt", enforce, f"{enforce} = yes"
    use = f"{prefix}_use_tls"
    if yes(value(use)):
        return "may", use, f"{use} = yes"
    return "none", None, f"{name} is not set"


@attrs.frozen(eq=False)
class SmtpClient:
    """One delivery client: an smtp or lmtp service of master.cf, or main.cf alone."""

    config: Configuration
    daemon: Daemon | None = None
    #: ``smtp`` or ``lmtp``: the prefix of the parameters it reads
    protocol: str = "smtp"

    @property
    def key(self) -> str | None:
        return self.daemon.key if self.daemon is not None else None

    def parameter(self, suffix: str) -> str:
        """The name this client reads for ``suffix`` (``tls_security_level`` ...)."""
        return f"{self.protocol}_{suffix}"

    def value(self, suffix: str) -> str | None:
        return self.config.value(self.parameter(suffix))

    @property
    def tls(self) -> ClientTls:
        """smtp.c pre_init() and smtp_tls_policy.c: see client_level()."""
        wrapper = yes(self.value("tls_wrappermode"))
        policy = (self.value("tls_policy_maps") or "").strip() or None
        level, parameter, why = client_level(self.config.value, self.protocol)
        return ClientTls(level, why, wrapper, policy, parameter)

    @property
    def sasl(self) -> ClientSasl:
        filtered = mechanism_filter(self.config, self.parameter("sasl_mechanism_filter"))
        return ClientSasl(
            yes(self.value("sasl_auth_enable")),
            (self.value("sasl_password_maps") or "").strip() or None,
            self.value("sasl_security_options"),
            self.value("sasl_tls_security_options"),
            filtered,
        )


def smtp_clients(config: Configuration, daemons: tuple[Daemon, ...]) -> tuple[SmtpClient, ...]:
    """Every smtp and lmtp service; an smtp client on main.cf alone when the master.cf is not
    known.  A master.cf that runs neither program runs no SMTP client: its settings in
    main.cf reach no process."""
    found = tuple(
        SmtpClient(d.config, d, d.program) for d in daemons if d.program in ("smtp", "lmtp")
    )
    if found or config.master is not None:
        return found
    return (SmtpClient(config),)


# -- whether mail reaches a client (SASL003) -------------------------------------------------


def client_reached(client: SmtpClient, postfix: Postfix) -> bool:
    """Whether mail may reach ``client``'s service, so that master(8) starts it: the
    model's Postfix.delivers_with, counting a transport setting of every address class
    (defaults included) as SASL003 reads it.  A client judged on main.cf alone (no
    master.cf service) is taken as reached."""
    return client.daemon is None or postfix.delivers_with(client.daemon.name)
