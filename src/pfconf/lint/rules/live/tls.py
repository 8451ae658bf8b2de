"""Live rules about TLS material: the certificates, keys, chains and CA files the smtpd and
smtp/lmtp services load, read through the Host and parsed by pfconf.live.certificates.

Every service is read with its own ``-o`` overrides: a server only when its TLS level asks
for TLS (smtpd.c loads the files only then), a client only when its level is not ``none`` or
it has TLS policy maps (smtp.c ``pre_init()``).  Files are opened before any chroot, so a
relative name is taken from queue_directory.  Without the ``cryptography`` package (the
``live`` extra) these rules note it once and skip.
"""

from __future__ import annotations

import re
import time
import weakref
from collections.abc import Iterator

import attrs

from ....live import Host
from ....live import certificates as pem
from ....live.certificates import PemObject
from ....semantics.configuration import Configuration
from ....semantics.services import Daemon
from ... import location as at
from ...context import Context
from ...location import Location
from ...rule import register
from .common import LiveRule

#: The smallest RSA key LIVE015 leaves alone (NIST SP 800-57 part 1: 2048 bits).
MIN_RSA_BITS = 2048

#: The legacy certificate/key pairs, as tls_set_my_certificate_key_info() takes them.
_PAIRS = (("cert_file", "key_file"), ("dcert_file", "dkey_file"), ("eccert_file", "eckey_file"))


@attrs.frozen
class TlsFile:
    """One file a setting names: the parameter, the path on the host, where to report."""

    parameter: str
    path: str
    where: Location


@attrs.frozen
class Identity:
    """A certificate and its key as one program loads them: ``chain`` files (each holding
    keys and certificates), or a ``pair`` (``files`` is (certificate, key), maybe one
    file).  ``server``: smtpd's (its names are checked against myhostname)."""

    kind: str
    files: tuple[TlsFile, ...]
    server: bool
    config: Configuration

    @property
    def mixed(self) -> bool:
        return self.kind == "pair" and self.files[0].path == self.files[1].path


@attrs.frozen
class Loaded:
    """A PEM file as read: its objects, or why there are none (``problem``)."""

    objects: tuple[PemObject, ...] = ()
    problem: str | None = None
    denied: bool = False

    @property
    def certificates(self) -> list[PemObject]:
        return [o for o in self.objects if o.kind == "certificate" and o.problem is None]

    @property
    def keys(self) -> list[PemObject]:
        return [o for o in self.objects if o.kind == "key" and o.problem is None]


_LOADED: weakref.WeakKeyDictionary[Host, dict[str, Loaded]] = weakref.WeakKeyDictionary()


def _load(host: Host, path: str) -> Loaded:
    cache = _LOADED.setdefault(host, {})
    if path not in cache:
        found = host.read(path)
        if found.data is None:
            cache[path] = Loaded(problem=found.problem, denied=found.denied)
        else:
            cache[path] = Loaded(pem.read_pem(found.data))
    return cache[path]


def _where(config: Configuration, parameter: str, daemon: Daemon | None) -> Location:
    return at.setting(config, parameter) or at.unwritten(parameter, daemon)


def _file(config: Configuration, parameter: str, daemon: Daemon | None, name: str) -> TlsFile:
    queue = config.value("queue_directory") or "/"
    path = Host.resolve(name, queue_directory=queue, chroot=False)
    return TlsFile(parameter, path, _where(config, parameter, daemon))


def _programs(rule: LiveRule, ctx: Context) -> Iterator[tuple[str, Configuration, Daemon | None]]:
    """(parameter prefix, configuration, daemon) of every program that loads TLS files."""
    model = rule.model(ctx)
    for server in model.smtp_servers:
        if server.tls.level not in ("none", "invalid"):
            yield "smtpd", server.config, server.daemon
    for client in model.smtp_clients:
        tls = client.tls
        if tls.level != "none" or tls.policy_maps:
            yield client.protocol, client.config, client.daemon


