"""pytest fixtures for end-to-end tests (loaded by tests/conftest.py as a plugin).

``sandbox`` is the private network namespace; ``fake_dns``, ``smtp_sink``,
``scratch_postfix`` and ``dovecot`` start their component inside it.  pytest tears fixtures
down in reverse order, so every component stops before the sandbox is left, whatever the
test did.  ``certificates`` is a CA and a server certificate (one set per session);
``transcripts`` collects the SMTP sessions a test opened, which the report prints (a
"SMTP transcripts" section at the end of the run, and beside a failure).
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pfconf.postfix import find_program

from .dns import FakeDns
from .dovecot import Dovecot, dovecot_installed
from .postfix import ScratchPostfix
from .recipes import PASSWORD, USER, Mail
from .sandbox import Sandbox
from .smtp_client import Transcripts
from .smtp_sink import SmtpSink
from .tls import Certificates, make_certificates

#: (test id, its transcripts) for every test that used the ``transcripts`` fixture.
TRANSCRIPTS = pytest.StashKey[list[tuple[str, Transcripts]]]()


def require_e2e() -> None:
    """Root, Postfix, ip and unshare; without them a skip, but under CI=1 a failure (CI
    must run every end-to-end test)."""
    missing = [name for name in ("postfix", "postconf") if find_program(name) is None]
    missing += [name for name in ("ip", "unshare", "mount")
                if not (shutil.which(name) or os.path.exists(f"/usr/sbin/{name}")
                        or os.path.exists(f"/sbin/{name}"))]  # fmt: skip
    reasons = [f"{', '.join(missing)} not installed"] if missing else []
    if os.geteuid() != 0:
        reasons.append("not root (network and mount namespaces need it)")
    if not reasons:
        return
    message = "end-to-end tests need: " + "; ".join(reasons)
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def require_dovecot() -> None:
    """Dovecot, for SASL: a skip without it, a failure under CI=1 (.ci/run installs it)."""
    if dovecot_installed():
        return
    message = "Dovecot is not installed (apt-get install dovecot-core)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    require_e2e()
    with Sandbox() as box:
        yield box


@pytest.fixture
def fake_dns(sandbox: Sandbox) -> FakeDns:
    """The sandbox's DNS server (127.0.0.1:53): empty, so every name is NXDOMAIN until a
    test adds records."""
    return sandbox.start(FakeDns())


@pytest.fixture
def smtp_sink(sandbox: Sandbox) -> SmtpSink:
    return sandbox.start(SmtpSink())


ScratchPostfixFactory = Callable[..., ScratchPostfix]


@pytest.fixture
def scratch_postfix(sandbox: Sandbox, fake_dns: FakeDns, tmp_path: Path) -> ScratchPostfixFactory:
    """Make and start a scratch Postfix: ``scratch_postfix(main_cf, master_cf=None, *,
    config_dir=None, outbound=None, start=True)``.

    With ``start=False`` the instance is only prepared (configuration written, directories
    made): start something it needs first (Dovecot's auth socket at
    ``instance.sasl_socket("submission")``), then ``sandbox.start(instance)``.
    """
    numbers = itertools.count(1)

    def make(
        main_cf: str | None = None,
        master_cf: str | None = None,
        *,
        config_dir: os.PathLike[str] | str | None = None,
        outbound: str | None = None,
        start: bool = True,
    ) -> ScratchPostfix:
        instance = sandbox.adopt(ScratchPostfix(
            sandbox, tmp_path / f"postfix-{next(numbers)}", main_cf, master_cf,
            config_dir=config_dir, outbound=outbound,
        ))  # fmt: skip
        if not start:
            instance.prepare()
            return instance
        return sandbox.start(instance)

    return make


DovecotFactory = Callable[..., Dovecot]


@pytest.fixture
def dovecot(sandbox: Sandbox, tmp_path: Path) -> DovecotFactory:
    """Start Dovecot's auth service for a prepared scratch Postfix: ``dovecot(postfix,
    users, service="smtp", lmtp=None)`` puts its socket where ``service``'s smtpd looks
    (``postfix.sasl_socket(service)``), and with ``lmtp`` (a path, such as
    ``postfix.lmtp_socket()``) takes mail over LMTP there; start the instance afterwards."""
    require_dovecot()
    numbers = itertools.count(1)

    def make(
        postfix: ScratchPostfix,
        users: dict[str, str],
        service: str = "smtp",
        lmtp: Path | None = None,
    ) -> Dovecot:
        postfix.prepare()
        return sandbox.start(Dovecot(sandbox, tmp_path / f"dovecot-{next(numbers)}",
                                     postfix.sasl_socket(service), users, lmtp=lmtp))  # fmt: skip

    return make


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """A CA and a certificate for mail.example.com it signed (files 0600), made once."""
    return make_certificates(tmp_path_factory.mktemp("certificates"))


#: The domains the recipe tests' mail uses: each resolves, as reject_unknown_*_domain needs.
MAIL_DOMAINS = ("example.org", "example.net", "deimos.fr", "example.com")

MailFactory = Callable[..., Mail]


@pytest.fixture
def mail_server(
    sandbox: Sandbox,
    scratch_postfix: ScratchPostfixFactory,
    dovecot: DovecotFactory,
    fake_dns: FakeDns,
    smtp_sink: SmtpSink,
    transcripts: Transcripts,
    certificates: Certificates,
) -> MailFactory:
    """``mail_server(config_dir, sasl=True, outbound=True)``: a scratch Postfix from
    ``config_dir`` started with Dovecot beside it (``sasl``: the test user may log in) and
    its outbound mail going to the SMTP sink (``outbound``), as a :class:`Mail` to talk to.
    The fake DNS resolves :data:`MAIL_DOMAINS`."""
    for domain in MAIL_DOMAINS:
        fake_dns.add(domain, "A", "192.0.2.25")

    def run(config: Path, sasl: bool = True, outbound: bool = True) -> Mail:
        postfix = scratch_postfix(config_dir=config, start=False,
                                  outbound=smtp_sink.nexthop if outbound else None)  # fmt: skip
        auth = dovecot(postfix, {USER: PASSWORD}) if sasl else None
        sandbox.start(postfix)
        return Mail(postfix, certificates, transcripts, sandbox.foreign_address, smtp_sink, auth)

    return run


@pytest.fixture
def transcripts(request: pytest.FixtureRequest) -> Transcripts:
    """The SMTP sessions of this test: pass ``transcript=transcripts.new(title)`` to
    ``postfix.client``; they are printed at the end of the run."""
    found = Transcripts()
    request.node.stash[TRANSCRIPTS] = [(request.node.nodeid, found)]
    request.config.stash.setdefault(TRANSCRIPTS, []).append((request.node.nodeid, found))
    return found


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failed test's report shows its transcripts beside the error."""
    outcome = yield
    report = outcome.get_result()
    recorded = item.stash.get(TRANSCRIPTS, [])
    if report.when == "call" and report.failed and recorded:
        report.sections.append(("SMTP transcripts", recorded[0][1].render()))


