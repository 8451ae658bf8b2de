"""A fake DNS server for the sandbox: UDP on 127.0.0.1:53, answers from a dict, NXDOMAIN else.

It knows A, AAAA, TXT, MX, PTR and CNAME records and nothing of recursion, TCP or DNSSEC;
it must never be reachable from outside the sandbox's network namespace (port 53 is free
only there).
"""

from __future__ import annotations

import ipaddress
import socket
import struct
import threading

#: The record types it serves, by their number in a DNS question.
TYPES = {"A": 1, "CNAME": 5, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28}
_NAMES = {number: name for name, number in TYPES.items()}

NOERROR, FORMERR, NXDOMAIN, NOTIMP = 0, 1, 3, 4


def reversed_name(address: str, zone: str) -> str:
    """The name a DNS blocklist is asked about for ``address``: 198.51.100.10 in rbl.test
    is ``10.100.51.198.rbl.test``."""
    ip = ipaddress.ip_address(address)
    if ip.version == 4:
        labels = str(ip).split(".")[::-1]
    else:
        labels = list(ip.exploded.replace(":", ""))[::-1]
    return ".".join([*labels, zone.rstrip(".")])


def _canonical(name: str) -> str:
    return name.rstrip(".").lower()


def _encode_name(name: str) -> bytes:
    out = b""
    for label in _canonical(name).split("."):
        if label:
            raw = label.encode("idna") if not label.isascii() else label.encode()
            out += bytes([len(raw)]) + raw
    return out + b"\0"


def _rdata(rtype: str, value: str) -> bytes:
    if rtype == "A":
        return ipaddress.IPv4Address(value).packed
    if rtype == "AAAA":
        return ipaddress.IPv6Address(value).packed
    if rtype == "TXT":
        raw = value.encode()
        chunks = [raw[i : i + 255] for i in range(0, len(raw), 255)] or [b""]
        return b"".join(bytes([len(c)]) + c for c in chunks)
    if rtype == "MX":
        preference, _, exchange = value.partition(" ")
        return struct.pack("!H", int(preference)) + _encode_name(exchange)
    return _encode_name(value)  # PTR, CNAME


class FakeDns:
    """Answers ``records`` (name -> type -> values, such as ``{"2.0.0.127.rbl.test": {"A":
    ["127.0.0.2"]}}``) and says NXDOMAIN for every name it does not know.  A known name
    asked for another type gets an empty answer (NODATA).  ``queries`` lists each question
    as (name, type) in the order they came, so a test can tell what Postfix looked up.
    Records may be added while it runs.
    """

    def __init__(
        self,
        records: dict[str, dict[str, list[str]]] | None = None,
        address: str = "127.0.0.1",
        port: int = 53,
    ) -> None:
        self.address = address
        self.port = port
        self.records: dict[str, dict[str, list[str]]] = {}
        self.queries: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        for name, by_type in (records or {}).items():
            for rtype, values in by_type.items():
                self.add(name, rtype, *values)

    def add(self, name: str, rtype: str, *values: str) -> None:
        """Serve ``values`` as the ``rtype`` records of ``name`` (in addition to any already
        there).  MX values are "preference exchange"."""
        rtype = rtype.upper()
        if rtype not in TYPES:
            raise ValueError(f"FakeDns serves {', '.join(TYPES)}, not {rtype}")
        for value in values:
            _rdata(rtype, value)  # a bad value fails here, not in the server thread
        with self._lock:
            self.records.setdefault(_canonical(name), {}).setdefault(rtype, []).extend(values)

    def list_address(self, zone: str, address: str, result: str = "127.0.0.2",
                     reason: str | None = None) -> str:  # fmt: skip
        """List ``address`` in the blocklist ``zone`` (A ``result``, and TXT ``reason`` when
        given); returns the name a blocklist client looks up."""
        name = reversed_name(address, zone)
        self.add(name, "A", result)
        if reason is not None:
            self.add(name, "TXT", reason)
        return name

    def asked(self, name: str) -> list[str]:
        """The record types asked for ``name`` so far."""
        with self._lock:
            return [rtype for asked, rtype in self.queries if asked == _canonical(name)]

    # -- the server ----------------------------------------------------------------------------

    def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((self.address, self.port))
        except OSError:
            sock.close()
            raise
        sock.settimeout(0.2)
        self._socket = sock
        self._thread = threading.Thread(target=self._serve, name="fake-dns", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._socket is not None:
            self._socket.close()

    def _serve(self) -> None:
        assert self._socket is not None
        while not self._stopping.is_set():
            try:
                query, peer = self._socket.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            answer = self._answer(query)
            if answer is not None:
                try:
                    self._socket.sendto(answer, peer)
                except OSError:
                    pass

    def _answer(self, query: bytes) -> bytes | None:
        if len(query) < 12:
            return None
        ident, flags, qdcount = struct.unpack("!HHH", query[:6])
        if flags & 0x8000:
            return None  # a response, not a question
        opcode = (flags >> 11) & 0xF
        reply_flags = 0x8000 | (opcode << 11) | 0x0400 | (flags & 0x0100) | 0x0080
        try:
            name, end = _read_name(query, 12)
            qtype, _qclass = struct.unpack("!HH", query[end : end + 4])
        except (IndexError, struct.error, UnicodeDecodeError):
            return struct.pack("!HHHHHH", ident, reply_flags | FORMERR, 0, 0, 0, 0)
        question = query[12 : end + 4]
        if opcode != 0 or qdcount != 1:
            return struct.pack("!HHHHHH", ident, reply_flags | NOTIMP, 0, 0, 0, 0)
        rtype = _NAMES.get(qtype, str(qtype))
        with self._lock:
            self.queries.append((name, rtype))
            known = self.records.get(name)
            values = list(known.get(rtype, ())) if known is not None else []
        if known is None:
            return struct.pack("!HHHHHH", ident, reply_flags | NXDOMAIN, 1, 0, 0, 0) + question
        answers = b""
        for value in values:
            rdata = _rdata(rtype, value)
            # the owner name is a pointer to the question's name (offset 12)
            answers += struct.pack("!HHHIH", 0xC00C, qtype, 1, 60, len(rdata)) + rdata
        header = struct.pack("!HHHHHH", ident, reply_flags | NOERROR, 1, len(values), 0, 0)
        return header + question + answers


def _read_name(message: bytes, offset: int) -> tuple[str, int]:
    """The name at ``offset`` (no compression: questions have none) and where it ends."""
    labels: list[str] = []
    while True:
        length = message[offset]
        if length == 0:
            return ".".join(labels).lower(), offset + 1
        if length & 0xC0:
            raise IndexError("compressed name in a question")
        labels.append(message[offset + 1 : offset + 1 + length].decode("ascii"))
        offset += 1 + length


def lookup(name: str, rtype: str, server: tuple[str, int]) -> tuple[int, list[bytes]]:
    """Ask ``server`` one question; (rcode, raw rdata of each answer).  For tests of the
    server itself: Postfix asks through the C library's resolver."""
    query = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
    query += _encode_name(name) + struct.pack("!HH", TYPES[rtype], 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        sock.sendto(query, server)
        reply, _ = sock.recvfrom(4096)
    flags, _qd, ancount = struct.unpack("!HHH", reply[2:8])
    _, offset = _read_name(reply, 12)
    offset += 4
    rdatas = []
    for _ in range(ancount):
        offset += 2  # the pointer to the question's name
        _type, _class, _ttl, length = struct.unpack("!HHIH", reply[offset : offset + 10])
        offset += 10
        rdatas.append(reply[offset : offset + length])
        offset += length
    return flags & 0xF, rdatas