def identities(rule: LiveRule, ctx: Context) -> Iterator[Identity]:
    """Every certificate and key the running services load (tls_certkey.c,
    tls_set_my_certificate_key_info(): chain_files, when set, replace the pairs)."""
    for prefix, config, daemon in _programs(rule, ctx):
        server = prefix == "smtpd"
        chain = f"{prefix}_tls_chain_files"
        names = [n for n in re.split(r"[\s,]+", config.value(chain) or "") if n]
        if names:
            files = tuple(_file(config, chain, daemon, n) for n in names)
            yield Identity("chain", files, server, config)
            continue
        for cert_suffix, key_suffix in _PAIRS:
            cert_parameter = f"{prefix}_tls_{cert_suffix}"
            key_parameter = f"{prefix}_tls_{key_suffix}"
            cert = (config.value(cert_parameter) or "").strip()
            if not cert:
                continue
            key = (config.value(key_parameter) or "").strip() or cert
            key_file = _file(config, key_parameter, daemon, key)
            if config.origin(key_parameter) is None:
                key_file = attrs.evolve(key_file, where=_where(config, cert_parameter, daemon))
            files = (_file(config, cert_parameter, daemon, cert), key_file)
            yield Identity("pair", files, server, config)


def ca_files(rule: LiveRule, ctx: Context) -> Iterator[tuple[TlsFile, bool]]:
    """(file, whether it is a CApath directory) for every CAfile and CApath set."""
    for prefix, config, daemon in _programs(rule, ctx):
        for suffix, directory in (("CAfile", False), ("CApath", True)):
            parameter = f"{prefix}_tls_{suffix}"
            name = (config.value(parameter) or "").strip()
            if name:
                yield _file(config, parameter, daemon, name), directory


class TlsRule(LiveRule):
    """A live rule on TLS material: skipped, with a note, without ``cryptography``."""

    def check(self, ctx: Context) -> None:
        if not pem.available():
            self.host(ctx).note(
                "--live: the TLS checks need the cryptography package (pip install pfconf[live])"
            )
            return
        self._seen: set[tuple[object, ...]] = set()
        self.check_tls(ctx)

    def check_tls(self, ctx: Context) -> None:
        raise NotImplementedError

    def once(self, where: Location, message: str, severity: str | None = None) -> None:
        """Report, once per place and message (a main.cf setting serves every service)."""
        key = (where.file, where.span, message)
        if key in self._seen:
            return
        self._seen.add(key)
        self.report(where, message, severity=severity)

    def own_files(self, ctx: Context) -> Iterator[tuple[Identity, TlsFile, Loaded]]:
        """Each file of each identity that could be read."""
        host = self.host(ctx)
        for identity in identities(self, ctx):
            for file in dict.fromkeys(identity.files):
                loaded = _load(host, file.path)
                if loaded.problem is None:
                    yield identity, file, loaded

    def leaves(self, ctx: Context) -> Iterator[tuple[Identity, TlsFile, PemObject]]:
        """The certificate each identity presents first (its leaf)."""
        host = self.host(ctx)
        for identity in identities(self, ctx):
            if identity.kind == "pair" and not identity.mixed:
                loaded = _load(host, identity.files[0].path)
                if loaded.certificates:
                    yield identity, identity.files[0], loaded.certificates[0]
                continue
            for file in identity.files[:1] if identity.mixed else identity.files:
                objects = _load(host, file.path).objects
                for i, obj in enumerate(objects):
                    if obj.kind == "key" and i + 1 < len(objects):
                        after = objects[i + 1]
                        if after.kind == "certificate" and after.problem is None:
                            yield identity, file, after


def _parse_problem(file: TlsFile, loaded: Loaded, role: str) -> str | None:
    """Why a PEM file cannot serve as ``role`` (``certificate``, ``key``, ``chain``,
    ``CAfile``)."""
    for obj in loaded.objects:
        if obj.problem is not None:
            return f"PEM object number {obj.number} ({obj.label}) does not parse: {obj.problem}"
    if not loaded.objects:
        return "holds no PEM data"
    if role == "certificate" and not loaded.certificates:
        return "holds no PEM certificate"
    if role == "key" and not loaded.keys:
        return "holds no PEM private key"
    if role == "CAfile" and not loaded.certificates:
        return "holds no PEM certificate"
    return None