#: A directory to write each test's transcripts to, one file per test (``make transcripts``
#: fills docs/transcripts/, which docs/editing.md shows).
TRANSCRIPTS_DIR = "PFCONF_TRANSCRIPTS_DIR"


def transcript_file_name(nodeid: str) -> str:
    """``tests/e2e/test_recipe_x.py::test_y[seed]`` as ``test_recipe_x--test_y[seed].txt``."""
    path, _, name = nodeid.partition("::")
    return f"{Path(path).stem}--{name.replace('::', '--')}.txt"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Every transcript the run recorded, test by test: what the end-to-end tests checked."""
    recorded = [(nodeid, found) for nodeid, found in
                terminalreporter.config.stash.get(TRANSCRIPTS, []) if found.sessions]  # fmt: skip
    if not recorded:
        return
    directory = os.environ.get(TRANSCRIPTS_DIR)
    if directory:
        os.makedirs(directory, exist_ok=True)
        for nodeid, found in recorded:
            with open(os.path.join(directory, transcript_file_name(nodeid)), "w") as handle:
                handle.write(f"# {nodeid}\n{found.render()}\n")
    terminalreporter.section("SMTP transcripts")
    for nodeid, found in recorded:
        terminalreporter.write_line(f"### {nodeid}")
        terminalreporter.write_line(found.render())
        terminalreporter.write_line("")
