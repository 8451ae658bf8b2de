"""SASL as the SMTP server and client read their settings: security options and mechanism
filters.  The mechanisms themselves come from the SASL library at run time; the model says
only what the settings allow."""

from __future__ import annotations

import attrs

from ..kb import Version
from ..values import split_list
from .configuration import Configuration, MatchList

#: The mechanisms that send the password itself: Cyrus SASL's ``noplaintext`` excludes them.
PLAINTEXT_MECHANISMS = ("PLAIN", "LOGIN")


def sasl_options(value: str | None) -> frozenset[str]:
    """A ``*_sasl_*security_options`` value as name_mask_opt() reads it (xsasl_cyrus_security.c,
    xsasl_dovecot_server.c): words separated by commas and blanks, compared in lower case."""
    return frozenset(token.text.lower() for token in split_list(value or ""))


def dovecot_socket(path: str, version: Version) -> str | None:
    """smtpd_sasl_path as the Dovecot client connects to it (xsasl_dovecot_server.c,
    xsasl_dovecot_server_connect()): from Postfix 2.6 on, ``inet:host:port`` is a TCP
    endpoint (None) and a leading ``unix:`` is dropped; before, the whole value is the
    socket's path.  A relative path is taken from the daemon's working directory,
    queue_directory."""
    path = path.strip()
    if version[:2] < (2, 6):
        return path
    if path.startswith("inet:"):
        return None
    return path.removeprefix("unix:")


def mechanism_filter(config: Configuration, name: str) -> MatchList | None:
    """A ``*_sasl_mechanism_filter`` as string_list_init() reads it; None when it is empty
    (no filter: sasl_mech_filter() keeps every mechanism)."""
    if not (config.value(name) or "").strip():
        return None
    return config.match_list(name)


def mechanism_allowed(filtered: MatchList | None, mechanism: str) -> bool | None:
    """Whether a mechanism filter keeps ``mechanism`` (sasl_mech_filter(), match_list.c: the
    first pattern that matches decides, ``!`` inverts it, no match drops the mechanism; names
    compare case-insensitively).  None when the answer lies in a file or table the model does
    not read; ``static:`` matches everything."""
    if filtered is None:
        return True
    wanted = mechanism.lower()
    for item in filtered.items:
        negate = False
        while item.startswith("!"):
            negate, item = not negate, item[1:]
        if item.lower().startswith("static:"):
            return not negate
        if item.startswith("/") or ":" in item:
            return None
        if item.lower() == wanted:
            return not negate
    return False


def plaintext_in_clear(options: frozenset[str], filtered: MatchList | None) -> bool | None:
    """Whether a session without TLS may use PLAIN or LOGIN: ``noplaintext`` is not among the
    session's security options, and the mechanism filter keeps one of them (None: that
    depends on a table the model does not read)."""
    if "noplaintext" in options:
        return False
    kept = [mechanism_allowed(filtered, m) for m in PLAINTEXT_MECHANISMS]
    if any(k is True for k in kept):
        return True
    return None if any(k is None for k in kept) else False


@attrs.frozen
class ServerSasl:
    """What an smtpd lets clients authenticate with, as far as its settings say."""

    #: smtpd_sasl_security_options: for sessions without TLS
    options: frozenset[str]
    #: smtpd_sasl_tls_security_options: for TLS sessions
    tls_options: frozenset[str]
    #: smtpd_sasl_mechanism_filter (Postfix 3.6 and later), None: no filter
    mechanism_filter: MatchList | None

    def allows(self, mechanism: str) -> bool | None:
        return mechanism_allowed(self.mechanism_filter, mechanism)

    @property
    def plaintext_in_clear(self) -> bool | None:
        """Whether a session without TLS may use PLAIN or LOGIN (see plaintext_in_clear)."""
        return plaintext_in_clear(self.options, self.mechanism_filter)


def server_sasl(config: Configuration) -> ServerSasl:
    filtered = None
    if config.kb.known("smtpd_sasl_mechanism_filter", config.version):
        filtered = mechanism_filter(config, "smtpd_sasl_mechanism_filter")
    return ServerSasl(
        sasl_options(config.value("smtpd_sasl_security_options")),
        sasl_options(config.value("smtpd_sasl_tls_security_options")),
        filtered,
    )
