"""Where a finding points, said in the model's words: an entry's name, one item of its value,
a master.cf ``-o``, a service line, a restriction.

A rule reports ``self.report(at.item(entry, item), message)``; the engine turns the location
into a file path and a span.  Nothing here knows file paths or builds findings.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

import attrs

from ..model import Item, Override, Parameter, Service, Span
from ..values import Token

if TYPE_CHECKING:
    from ..semantics import Configuration, Daemon, SmtpServer, Written
    from ..semantics import Restriction as Listed
    from ..semantics.addresses import NamedTransport
    from ..semantics.client import SmtpClient
    from ..semantics.tables import ListFile, TableReference


class File(enum.Enum):
    """Which file of the configuration: the engine knows their paths."""

    MAIN = "main.cf"
    MASTER = "master.cf"


@attrs.frozen
class Location:
    """A span of main.cf or master.cf, and the parameter or service it is about (what
    baselines and SARIF fingerprints key on)."""

    file: File
    span: Span
    parameter: str | None = None
    service: str | None = None


def name(entry: Parameter, *, service: str | None = None) -> Location:
    """A main.cf entry's name."""
    return Location(File.MAIN, entry.name_span, entry.name, service)


def line(entry: Parameter, *, service: str | None = None) -> Location:
    """A main.cf entry's whole first line (for an empty value, which has no span of its own)."""
    return Location(File.MAIN, entry.lines[0].span, entry.name, service)


def value(entry: Parameter, *, service: str | None = None) -> Location:
    """A main.cf entry's value, over all its lines."""
    return Location(File.MAIN, entry.value_span, entry.name, service)


def item(entry: Parameter, item: Item, *, service: str | None = None) -> Location:
    """One item of a main.cf list value, on the physical line it sits on."""
    return Location(File.MAIN, item.span, entry.name, service)


def token(entry: Parameter, token: Token, *, service: str | None = None) -> Location:
    """Some text of a main.cf value, given by its offsets into the value."""
    return Location(File.MAIN, entry.item_span(token), entry.name, service)


def service(service: Service) -> Location:
    """A master.cf service's first line, up to its command."""
    span = service.field_span(0)
    head = Span(span.line, 1, span.line, len(service.node.head) + 1)
    return Location(File.MASTER, head, None, service.key)


def span(
    file: File, span: Span, *, parameter: str | None = None, service: str | None = None
) -> Location:
    """Any span of either file, for what has no model object of its own."""
    return Location(file, span, parameter, service)


# -- places the model (pfconf.semantics) gives -----------------------------------------------


def setting(config: Configuration, name: str) -> Location | None:
    """Where ``config`` (a service's view, or main.cf's) gets the value of ``name``: the
    service's ``-o``, else main.cf's last definition; None when the value is a default."""
    origin = config.origin(name)
    key = config.service.key if config.service is not None else None
    if isinstance(origin, Override):
        return Location(File.MASTER, origin.argument, origin.name, key)
    if isinstance(origin, Parameter):
        return value(origin, service=key)
    return None


def written(
    place: Written, *, parameter: str | None = None, service: str | None = None
) -> Location | None:
    """Where a word of a value is written (a model Restriction's ``written``): its own span
    when the model could place it, else the whole entry or ``-o``; None for a default."""
    origin = place.origin
    if isinstance(origin, Parameter):
        return Location(
            File.MAIN, place.span or origin.value_span, parameter or origin.name, service
        )
    if isinstance(origin, Override):
        return Location(
            File.MASTER, place.span or origin.argument, parameter or origin.name, service
        )
    return None


def daemon(daemon: Daemon) -> Location:
    """A master.cf service's first line, from the model's Daemon."""
    return service(daemon.service)


def server(server: SmtpServer | SmtpClient) -> Location | None:
    """An SMTP server's or client's service line; None for main.cf alone."""
    return service(server.daemon.service) if server.daemon is not None else None


# -- places of a daemon's service entry, and of the transports settings name -----------------


def field(daemon: Daemon, column: str) -> Location:
    """One column of a daemon's service line (``private``, ``process_limit``...)."""
    span = daemon.service.field_span(column)
    return Location(File.MASTER, span, None, daemon.key)


def word(daemon: Daemon, index: int, *, parameter: str | None = None) -> Location:
    """A word of a daemon's entry, by its index in Service.arguments (a word of the command
    line, such as an option the daemon refuses)."""
    span = daemon.service.arguments[index].span
    return Location(File.MASTER, span, parameter, daemon.key)


def option(daemon: Daemon, override: Override) -> Location:
    """The ``name=value`` of an ``-o`` the daemon reads."""
    return Location(File.MASTER, override.argument, override.name, daemon.key)