@register
class TlsFileUnusable(TlsRule):
    """
    ## What it finds
    A certificate, private key, chain file, CAfile or CApath that a running smtpd, smtp or
    lmtp service loads (its own settings with the service's `-o` overrides) and that is
    missing, unreadable, not a regular file (a directory for CApath), holds no PEM data of
    the kind it is named for, or holds a PEM object that does not parse (an encrypted
    private key among them: Postfix has no passphrase).

    ## Why it matters
    Postfix loads these files when the program starts.  A server that cannot load its
    certificate or key disables TLS ("disabling TLS support"): STARTTLS fails with "454
    TLS not available due to local problem", and a server that requires TLS takes no
    mail.  A client without its CA data cannot verify any server.

    ## Postfix source
    - `src/tls/tls_certkey.c`, `tls_set_my_certificate_key_info()`, `set_cert_stuff()`
      ("cannot get RSA certificate from file"), `load_chain_files()` ("error opening chain
      file"), `tls_set_ca_certificate_info()` ("cannot load Certification Authority
      data").

    ## Example
    ```
    smtpd_tls_security_level = may
    smtpd_tls_cert_file = /etc/ssl/certs/mail.pem
    ```
    with /etc/ssl/certs/mail.pem not on the host.

    ## Use instead
    Name files that exist and hold PEM certificates and unencrypted private keys.

    ## Fix
    None: pflint does not write certificates.
    """

    code = "LIVE010"
    name = "tls-file-unusable"
    severity = "error"
    summary = "a TLS certificate, key, chain or CA file is missing, unreadable or does not parse"

    def check_tls(self, ctx: Context) -> None:
        host = self.host(ctx)
        for identity in identities(self, ctx):
            for index, file in enumerate(dict.fromkeys(identity.files)):
                if identity.kind == "chain" or identity.mixed:
                    role = "chain"
                else:
                    role = "certificate" if index == 0 else "key"
                self._one(host, file, role)
        for file, directory in ca_files(self, ctx):
            if directory:
                info = host.inspect(file.path)
                if self.cannot_look(file.where, file.parameter, file.path, info.denied):
                    continue
                problem = info.problem
                if problem is None and info.kind != "directory":
                    problem = f"is {info.what}, not a directory"
                if problem is not None:
                    self.once(file.where, f"{file.parameter}: {file.path} {problem}")
            else:
                self._one(host, file, "CAfile")

    def _one(self, host: Host, file: TlsFile, role: str) -> None:
        loaded = _load(host, file.path)
        if loaded.problem is not None:
            if self.cannot_look(file.where, file.parameter, file.path, loaded.denied):
                return
            problem = loaded.problem
        else:
            problem = _parse_problem(file, loaded, role) or ""
            if not problem:
                return
        self.once(
            file.where,
            f"{file.parameter}: {file.path} {problem}: Postfix cannot load it",
        )


@register
class TlsKeyMismatch(TlsRule):
    """
    ## What it finds
    A certificate file and a separate private key file (`smtpd_tls_cert_file` and
    `smtpd_tls_key_file`, the `dcert`/`dkey` and `eccert`/`eckey` pairs, and the smtp and
    lmtp clients' pairs) whose key is not the key of the certificate: their public keys
    differ.  Keys and certificates in one file or in chain files are LIVE012's.

    ## Why it matters
    Postfix checks the pair when the program starts and, when they differ, logs "private
    key ... does not match public key" and disables TLS: STARTTLS fails, and a server that
    requires TLS takes no mail.  This happens after a renewal that replaced one file only.

    ## Postfix source
    - `src/tls/tls_certkey.c`, `set_cert_stuff()`: `SSL_CTX_check_private_key()` and the
      warning "%s private key in %s does not match public key in %s: disabling TLS
      support".

    ## Example
    ```
    smtpd_tls_cert_file = /etc/postfix/new-cert.pem
    smtpd_tls_key_file = /etc/postfix/old-key.pem
    ```

    ## Use instead
    Name the key the certificate was issued for.

    ## Fix
    None: pflint does not choose files.
    """

    code = "LIVE011"
    name = "tls-key-mismatch"
    severity = "error"
    summary = "a TLS private key does not match its certificate"

    def check_tls(self, ctx: Context) -> None:
        host = self.host(ctx)
        for identity in identities(self, ctx):
            if identity.kind != "pair" or identity.mixed:
                continue
            cert_file, key_file = identity.files
            certificates = _load(host, cert_file.path).certificates
            keys = _load(host, key_file.path).keys
            if not certificates or not keys:
                continue
            if not pem.key_matches(keys[0].value, certificates[0].value):
                self.once(
                    key_file.where,
                    f"{key_file.parameter}: the private key in {key_file.path} does not match "
                    f"the certificate in {cert_file.path} ({cert_file.parameter}): Postfix "
                    "disables TLS",
                )


