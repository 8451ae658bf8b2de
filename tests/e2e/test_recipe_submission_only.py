"""``pfedit apply submission-only`` proven on a running Postfix: the seed after sasl-tls
(tests/harness/recipes.py; sasl-tls keeps AUTH on port 25, after STARTTLS, where the seed
had it) stops offering AUTH on port 25 altogether, while users still log in on 587 and 465.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import invoke
from harness.fixtures import MailFactory
from harness.recipes import PASSWORD, SEED, USER, Mail, make_config, offers_auth, plain, relay
from harness.tls import Certificates

from pfconf.cli.pfedit import cli as pfedit

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_submission_only_takes_auth_off_port_25(
    tmp_path: Path, certificates: Certificates, mail_server: MailFactory
) -> None:
    config = make_config(SEED, tmp_path / "config", certificates)
    invoke(pfedit, ["-c", config, "apply", "sasl-tls", "--cert", certificates.cert,
                    "--key", certificates.key], 0)  # fmt: skip

    before = mail_server(config)
    name = "seed after sasl-tls, before submission-only"
    with before.session(f"{name}: port 25 with TLS") as client:
        before.starttls(client)
        assert offers_auth(client)
        assert client.docmd("AUTH", plain(USER, PASSWORD))[0] == 235

    invoke(pfedit, ["-c", config, "apply", "submission-only"], 0)
    after = mail_server(config)
    name = "seed after sasl-tls and submission-only"
    with after.session(f"{name}: port 25 with TLS") as client:
        after.starttls(client)
        assert not offers_auth(client)
        code, text = client.docmd("AUTH", plain(USER, PASSWORD))
        assert (code, text) == (503, b"5.5.1 Error: authentication not enabled")
        code, text = relay(client)
        assert (code, b"Relay access denied" in text) == (554, True), (code, text)
    check_users_still_log_in(after, name)


def check_users_still_log_in(running: Mail, name: str) -> None:
    with running.session(f"{name}: port 587 with TLS", "submission") as client:
        running.starttls(client)
        assert client.docmd("AUTH", plain(USER, PASSWORD))[0] == 235
        assert relay(client)[0] == 250
    with running.session(f"{name}: port 465", "submissions", implicit_tls=True) as client:
        assert client.docmd("AUTH", plain(USER, PASSWORD))[0] == 235
        assert relay(client)[0] == 250
