"""Live rules about match lists: the ``/file/name`` items whose files hold more items.

The model lists the items (Postfix.list_files: every match list a running program builds,
``-o`` overrides included); the files, and the ``/file/name`` items inside them, are read
through the Host.
"""

from __future__ import annotations

from ....live.tablefiles import logical_lines
from ....values import split_list
from ... import location as at
from ...context import Context
from ...rule import register
from .common import LiveRule

#: How deep files that name files are followed (Postfix has no limit; a loop would not end).
MAX_DEPTH = 8


@register
class ListFileUnusable(LiveRule):
    """
    ## What it finds
    A `/file/name` item of a match list (`mynetworks`, `relay_domains`,
    `smtpd_sasl_exceptions_networks`, `debug_peer_list`...) whose file does not exist,
    cannot be read or is not a regular file, including `/file/name` items written inside
    such a file.  Only lists a running program builds are looked at, with each service's
    `-o` overrides.

    ## Why it matters
    Postfix does not stop: it puts an item in the file's place whose every match fails
    with a lookup error, so each decision that consults the list (is this client in
    mynetworks, is this domain relayed) ends in a temporary failure, and the mail is
    deferred.

    ## Postfix source
    - `src/util/match_list.c`, `match_list_parse()`: a `/file/name` item is read line by
      line as more items; a file it cannot open becomes a "nofile" `dict_surrogate()`
      whose lookups fail.

    ## Example
    ```
    mynetworks = 127.0.0.0/8, /etc/postfix/networks
    ```
    with no /etc/postfix/networks.

    ## Use instead
    Create the file (one network or more per line), or correct its name.

    ## Fix
    None.
    """

    code = "LIVE027"
    name = "list-file-unusable"
    severity = "error"
    summary = "a /file/name item of a match list names a file Postfix cannot read"

    def check(self, ctx: Context) -> None:
        host = self.host(ctx)
        items = self.model(ctx).list_files
        # a file reached through $name in several lists is one place: the one written out
        placed = {i.path for i in items if i.written.span is not None}
        done: set[tuple[object, ...]] = set()
        for item in items:
            where = at.list_file(item)
            if where is None or (item.written.span is None and item.path in placed):
                continue  # a default names no file, or the file is written elsewhere
            key = (item.path, where.file, where.span, where.service)
            if key in done:
                continue
            done.add(key)
            pending: list[tuple[str, tuple[str, int] | None, int]] = [(item.path, None, 0)]
            seen = set()
            while pending:
                path, named_in, depth = pending.pop(0)
                if path in seen or depth > MAX_DEPTH:
                    continue
                seen.add(path)
                found = host.read(path)
                if found.data is None:
                    subject = f"{item.parameter}: {path}"
                    if self.cannot_look(where, subject, path, found.denied):
                        continue
                    inside = f" (named in {named_in[0]}, line {named_in[1]})" if named_in else ""
                    self.report(
                        where,
                        f"{item.parameter}: the list file {path}{inside} {found.problem}: "
                        f"every match against {item.parameter} fails with a lookup error",
                    )
                    continue
                for number, line in logical_lines(found.data):
                    for token in split_list(line):
                        if token.text.startswith("#"):
                            break  # util/mystrtok.c, mystrtokq_cw(): the line ends there
                        inner = token.text.lstrip("!")
                        if inner.startswith("/"):
                            pending.append((inner, (path, number), depth + 1))