@register
class TlsChainOrder(TlsRule):
    """
    ## What it finds
    A `*_tls_chain_files` file, or a certificate file that is also the key file, whose
    keys and certificates are not in the order Postfix loads them: each private key first,
    then the certificate for that key (the leaf), then its issuers; a certificate before
    the first key, a key with no certificate after it, or a key followed by a certificate
    that is not its own.

    ## Why it matters
    Postfix refuses the whole file ("key not first", "No certs for key", "key at index N
    ... does not match next certificate") and runs without the certificate: TLS is
    disabled for the service.

    ## Postfix source
    - `src/tls/tls_certkey.c`, `load_pem_bio()`, `load_pkey()` and `load_cert()`: the
      order checks; `load_chain_files()` and `load_mixed_file()` use them for chain files
      and for a cert file that is its own key file.

    ## Example
    ```
    smtpd_tls_chain_files = /etc/postfix/fullchain.pem /etc/postfix/key.pem
    ```
    (the certificates before their key).

    ## Use instead
    ```
    smtpd_tls_chain_files = /etc/postfix/key.pem /etc/postfix/fullchain.pem
    ```

    ## Fix
    None: pflint does not reorder files.
    """

    code = "LIVE012"
    name = "tls-chain-order"
    severity = "error"
    summary = "a TLS chain file's keys and certificates are not in the order Postfix requires"

    def check_tls(self, ctx: Context) -> None:
        host = self.host(ctx)
        for identity in identities(self, ctx):
            if identity.kind == "pair" and not identity.mixed:
                continue
            files = identity.files[:1] if identity.mixed else identity.files
            loaded = [_load(host, f.path) for f in files]
            if any(x.problem is not None for x in loaded):
                continue
            # load_chain_files() reads the files as one stream of PEM objects
            objects: list[PemObject] = []
            for x in loaded:
                objects.extend(x.objects)
            numbered = tuple(attrs.evolve(o, number=i) for i, o in enumerate(objects, 1))
            problem = pem.chain_problem(numbered)
            if problem is not None:
                names = " ".join(f.path for f in files)
                self.once(
                    files[0].where,
                    f"{files[0].parameter}: {names}: {problem}: Postfix refuses the chain",
                )


@register
class TlsCertificateExpiry(TlsRule):
    """
    ## What it finds
    A certificate in a file a running service presents (certificate and chain files,
    intermediates included) that has expired (an error), or expires within 30 days (a
    warning).  The 30 days are pflint's default: `--certificate-expiry-days N` or
    `certificate-expiry-days = N` in the settings file chooses another number.

    ## Why it matters
    Postfix loads an expired certificate without a word; the clients that verify it then
    refuse the session or fall back to plain text, and mail to this host is deferred or
    sent in clear.

    ## Postfix source
    - `src/tls/tls_certkey.c`, `set_cert_stuff()` and `load_cert()`: certificates are
      loaded without a validity check; `src/tls/tls_verify.c`, `tls_verify_certificate_callback()`
      is where a peer finds the date wrong.

    ## Example
    ```
    smtpd_tls_cert_file = /etc/postfix/cert.pem
    ```
    with a certificate whose notAfter has passed.

    ## Use instead
    Renew the certificate, and reload Postfix.

    ## Fix
    None.
    """

    code = "LIVE013"
    name = "tls-certificate-expiry"
    severity = "error"
    summary = "a TLS certificate has expired, or expires within 30 days"

    def check_tls(self, ctx: Context) -> None:
        now = time.time()
        for _, file, loaded in self.own_files(ctx):
            for cert in loaded.certificates:
                end = pem.not_after(cert.value)
                day = time.strftime("%Y-%m-%d", time.gmtime(end))
                subject = cert.value.subject.rfc4514_string() or "(no subject)"
                if end <= now:
                    self.once(
                        file.where,
                        f"{file.parameter}: the certificate {subject} in {file.path} "
                        f"expired on {day}",
                    )
                elif end - now < ctx.certificate_expiry_days * 86400:
                    self.once(
                        file.where,
                        f"{file.parameter}: the certificate {subject} in {file.path} "
                        f"expires on {day}, within {ctx.certificate_expiry_days} days",
                        severity="warning",
                    )


