"""What pfconf works out from identical text is shared, never what differs (pfconf._shared)."""

from __future__ import annotations

import threading

import pfconf
from pfconf._shared import ByIdentity, Memory
from pfconf.semantics.programs import command_line

MASTER = (
    "smtp      inet  n       -       y       -       -       smtpd\n"
    "submission inet n       -       y       -       -       smtpd\n"
    "  -o smtpd_tls_security_level=encrypt\n"
)


def test_identical_text_shares_nodes_services_and_command_lines():
    one = pfconf.loads(MASTER, "master", path="/a/master.cf")
    two = pfconf.loads(MASTER, "master", path="/b/master.cf")
    assert one.path == "/a/master.cf" and two.path == "/b/master.cf"
    assert one.nodes is two.nodes
    assert one.services is two.services
    assert command_line(one.services[1], (3, 9)) is command_line(two.services[1], (3, 9))


def test_other_text_shares_nothing_even_when_equal_but_moved():
    one = pfconf.loads(MASTER, "master")
    moved = pfconf.loads("# one line more\n" + MASTER, "master")
    assert one.services[0] == moved.services[0]  # equal content...
    assert one.services[0].line == 1 and moved.services[0].line == 2  # ...not shared
    line = command_line(moved.services[1], (3, 9))
    assert line is not None and line.overrides[0].option.line == 4


def test_text_that_does_not_read_is_not_remembered():
    bad = "smtp inet n - y\n"  # 5 fields: master.cf needs 8
    for _ in range(2):
        try:
            pfconf.loads(bad, "master", path="x/master.cf")
        except pfconf.ParseError as exc:
            assert exc.path == "x/master.cf" and exc.line == 1
        else:  # pragma: no cover
            raise AssertionError("a service with 5 fields must not read")


def test_memories_are_bounded_and_forget_the_oldest():
    memory: Memory[int, str] = Memory(3)
    for n in range(5):
        memory.put(n, str(n))
    assert [memory.get(n) for n in range(5)] == [None, None, "2", "3", "4"]


def test_by_identity_tells_equal_objects_apart():
    shared: ByIdentity[list[int], int] = ByIdentity(8)
    a, b = [1], [1]
    assert shared.get(a, None, lambda: 10) == 10
    assert shared.get(b, None, lambda: 20) == 20  # equal, not the same object
    assert shared.get(a, None, lambda: 30) == 10


def test_memories_hold_under_threads():
    memory: Memory[int, int] = Memory(50)

    def work(base: int) -> None:
        for n in range(2000):
            memory.put(base + n % 97, n)
            memory.get(base + n % 89)

    threads = [threading.Thread(target=work, args=(k * 1000,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(memory._entries) <= 50
