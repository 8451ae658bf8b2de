"""pytest fixtures for end-to-end tests (loaded by tests/conftest.py as a plugin).

``sandbox`` is the private network namespace; ``fake_dns``, ``smtp_sink`` and
``scratch_postfix`` start their component inside it.  pytest tears fixtures down in
reverse order, so every component stops before the sandbox is left, whatever the test did.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pfconf.postfix import find_program

from .dns import FakeDns
from .postfix import ScratchPostfix
from .sandbox import Sandbox
from .smtp_sink import SmtpSink


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