@register
class TlsHostnameMissing(TlsRule):
    """
    ## What it finds
    A certificate an smtpd presents (the first after its key) whose DNS names (its
    subjectAltName dNSNames, else its common name) do not include `myhostname` as the
    service sees it; a `*.` name stands for one label.

    ## Why it matters
    Clients that verify the server (`secure` and `verify` levels, DANE-TA, MTA-STS) check
    that the name they connected to is in the certificate.  Other domains' MX records
    usually name this host by myhostname, which also appears in the greeting; a
    certificate for another name fails their verification.

    ## Postfix source
    - `src/tls/tls_client.c`, `add_namechecks()` and `verify_x509()`: how a Postfix client
      sets the names it expects and checks the server's certificate against them.

    ## Example
    ```
    myhostname = mail.example.com
    smtpd_tls_cert_file = /etc/postfix/www.example.com.pem
    ```

    ## Use instead
    A certificate that names myhostname (and the names in the MX records).

    ## Fix
    None.
    """

    code = "LIVE014"
    name = "tls-hostname-missing"
    severity = "warning"
    summary = "the smtpd certificate does not name myhostname"

    def check_tls(self, ctx: Context) -> None:
        for identity, file, cert in self.leaves(ctx):
            if not identity.server:
                continue
            hostname = (identity.config.value("myhostname") or "").strip()
            if not hostname:
                continue
            names = pem.dns_names(cert.value)
            if any(pem.name_matches(hostname, n) for n in names):
                continue
            shown = ", ".join(names) if names else "none"
            self.once(
                file.where,
                f"{file.parameter}: the certificate in {file.path} does not name myhostname "
                f"{hostname} (its names: {shown})",
            )


@register
class TlsWeakCertificate(TlsRule):
    """
    ## What it finds
    A certificate a running service presents with an RSA key under 2048 bits, or a
    certificate in its chain signed with SHA-1 (self-signed roots excepted, whose
    signature nobody checks).

    ## Why it matters
    Keys of 1024 bits and SHA-1 signatures are refused by current TLS libraries at their
    default security level, so verifying clients fail, and they can be forged.

    ## Postfix source
    - `src/tls/tls_certkey.c`, `set_cert_stuff()` and `load_cert()`: Postfix loads the
      certificate whatever its key size or signature; the peer's OpenSSL judges them.

    ## Example
    ```
    smtpd_tls_cert_file = /etc/postfix/cert-rsa1024.pem
    ```

    ## Use instead
    A certificate with an RSA key of 2048 bits or more (or ECDSA), signed with SHA-256.

    ## Fix
    None.
    """

    code = "LIVE015"
    name = "tls-weak-certificate"
    severity = "warning"
    summary = "a TLS certificate has an RSA key under 2048 bits or a SHA-1 signature"

    def check_tls(self, ctx: Context) -> None:
        for _, file, cert in self.leaves(ctx):
            bits = pem.rsa_bits(cert.value.public_key())
            if bits is not None and bits < MIN_RSA_BITS:
                self.once(
                    file.where,
                    f"{file.parameter}: the certificate in {file.path} has a {bits}-bit RSA key "
                    f"(under {MIN_RSA_BITS})",
                )
        for _, file, loaded in self.own_files(ctx):
            for cert in loaded.certificates:
                if cert.value.issuer == cert.value.subject:
                    continue
                if pem.signature_hash(cert.value) == "sha1":
                    subject = cert.value.subject.rfc4514_string() or "(no subject)"
                    self.once(
                        file.where,
                        f"{file.parameter}: the certificate {subject} in {file.path} is "
                        "signed with SHA-1",
                    )


@register
class TlsKeyReadable(TlsRule):
    """
    ## What it finds
    A file holding a private key a running service loads (a key file, a chain file) that
    group or others may read (mode & 0o077).

    ## Why it matters
    Whoever reads the key can impersonate the mail server.  Postfix reads it as root
    before dropping privileges, so nobody else needs access.

    ## Postfix source
    - `src/tls/tls_certkey.c`, `tls_set_my_certificate_key_info()`: called from
      `src/smtpd/smtpd.c`, `pre_jail_init()` and `src/smtp/smtp.c`, `pre_init()`, while
      the program still runs as root.

    ## Example
    ```
    smtpd_tls_key_file = /etc/postfix/key.pem
    ```
    with key.pem of mode 0644.

    ## Use instead
    `chmod 600 /etc/postfix/key.pem` (owned by root).

    ## Fix
    None: pflint does not change modes.
    """

    code = "LIVE016"
    name = "tls-key-readable"
    severity = "warning"
    summary = "a TLS private key file is readable by group or others"

    def check_tls(self, ctx: Context) -> None:
        host = self.host(ctx)
        for _, file, loaded in self.own_files(ctx):
            if not loaded.keys:
                continue
            mode = host.inspect(file.path).permissions
            if mode & 0o077:
                self.once(
                    file.where,
                    f"{file.parameter}: {file.path} holds a private key and is readable by "
                    f"group or others (mode {mode:04o}): chmod 600 it",
                )
