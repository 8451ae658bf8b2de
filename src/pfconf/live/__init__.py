"""``pflint --live``: checks of what the configuration names on this host, read-only.

Static rules judge the text; live rules (the ``LIVE`` codes) look at the files, directories
and programs the text points at on the machine pflint runs on.  They run only when asked
(``pflint --live``, ``Options(live=True)``): without it, nothing beyond main.cf and
master.cf is read.  This package must not write, connect to anything, or resolve names.

How the parts fit, for whoever adds a live rule:

- :mod:`pfconf.live.host`: :class:`~pfconf.live.host.Host`, the one reader of the host.
  ``inspect(path)`` (lstat/stat: kind, mode, owner, size, mtime, or a ``problem`` such as
  "does not exist" or "is a dangling symbolic link to X"), ``read(path)`` (a regular file's
  bytes, size-capped, never a FIFO or device), ``listdir(path)``, ``resolve(path,
  queue_directory=..., chroot=...)`` (where a daemon finds a path), ``run(program, args)``
  (Postfix's tools, bounded), ``table_types()`` (``postconf -m``), ``postmap_query()``,
  ``postfix_version()``, ``compiled_defaults()`` (``postconf -d``).  Nothing it answers is an
  exception: a failure is a ``problem`` string, and what could not be asked is a note that
  ``pflint -v`` prints.
- :mod:`pfconf.live.tablefiles`: pure readers of what was read (cidr lines, database client
  settings, dynamicmaps.cf, postmap's warnings).  A new family puts its parsers beside it
  (a ``certificates`` module for the TLS checks, say).
- The rule side is :mod:`pfconf.lint.rules.live`: a rule subclasses
  :class:`pfconf.lint.rules.live.common.LiveRule` (``live = True``), gets the host with
  ``self.host(ctx)``, the model of the files as this host's Postfix runs them with
  ``self.model(ctx)`` (the installed release and its build's defaults), every lookup table
  named with ``self.tables(ctx)``, and reports with ``self.report(where, message)`` like any
  rule.  The engine makes the Host (``ctx.host``) only under ``--live`` and skips live rules
  otherwise, so findings, suppressions, baselines, formats and docs work as for static
  rules.  Each live rule is tested by tests/test_live*.py on files the test builds (a
  ``test_<code>_fires*`` and a ``test_<code>_quiet*`` function: tests/test_rule_cases.py
  asks for them instead of corpus cases).
"""

from .host import Account, FileText, Host, Listing, PathInfo, ToolRun

__all__ = ["Account", "FileText", "Host", "Listing", "PathInfo", "ToolRun"]
