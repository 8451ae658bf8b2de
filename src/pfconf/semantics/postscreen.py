"""postscreen(8): which of its tests run, and what it does when one fails.

postscreen.c reads one action per test (``ignore``: log only, ``enforce``: reject after the
other tests, ``drop``: hang up); the DNSBL test runs only with sites to ask, and the deep
protocol tests (pipelining, non-SMTP commands, bare newlines) only when enabled, since they
make a client that passes come back later (postscreen_smtpd.c).
"""

from __future__ import annotations

import attrs

from .configuration import Configuration, yes
from .services import Daemon


@attrs.frozen
class ScreenTest:
    """One of postscreen's tests: whether it runs, and its action when a client fails it."""

    name: str
    runs: bool
    action: str | None
    #: the parameter that switches it on or supplies what it needs
    switch: str


@attrs.frozen(eq=False)
class Postscreen:
    """A postscreen service with the configuration it runs with."""

    daemon: Daemon

    @property
    def config(self) -> Configuration:
        return self.daemon.config

    def _action(self, name: str) -> str | None:
        value = self.config.value(name)
        return value.strip().lower() if value is not None else None

    @property
    def tests(self) -> tuple[ScreenTest, ...]:
        value = self.config.value
        sites = (value("postscreen_dnsbl_sites") or "").strip()
        return (
            ScreenTest(
                "access list", bool((value("postscreen_access_list") or "").strip()),
                self._action("postscreen_denylist_action")
                or self._action("postscreen_blacklist_action"),
                "postscreen_access_list",
            ),
            ScreenTest(
                "pregreet", True, self._action("postscreen_greet_action"),
                "postscreen_greet_action",
            ),
            ScreenTest(
                "dnsbl", bool(sites), self._action("postscreen_dnsbl_action"),
                "postscreen_dnsbl_sites",
            ),
            ScreenTest(
                "pipelining", yes(value("postscreen_pipelining_enable")),
                self._action("postscreen_pipelining_action"), "postscreen_pipelining_enable",
            ),
            ScreenTest(
                "non-smtp command", yes(value("postscreen_non_smtp_command_enable")),
                self._action("postscreen_non_smtp_command_action"),
                "postscreen_non_smtp_command_enable",
            ),
            ScreenTest(
                "bare newline", yes(value("postscreen_bare_newline_enable")),
                self._action("postscreen_bare_newline_action"),
                "postscreen_bare_newline_enable",
            ),
        )  # fmt: skip

    def test(self, name: str) -> ScreenTest:
        for test in self.tests:
            if test.name == name:
                return test
        raise KeyError(name)


def postscreens(daemons: tuple[Daemon, ...]) -> tuple[Postscreen, ...]:
    return tuple(Postscreen(d) for d in daemons if d.program == "postscreen")