def transport(named: NamedTransport) -> Location | None:
    """Where a setting names a transport: the transport's word in a main.cf value or an
    ``-o``; None when the transport comes from a default."""
    if named.written is None:
        return None
    key = named.daemon.key if named.daemon is not None else None
    return written(named.written, parameter=named.parameter, service=key)


# -- places of settings whose value may be empty (the TLS and SASL rules) ---------------------


def setting_line(config: Configuration, name: str) -> Location | None:
    """Like :func:`setting`, but a main.cf entry whose value is empty (which has no span of
    its own) is pointed at by its first line."""
    origin = config.origin(name)
    if isinstance(origin, Parameter) and not origin.value.strip():
        key = config.service.key if config.service is not None else None
        return line(origin, service=key)
    return setting(config, name)


# -- restrictions as the model reads them (pfconf.semantics.Restriction) ---------------------


def listed(restriction: Listed, *, service: str | None = None) -> Location | None:
    """A restriction of the model with its argument: from the name to the end of the
    argument when both are written in the same place, else the name alone (at.written);
    None when the restriction comes from a default."""
    first, second = restriction.written, restriction.argument_written
    where = written(first, service=service)
    if (
        where is None
        or second is None
        or first.span is None
        or second.span is None
        or second.origin != first.origin
        or (second.span.line, second.span.column) < (first.span.line, first.span.column)
    ):
        return where
    span = Span(first.span.line, first.span.column, second.span.end_line, second.span.end_column)
    return attrs.evolve(where, span=span)


# -- a setting where the model found it, narrowed to one word (the sweep rules) ---------------


def setting_origin(
    origin: Parameter | Override | None, *, word: str | None = None, daemon: Daemon | None = None
) -> Location | None:
    """Where a setting is made (``origin``, as Configuration.origin gives it): a main.cf
    entry's value, or a service's ``name=value``; only ``word`` when the text holds it once
    (for an ``-o``, on one line).  When nothing is written (a default), ``daemon``'s service
    line; None without a daemon.  ``daemon`` also names the service the finding is for."""
    key = daemon.key if daemon is not None else None
    if isinstance(origin, Parameter):
        at = _once(origin.value, word)
        if word is None or at is None:
            return value(origin, service=key)
        return token(origin, Token(word, at, at + len(word)), service=key)
    if isinstance(origin, Override):
        span = origin.argument
        at = _once(origin.text, word)
        if word is not None and at is not None and span.line == span.end_line:
            column = span.column + at
            span = Span(span.line, column, span.line, column + len(word))
        return Location(File.MASTER, span, origin.name, key)
    return service(daemon.service) if daemon is not None else None


def _once(text: str, word: str | None) -> int | None:
    """Where ``word`` starts in ``text`` when it is there exactly once."""
    if not word:
        return None
    at = text.find(word)
    if at < 0 or text.find(word, at + 1) >= 0:
        return None
    return at


# -- what pflint --live looks at: lookup tables, and settings left at their default -----------


def reference(ref: TableReference) -> Location | None:
    """Where a lookup table is named (semantics.tables.TableReference): the table's own text
    (``hash:/etc/postfix/virtual`` inside ``proxy:hash:/etc/postfix/virtual``) when its word
    is written as read, else the word, else the entry or ``-o``; None for a default."""
    key = ref.daemon.key if ref.daemon is not None else None
    where = written(ref.written, service=key)
    span = ref.written.span
    if where is None or span is None:
        return where
    if span.line == span.end_line and span.end_column - span.column == len(ref.word):
        start = span.column + ref.table.start
        narrowed = Span(span.line, start, span.line, start + (ref.table.end - ref.table.start))
        return attrs.evolve(where, span=narrowed)
    return where


def list_file(item: ListFile) -> Location | None:
    """Where a match list's ``/file/name`` item is written (semantics.tables.ListFile): the
    path itself when the word is written as read, else the word or the entry; None for a
    default."""
    key = item.daemon.key if item.daemon is not None else None
    where = written(item.written, service=key)
    span = item.written.span
    if where is None or span is None:
        return where
    if span.line == span.end_line and span.end_column - span.column == len(item.word):
        start = span.column + len(item.word) - len(item.path)
        return attrs.evolve(where, span=Span(span.line, start, span.line, start + len(item.path)))
    return where


def unwritten(parameter: str, daemon: Daemon | None = None) -> Location:
    """A setting nobody wrote (a default): the service line of ``daemon``, else main.cf's
    first line, the only place a finding about main.cf as a whole can stand."""
    if daemon is not None:
        return attrs.evolve(service(daemon.service), parameter=parameter)
    return Location(File.MAIN, Span(1, 1, 1, 1), parameter, None)
