"""An SMTP server that accepts every message and keeps it: where a scratch Postfix's outbound
mail goes, so that none of it leaves the machine.

It records each envelope (HELO, MAIL FROM, RCPT TO, the data, the TLS protocol it came
over) and the AUTH credentials a client gave.  It speaks just enough ESMTP for Postfix's
smtp client.  Given ``certificates`` it offers STARTTLS; with ``require_auth`` it plays a
provider's relay (a smarthost): AUTH only after STARTTLS (538 before it, RFC 4954 section
6), and no MAIL before AUTH (530).  Credentials a client sent before TLS are kept apart
(``auth_in_clear``), even when refused: they crossed the network in clear all the same.
"""

from __future__ import annotations

import base64
import binascii
import re
import socket
import socketserver
import ssl
import threading
import time

import attrs

from .serving import serve_in_thread, stop_serving
from .smtp_client import Transcript
from .tls import Certificates

#: How long a client may stay silent before the sink hangs up.
IDLE_TIMEOUT = 30.0


@attrs.define
class Envelope:
    """One message the sink accepted; ``auth`` is (mechanism, username, password) when the
    client authenticated in that session."""

    helo: str
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    auth: tuple[str, str, str] | None = None
    peer: tuple[str, int] | None = None
    #: the TLS protocol the message came over ("TLSv1.3"), None in clear
    tls: str | None = None


_PATH = re.compile(r"<([^>]*)>")


