"""A mail filter (Milter) that adds one header to every message: proof that Postfix passed the
message through the filter it was configured with.

It speaks the part of the Milter protocol (version 6, as Postfix's milter8.c speaks it)
that such a filter needs: option negotiation, in which it asks to skip every event but the
end of the message and to be allowed to add headers; then, at the end of each message, an
"add header" and "continue".  Macros are read and ignored; abort, quit and "quit, new
connection" end or reset the session.  Facts: libmilter's mfdef.h (command and reply
letters, SMFIF_/SMFIP_ bits), as src/milter/milter8.c uses them.
"""

from __future__ import annotations

import socketserver
import struct
import threading

from .serving import serve_in_thread, stop_serving

#: The header each message gets, and its value.
HEADER = ("X-Test-Milter", "seen")

SMFI_VERSION = 6
SMFIF_ADDHDRS = 0x01
#: The events the filter asks Postfix not to send (connect, HELO, MAIL, RCPT, body, headers,
#: end of headers, unknown commands, DATA): only the end of the message remains.
SMFIP_SKIPPED = 0x01 | 0x02 | 0x04 | 0x08 | 0x10 | 0x20 | 0x40 | 0x100 | 0x200


class Milter:
    """Listen on 127.0.0.1:``port`` (0: a free port); ``endpoint`` is how Postfix names it.
    ``seen`` counts the messages the filter marked."""

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.seen = 0
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        return f"inet:127.0.0.1:{self.port}"

    def start(self) -> None:
        self._server = _Server(("127.0.0.1", self.port), _Session, self)
        self.port = self._server.server_address[1]
        self._thread = serve_in_thread(self._server, "milter")

    def stop(self) -> None:
        if self._server is None:
            return
        stop_serving(self._server, self._thread)
        self._server = None

    def _marked(self) -> None:
        with self._lock:
            self.seen += 1


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[_Session], milter: Milter) -> None:
        self.milter = milter
        super().__init__(address, handler)


class _Session(socketserver.BaseRequestHandler):
    server: _Server

    def _read(self, size: int) -> bytes | None:
        data = b""
        while len(data) < size:
            chunk = self.request.recv(size - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    def _send(self, command: bytes, data: bytes = b"") -> None:
        self.request.sendall(struct.pack("!I", len(data) + 1) + command + data)

    def handle(self) -> None:
        self.request.settimeout(30)
        try:
            while True:
                head = self._read(4)
                if head is None:
                    return
                (length,) = struct.unpack("!I", head)
                packet = self._read(length) if length else b""
                if not packet:
                    return
                command, data = packet[:1], packet[1:]
                if command == b"O":  # option negotiation: what Postfix offers
                    _version, _actions, offered = struct.unpack("!III", data[:12])
                    self._send(b"O", struct.pack(
                        "!III", SMFI_VERSION, SMFIF_ADDHDRS, offered & SMFIP_SKIPPED
                    ))  # fmt: skip
                elif command == b"E":  # end of the message
                    name, value = HEADER
                    self._send(b"h", name.encode() + b"\0" + value.encode() + b"\0")
                    self._send(b"c")
                    self.server.milter._marked()
                elif command in (b"Q", b"\x00"):
                    return
                # "D" (macros), "A" (abort), "K" (quit, new connection): nothing to answer
        except OSError:  # a timeout too
            return
