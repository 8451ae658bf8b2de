"""Running Postfix's own programs (postconf, postmap): the one place that finds and starts them.

The library, both commands and the tests go through here, so that every call names the
configuration directory it is about and every failure is reported once, by whoever catches
the PostfixError.  Nothing here reads or writes a configuration file itself.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .errors import PfconfError
from .kb import parse_version

if TYPE_CHECKING:
    import subprocess

#: Where Debian, Red Hat and the BSDs put Postfix's administrative programs when they are
#: not on PATH (root's PATH has /usr/sbin; a user's often does not).
SBIN_DIRECTORIES = ("/usr/sbin", "/usr/local/sbin", "/sbin")

#: Long enough for postmap on a large table; a hung program must not hang pfconf.
TIMEOUT = 120


class PostfixError(PfconfError):
    """A Postfix program is missing, failed, or answered something pfconf cannot use.

    The message says which program, with which arguments, and what it printed; it is meant to
    be shown once, by the caller that gives up.
    """


def find_program(name: str) -> str | None:
    """The path of Postfix's program ``name`` (``postconf``, ``postmap``), or None."""
    import shutil  # this module is imported by every lint; most never run a program

    found = shutil.which(name)
    if found:
        return found
    for directory in SBIN_DIRECTORIES:
        path = os.path.join(directory, name)
        if os.access(path, os.X_OK):
            return path
    return None


def run(
    name: str,
    args: Sequence[str],
    *,
    config_dir: str | None = None,
    timeout: float = TIMEOUT,
    umask: int = -1,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``name -c config_dir args...`` (no ``-c`` when ``config_dir`` is None) and return
    what it did, whatever its exit status.  PostfixError when it cannot be started or hangs."""
    import subprocess

    path = find_program(name)
    if path is None:
        raise PostfixError(f"{name} is not installed here (it comes with Postfix)")
    command = [path, *(["-c", config_dir] if config_dir is not None else []), *args]
    try:
        return subprocess.run(
            command, capture_output=True, timeout=timeout, check=False, umask=umask
        )
    except subprocess.TimeoutExpired:
        raise PostfixError(f"{' '.join(command)}: no answer after {timeout:g} s") from None
    except OSError as exc:
        raise PostfixError(f"{path}: {exc.strerror or exc}") from exc


def _stderr(proc: subprocess.CompletedProcess[bytes]) -> str:
    text = proc.stderr.decode("utf-8", "replace").strip()
    return " / ".join(line for line in text.splitlines() if line.strip()) or (
        f"exit status {proc.returncode}"
    )


@functools.lru_cache(maxsize=1)
def installed_version() -> str:
    """The installed Postfix's version, such as ``"3.7.11"``.

    ``postconf -d`` prints the compiled-in default and needs no main.cf: a machine where
    Postfix was installed with "No configuration" has none, and there plain ``postconf
    mail_version`` is fatal.
    """
    proc = run("postconf", ["-d", "-h", "mail_version"])
    version = proc.stdout.decode("utf-8", "replace").strip()
    if proc.returncode != 0:
        raise PostfixError(f"postconf -d -h mail_version failed: {_stderr(proc)}")
    try:
        parse_version(version)
    except ValueError:
        raise PostfixError(
            f"postconf -d -h mail_version printed {version!r}, not a version"
        ) from None
    return version


#: The files postmap makes from a table's source file, by table type (postmap(1),
#: DATABASE_README): sasl_passwd -> sasl_passwd.db for hash.
INDEX_SUFFIXES = {
    "hash": (".db",),
    "btree": (".db",),
    "lmdb": (".lmdb",),
    "cdb": (".cdb",),
    "dbm": (".dir", ".pag"),
    "sdbm": (".dir", ".pag"),
}


def default_database_type(config_dir: str) -> str:
    """The table type a bare ``postmap FILE`` builds with this configuration."""
    proc = run("postconf", ["-h", "default_database_type"], config_dir=config_dir)
    value = proc.stdout.decode("utf-8", "replace").strip()
    if proc.returncode != 0 or not value:
        raise PostfixError(f"postconf -c {config_dir} -h default_database_type failed: "
                           f"{_stderr(proc)}")  # fmt: skip
    return value


def postmap(config_dir: str, table: str, *, private: bool = False) -> None:
    """Build the indexed file of a lookup table (``hash:/etc/postfix/sasl_passwd``) the way
    the Postfix configured in ``config_dir`` reads it: ``postmap -c DIR type:path``.

    ``private``: the table holds secrets, so postmap runs with umask 077 and the files it
    creates are readable by their owner alone from the first byte.
    """
    proc = run("postmap", [table], config_dir=config_dir, umask=0o077 if private else -1)
    if proc.returncode != 0:
        raise PostfixError(f"postmap -c {config_dir} {table} failed: {_stderr(proc)}")