class SmtpSink:
    """Listen on ``address``:``port`` (0: a free port); the messages arrive in ``messages``.

    ``credentials`` (username -> password): AUTH succeeds only for these; None accepts any.
    Every AUTH attempt, good or bad, lands in ``auth_attempts``; those made before TLS in
    ``auth_in_clear`` too.  ``certificates``: offer STARTTLS with its server certificate;
    ``require_auth``: a smarthost (AUTH only over TLS, MAIL only after AUTH).
    """

    def __init__(
        self,
        address: str = "127.0.0.1",
        port: int = 0,
        hostname: str = "sink.test",
        credentials: dict[str, str] | None = None,
        certificates: Certificates | None = None,
        require_auth: bool = False,
    ) -> None:
        if require_auth and certificates is None:
            raise ValueError("a sink that requires AUTH over TLS needs certificates")
        self.address = address
        self.port = port
        self.hostname = hostname
        self.credentials = credentials
        self.require_auth = require_auth
        self.tls_context: ssl.SSLContext | None = None
        if certificates is not None:
            self.tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.tls_context.load_cert_chain(certificates.cert, certificates.key)
        self.messages: list[Envelope] = []
        self.auth_attempts: list[tuple[str, str, str]] = []
        self.auth_in_clear: list[tuple[str, str, str]] = []
        #: every session as the sink saw it (credentials masked), in the order they began
        self.sessions: list[Transcript] = []
        self._arrived = threading.Condition()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def nexthop(self) -> str:
        """How Postfix names this server as a next hop: ``[127.0.0.1]:PORT`` (no MX lookup)."""
        return f"[{self.address}]:{self.port}"

    def start(self) -> None:
        self._server = _Server((self.address, self.port), _Session, self)
        self.port = self._server.server_address[1]
        self._thread = serve_in_thread(self._server, "smtp-sink")

    def stop(self) -> None:
        if self._server is None:
            return
        stop_serving(self._server, self._thread, self._server.hang_up)
        self._server = None

    def wait_for_messages(self, count: int = 1, timeout: float = 10.0) -> list[Envelope]:
        """The messages once there are at least ``count`` of them; AssertionError after
        ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"the SMTP sink got {len(self.messages)} message(s) in {timeout:g} s, "
                        f"{count} expected"
                    )
                self._arrived.wait(left)
            return list(self.messages)

    def _record(self, envelope: Envelope) -> None:
        with self._arrived:
            self.messages.append(envelope)
            self._arrived.notify_all()

    def _check_auth(self, mechanism: str, username: str, password: str, tls: bool) -> bool:
        self.auth_attempts.append((mechanism, username, password))
        if not tls:
            self.auth_in_clear.append((mechanism, username, password))
        return self.credentials is None or self.credentials.get(username) == password


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[_Session], sink: SmtpSink) -> None:
        self.sink = sink
        self.open: set[socket.socket] = set()
        super().__init__(address, handler)

    def hang_up(self) -> None:
        """End every session still open (a client that keeps its connection cached)."""
        for connection in list(self.open):
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Session(socketserver.StreamRequestHandler):
    server: _Server

    def setup(self) -> None:
        self.request.settimeout(IDLE_TIMEOUT)
        self.server.open.add(self.request)
        sink = self.server.sink
        self.transcript = Transcript(f"{sink.hostname} (the sink), a session from "
                                     f"{self.client_address[0]}")  # fmt: skip
        sink.sessions.append(self.transcript)
        super().setup()

    def finish(self) -> None:
        self.server.open.discard(self.request)
        try:
            super().finish()
        except OSError:
            pass

    tls: str | None = None

    def reply(self, text: str) -> None:
        self.transcript.lines.extend(f"S: {line}" for line in text.split("\r\n"))
        self.request.sendall(text.encode() + b"\r\n")

    def starttls(self) -> bool:
        """Answer STARTTLS and make the session TLS: whether the handshake succeeded."""
        context = self.server.sink.tls_context
        assert context is not None
        self.reply("220 2.0.0 Ready to start TLS")
        plain = self.request
        self.server.open.discard(plain)
        try:
            wrapped = context.wrap_socket(plain, server_side=True)
        except (OSError, ssl.SSLError):
            return False
        self.request = self.connection = wrapped
        self.server.open.add(wrapped)
        self.rfile = wrapped.makefile("rb")
        self.tls = wrapped.version()
        cipher = wrapped.cipher()
        self.transcript.note(f"TLS established: {self.tls}, {cipher[0] if cipher else '?'}")
        return True

    def read_line(self, secret: bool = False) -> str | None:
        """The next line from the client; a ``secret`` one (credentials) is not shown."""
        try:
            line = self.rfile.readline(65536)
        except OSError:
            return None
        if not line:
            return None
        text = line.decode("utf-8", "replace").rstrip("\r\n")
        if secret:
            shown = "<credentials, not shown>"
        elif text.upper().startswith("AUTH "):
            mechanism, _, initial = text[5:].partition(" ")
            shown = f"{text[:4]} {mechanism}" + (" <credentials, not shown>" if initial else "")
        else:
            shown = text
        self.transcript.lines.append(f"C: {shown}")
        return text

    def handle(self) -> None:
        sink = self.server.sink
        helo, auth = "", None
        mail_from: str | None = None
        rcpt_tos: list[str] = []
        self.reply(f"220 {sink.hostname} ESMTP sink")
        while True:
            line = self.read_line()
            if line is None:
                return
            verb, _, argument = line.partition(" ")
            verb = verb.upper()
            if verb == "EHLO":
                helo = argument
                offers = ["PIPELINING", "8BITMIME"]
                if sink.tls_context is not None and self.tls is None:
                    offers.append("STARTTLS")
                if self.tls is not None or not sink.require_auth:
                    offers.append("AUTH PLAIN LOGIN")
                offers.append("SMTPUTF8")
                self.reply("\r\n".join(f"250-{o}" for o in [sink.hostname, *offers[:-1]])
                           + f"\r\n250 {offers[-1]}")  # fmt: skip
            elif verb == "HELO":
                helo = argument
                self.reply(f"250 {sink.hostname}")
            elif verb == "STARTTLS" and sink.tls_context is not None and self.tls is None:
                if not self.starttls():
                    return
                helo, auth, mail_from, rcpt_tos = "", None, None, []  # RFC 3207: start over
            elif verb == "AUTH" and sink.require_auth and self.tls is None:
                self._auth_in_clear(argument)
                self.reply("538 5.7.11 Encryption required for requested authentication "
                           "mechanism")  # fmt: skip
            elif verb == "AUTH":
                auth = self._auth(argument) or auth
            elif verb == "MAIL" and sink.require_auth and auth is None:
                self.reply("530 5.7.0 Authentication required")
            elif verb == "MAIL":
                found = _PATH.search(argument)
                mail_from, rcpt_tos = (found.group(1) if found else argument), []
                self.reply("250 2.1.0 Ok")
            elif verb == "RCPT":
                if mail_from is None:
                    self.reply("503 5.5.1 Error: need MAIL command")
                    continue
                found = _PATH.search(argument)
                rcpt_tos.append(found.group(1) if found else argument)
                self.reply("250 2.1.5 Ok")
            elif verb == "DATA":
                if mail_from is None or not rcpt_tos:
                    self.reply("503 5.5.1 Error: need RCPT command")
                    continue
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                data = self._read_data()
                if data is None:
                    return
                sink._record(Envelope(helo, mail_from, rcpt_tos, data, auth,
                                      self.client_address, self.tls))  # fmt: skip
                mail_from, rcpt_tos = None, []
                self.reply("250 2.0.0 Ok: queued in the sink")
            elif verb == "RSET":
                mail_from, rcpt_tos = None, []
                self.reply("250 2.0.0 Ok")
            elif verb == "NOOP":
                self.reply("250 2.0.0 Ok")
            elif verb == "QUIT":
                self.reply("221 2.0.0 Bye")
                return
            else:
                self.reply("502 5.5.2 Error: command not recognized")

    def _read_data(self) -> bytes | None:
        lines: list[bytes] = []
        while True:
            try:
                line = self.rfile.readline(65536)
            except OSError:
                return None
            if not line:
                return None
            if line in (b".\r\n", b".\n"):
                self.transcript.lines.append(f"C: <message: {len(lines)} lines>")
                self.transcript.lines.append("C: .")
                return b"".join(lines)
            lines.append(line[1:] if line.startswith(b".") else line)

    def _auth(self, argument: str) -> tuple[str, str, str] | None:
        mechanism, _, initial = argument.partition(" ")
        mechanism = mechanism.upper()
        try:
            if mechanism == "PLAIN":
                if not initial:
                    self.reply("334 ")
                    initial = self.read_line(secret=True) or ""
                _authzid, username, password = _b64(initial).split("\0", 2)
            elif mechanism == "LOGIN":
                if not initial:
                    self.reply("334 VXNlcm5hbWU6")  # "Username:"
                    initial = self.read_line(secret=True) or ""
                username = _b64(initial)
                self.reply("334 UGFzc3dvcmQ6")  # "Password:"
                password = _b64(self.read_line(secret=True) or "")
            else:
                self.reply("504 5.5.4 Unrecognized authentication type")
                return None
        except ValueError:
            self.reply("501 5.5.2 Cannot decode the response")
            return None
        server = self.server.sink
        if not server._check_auth(mechanism, username, password, self.tls is not None):
            self.reply("535 5.7.8 Authentication failed")
            return None
        self.reply("235 2.7.0 Authentication successful")
        return mechanism, username, password


    def _auth_in_clear(self, argument: str) -> None:
        """Keep what an AUTH refused for want of TLS carried with it (PLAIN's initial
        response holds the password)."""
        mechanism, _, initial = argument.partition(" ")
        if mechanism.upper() == "PLAIN" and initial:
            try:
                _authzid, username, password = _b64(initial).split("\0", 2)
            except ValueError:
                return
            self.server.sink.auth_in_clear.append(("PLAIN", username, password))


def _b64(text: str) -> str:
    try:
        return base64.b64decode(text.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError(str(exc)) from None
