"""SMTP clients for end-to-end tests that record what they exchanged, and know the TLS name.

:class:`RecordingSMTP` and :class:`RecordingSMTPS` (implicit TLS) are smtplib's clients with
two additions: every line sent and received lands in a :class:`Transcript` (credentials
masked), and TLS checks the server certificate against ``server_hostname`` rather than the
address connected to.  smtplib otherwise takes the TLS name from the host given to its
constructor, which a client bound to a source address and connected by ``connect()`` leaves
empty (STARTTLS) or sets to "127.0.0.1" (SMTP_SSL).  They never hide a reply: a test reads
codes exactly as smtplib returns them.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from typing import Any

import attrs

#: How many lines of a message body a transcript shows before it says how many more there were.
BODY_LINES = 6


@attrs.define
class Transcript:
    """One SMTP session as the client saw it: ``C:`` lines sent, ``S:`` lines received,
    ``--`` notes (connection, TLS).  Credentials are never written down."""

    title: str
    lines: list[str] = attrs.field(factory=list)

    def note(self, text: str) -> None:
        self.lines.append(f"-- {text}")

    def render(self) -> str:
        return "\n".join([f"== {self.title}", *self.lines])


@attrs.define
class Transcripts:
    """The sessions one test opened, in order."""

    sessions: list[Transcript] = attrs.field(factory=list)

    def new(self, title: str) -> Transcript:
        transcript = Transcript(title)
        self.sessions.append(transcript)
        return transcript

    def render(self) -> str:
        return "\n\n".join(session.render() for session in self.sessions)


def describe_tls(sock: Any) -> str:
    """What a TLS socket negotiated, for a transcript."""
    cipher = sock.cipher()
    peer = sock.getpeercert() or {}
    names = [value for kind, value in peer.get("subjectAltName", ()) if kind == "DNS"]
    verified = f", certificate for {', '.join(names)} verified" if names else ""
    return f"TLS established: {sock.version()}, {cipher[0] if cipher else '?'}{verified}"


class _Recorder:
    """The recording half shared by both client classes (a mixin for smtplib.SMTP)."""

    transcript: Transcript
    server_hostname: str | None
    _auth_pending: bool
    _secret_next: bool

    def _start_recording(self, transcript: Transcript | None, server_hostname: str | None) -> None:
        self.transcript = transcript if transcript is not None else Transcript("(unnamed)")
        self.server_hostname = server_hostname
        self._auth_pending = False
        self._secret_next = False

    def send(self, s: str | bytes) -> None:
        super().send(s)  # type: ignore[misc]
        self._record_sent(s)  # only what was sent: not a QUIT after the connection closed

    def getreply(self) -> tuple[int, bytes]:
        code, message = super().getreply()  # type: ignore[misc]
        lines = message.decode("utf-8", "replace").split("\n") if message else [""]
        for number, line in enumerate(lines):
            dash = "-" if number < len(lines) - 1 else " "
            self.transcript.lines.append(f"S: {code}{dash}{line}".rstrip())
        # A 334 to AUTH asks for credentials: the next line sent is one.
        self._secret_next = self._auth_pending and code == 334
        if code != 334:
            self._auth_pending = False
        return code, message

    def _record_sent(self, s: str | bytes) -> None:
        text = s.decode("utf-8", "replace") if isinstance(s, bytes) else s
        if self._secret_next:
            self._secret_next = False
            self.transcript.lines.append("C: <credentials, not shown>")
            return
        lines = text.split("\r\n")
        if lines and lines[-1] == "":
            lines.pop()
        if len(lines) == 1:
            verb, *rest = lines[0].split(" ")
            if verb.upper() == "AUTH":
                self._auth_pending = True
                shown = " ".join(rest[:1] + (["<credentials, not shown>"] if rest[1:] else []))
                self.transcript.lines.append(f"C: {verb} {shown}".rstrip())
                return
            self.transcript.lines.append(f"C: {lines[0]}")
            return
        # a message body and its final dot (smtplib sends them in one piece)
        shown = lines[:BODY_LINES]
        self.transcript.lines.extend(f"C: {line}" for line in shown)
        if len(lines) > BODY_LINES + 1:
            self.transcript.lines.append(f"C: ... ({len(lines) - BODY_LINES - 1} more lines)")
        if len(lines) > BODY_LINES:
            self.transcript.lines.append(f"C: {lines[-1]}")


class RecordingSMTP(_Recorder, smtplib.SMTP):
    """smtplib.SMTP that records its session; ``starttls`` checks ``server_hostname``."""

    def __init__(
        self,
        transcript: Transcript | None = None,
        server_hostname: str | None = None,
        timeout: float = 10.0,
        source_address: tuple[str, int] | None = None,
    ) -> None:
        self._start_recording(transcript, server_hostname)
        smtplib.SMTP.__init__(self, timeout=timeout, source_address=source_address)

    def starttls(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        # smtplib passes self._host to wrap_socket as the name to check
        if self.server_hostname is not None:
            self._host = self.server_hostname
        reply: tuple[int, bytes] = super().starttls(*args, **kwargs)
        if reply[0] == 220:
            self.transcript.note(describe_tls(self.sock))
        return reply


class RecordingSMTPS(_Recorder, smtplib.SMTP_SSL):
    """smtplib.SMTP_SSL (TLS from the first byte) that records its session and checks the
    certificate against ``server_hostname``."""

    def __init__(
        self,
        context: ssl.SSLContext,
        transcript: Transcript | None = None,
        server_hostname: str | None = None,
        timeout: float = 10.0,
        source_address: tuple[str, int] | None = None,
    ) -> None:
        self._start_recording(transcript, server_hostname)
        smtplib.SMTP_SSL.__init__(self, timeout=timeout, source_address=source_address,
                                  context=context)  # fmt: skip

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        plain = smtplib.SMTP._get_socket(self, host, port, timeout)
        wrapped = self.context.wrap_socket(plain, server_hostname=self.server_hostname or host)
        self.transcript.note(describe_tls(wrapped))
        return wrapped
