"""Editing master.cf: one ``-o`` override at a time, and whole services.

Unlike postconf -P, which reprints the whole entry (and moves the comments inside it), an
override is changed in place: only the ``name=value`` word, or one new ``-o`` line (or, when
a plain argument shares a line with what comes before it, a new ``-o`` just before it).  Values
with blanks are written as ``-o { name = value }`` (Postfix 3.0 and later).  A service that
the stock master.cf ships commented out (submission, submissions/smtps) is re-enabled where
it is rather than added a second time.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

from .. import loads
from ..errors import ParseError
from ..kb import Version, newest_version
from ..model import MasterCf, Override, Service
from ..semantics.programs import command_line
from .base import Change, EditError, Editor, split_lines
from .main import _cut_eol

_PLAIN = re.compile(r"^[^\s{}]*$")


def override_word(name: str, value: str) -> str:
    """How ``-o name=value`` is written: plain when it can be, braced when it has blanks."""
    if _PLAIN.match(value) and not value.startswith("{"):
        return f"{name}={value}"
    if "}" in value and value.count("{") != value.count("}"):
        raise EditError(f"{name}: unbalanced braces in {value!r}")
    return "{ " + f"{name} = {value}" + " }"


#: What a master.cf says, service by service: key, the eight fields, the -o overrides.
State = list[tuple[str, tuple[str, ...], dict[str, str]]]


def daemon_overrides(service: Service, version: Version) -> tuple[Override, ...]:
    """The ``-o`` overrides the service's daemon reads (the model's reading, see
    pfconf.semantics.programs), in order; postconf's reading when master itself would refuse
    the line."""
    line = command_line(service, version)
    return line.overrides if line is not None else service.override_list


def _state(doc: MasterCf, version: Version) -> State:
    """Each service as its daemon runs it: its key, its fields, and the overrides its daemon
    reads, the last one of a name winning."""
    return [
        (s.key, tuple(a.text for a in s.arguments[:8]),
         {o.name: o.value for o in daemon_overrides(s, version)})
        for s in doc.services
    ]  # fmt: skip


def _other_words(service: Service, version: Version) -> tuple[str, ...] | None:
    """What the daemon reads besides its overrides: its other options with their values, and
    its plain arguments (None when master would refuse the line)."""
    line = command_line(service, version)
    if line is None:
        return None
    options = tuple(f"-{o.letter}{'' if o.value is None else ' ' + o.value}"
                    for o in line.options if o.letter != "o")  # fmt: skip
    return (*options, "--" if line.ends_at_dashes else "", *(line.words[i] for i in line.plain))


class MasterEditor(Editor[MasterCf]):
    """Changes to one master.cf, each verified before it is kept (see pfconf.edit)."""

    kind = "master"
    file_label = "master.cf"

    def __init__(self, doc: MasterCf, version: Version | None = None) -> None:
        super().__init__(doc)
        #: the release whose daemons read the overrides (their getopt letters differ a little
        #: from release to release); the newest one pfconf knows by default
        self.version: Version = version or newest_version()

    def _find(self, key: str) -> Service:
        name, _, type_ = key.rpartition("/")
        service = self.doc.service(name, type_) if name else None
        if service is None:
            raise EditError(f"master.cf has no service {key}")
        return service

    def _span(self, service: Service) -> tuple[int, int]:
        start = service.line - 1
        return start, start + len(split_lines(service.node.dump()))

    def _snapshot(self) -> State:
        return _state(self.doc, self.version)

    def _becomes(self, wanted: State, problem: str) -> Callable[[MasterCf], str | None]:
        """A check: the daemons of the edited master.cf read exactly ``wanted``, else
        ``problem``."""
        return lambda doc: None if _state(doc, self.version) == wanted else problem

    def _expect(self, key: str, overrides: dict[str, str]) -> Callable[[MasterCf], str | None]:
        """A check: every service as before, except ``key`` whose overrides become these;
        its daemon's other options and arguments stay as they are."""
        wanted = [(k, f, overrides if k == key else o) for k, f, o in self._snapshot()]
        words = _other_words(self._find(key), self.version)
        problem = "the edit would change master.cf in an unintended way"

        def check(doc: MasterCf) -> str | None:
            name, _, type_ = key.rpartition("/")
            service = doc.service(name, type_)
            if service is None or _other_words(service, self.version) != words:
                return problem
            return self._becomes(wanted, problem)(doc)

        return check

    def _overrides(self, service: Service) -> tuple[Override, ...]:
        return daemon_overrides(service, self.version)

    def _override(self, service: Service, name: str) -> Override | None:
        """The override of ``name`` the daemon uses (the last one), or None."""
        found = None
        for override in self._overrides(service):
            if override.name == name:
                found = override
        return found

    # -- overrides -----------------------------------------------------------------------------

    def get_override(self, key: str, name: str) -> str | None:
        """The value the daemon of ``key`` reads for ``-o name``, or None."""
        override = self._override(self._find(key), name)
        return override.value if override is not None else None

    def set_override(self, key: str, name: str, value: str, reason: str = "") -> bool:
        """Set ``-o name=value`` on the service ``key`` (``submission/inet``)."""
        service = self._find(key)
        current = {o.name: o.value for o in self._overrides(service)}
        old = current.get(name)
        if old == value:
            return False
        wanted = {**current, name: value}
        word = override_word(name, value)
        change = Change(self.file_label, "set", f"{key}: -o {name}", old, value, reason)
        start, end = self._span(service)
        lines = self.lines[start:end]
        override = self._override(service, name)
        if override is not None:
            # Replace the name=value word where it is; its "-o" and its neighbours stay.
            span = override.argument
            if span.line != span.end_line:
                raise EditError(f"{key}: -o {name} spans lines; change it by hand")
            row = span.line - service.line
            body, eol = _cut_eol(lines[row])
            if span.column > 1 and body[span.column - 2] not in " \t" and word.startswith("{"):
                # "-oname=value": master strips braces only from a whole word
                word = " " + word
            lines[row] = body[: span.column - 1] + word + body[span.end_column - 1 :] + eol
        else:
            row, column = self._insert_point(service)
            if column is not None:
                body, eol = _cut_eol(lines[row])
                lines[row] = f"{body[: column - 1]}-o {word} {body[column - 1 :]}{eol}"
            else:
                lines.insert(row, f"{self._indent(service)}-o {word}{self.eol}")
                if row == len(lines) - 1 and not lines[row - 1].endswith("\n"):
                    lines[row - 1] += self.eol
                    lines[row] = lines[row][: -len(self.eol)]
        self._commit(start, end, lines, self._expect(key, wanted), change)
        return True

    def unset_override(self, key: str, name: str, reason: str = "") -> bool:
        """Remove every ``-o name=...`` of the service ``key``."""
        service = self._find(key)
        current = {o.name: o.value for o in self._overrides(service)}
        if name not in current:
            return False
        old = current[name]
        wanted = {k: v for k, v in current.items() if k != name}
        start, end = self._span(service)
        lines = self.lines[start:end]
        for override in reversed([o for o in self._overrides(service) if o.name == name]):
            first, last = override.option, override.argument
            if first.line != last.end_line:
                raise EditError(f"{key}: -o {name} spans lines; change it by hand")
            row = first.line - service.line
            body, eol = _cut_eol(lines[row])
            cut_from, cut_to = first.column - 1, last.end_column - 1
            rest = body[:cut_from] + body[cut_to:]
            if row > 0 and not rest.strip():
                del lines[row]
                continue
            # drop the blanks the pair leaves behind, but keep the line's own indentation
            if body[cut_to:].strip():
                right = body[cut_to:].lstrip(" \t")
                left = body[:cut_from]
                if left and left[-1] not in " \t":  # "-vo a=b -x": "-v" stays, then a blank
                    left += " "
            else:
                left, right = body[:cut_from].rstrip(" \t"), ""
            lines[row] = left + right + eol
        if lines and not lines[-1].endswith("\n") and end < len(self.lines):
            lines[-1] += self.eol
        self._commit(
            start, end, lines, self._expect(key, wanted),
            Change(self.file_label, "unset", f"{key}: -o {name}", old, None, reason),
        )  # fmt: skip
        return True

    def _indent(self, service: Service) -> str:
        """The indentation of the file's ``-o`` lines (two blanks when there are none)."""
        counts: Counter[str] = Counter()
        for line in self.lines:
            match = re.match(r"^([ \t]+)-o\b", line)
            if match:
                counts[match.group(1)] += 1
        return counts.most_common(1)[0][0] if counts else "  "

    def _insert_point(self, service: Service) -> tuple[int, int | None]:
        """Where a new ``-o`` goes in the entry: where both the daemon and postconf read it
        as an override.  That is after the options and before the first plain argument or
        ``--`` (getopt stops there, so a later ``-o`` would be an argument), and before the
        first option other than ``-o`` that takes a value (``-n name``): postconf takes
        ``name`` for the first plain argument, and a ``-o`` put after it would be read by the
        daemon but not by postconf, a ``-o`` put before it would become ``-n``'s value.

        (row, None): a new line at this row of the entry.  (row, column): inside that row,
        just before that word, when it shares its line with what comes before it.
        """
        arguments = service.arguments
        at = service.options_end
        line = command_line(service, self.version)
        if line is not None:
            at = min(at, line.end)
            for option in line.options:
                if option.letter != "o" and option.value_word is not None:
                    at = min(at, option.word)
                    break
        if at < len(arguments):
            first_plain = arguments[at].span
            row = first_plain.line - service.line
            body, _ = _cut_eol(self.lines[service.line - 1 + row])
            if row == 0 or body[: first_plain.column - 1].strip():
                return row, first_plain.column
            return row, None
        # after the entry's last line that holds fields or arguments
        node = service.node
        rows = [0] + [
            k + 1
            for k, inner in enumerate(node.inner)
            if type(inner).__name__ == "ContinuationLine"
        ]
        return rows[-1] + 1, None

    def set_field(self, key: str, field: str, value: str, reason: str = "") -> bool:
        """Change one of the first seven fields (``chroot``, ``process_limit``...) in place."""
        from ..model import FIELD_NAMES

        if field not in FIELD_NAMES[2:7]:
            raise EditError(f"{field!r} is not a field that can be changed in place")
        if not value or any(c.isspace() for c in value):
            raise EditError(f"{field}: {value!r} is not a field value")
        service = self._find(key)
        index = FIELD_NAMES.index(field)
        old = service.arguments[index].text
        positions = [i for i, s in enumerate(self.doc.services) if s.key == key]
        if all(self.doc.services[i].arguments[index].text == value for i in positions):
            return False
        # a service defined twice gets the field in every entry, as remove_service removes
        # every entry: otherwise the other entry would go on saying the old value
        with self._atomic():
            for position in positions:
                self._set_field_of(
                    position, index, value, f"{key}: changing {field} would change more"
                )
        self.changes.append(Change(self.file_label, "set", f"{key}: {field}", old, value, reason))
        return True

    def _set_field_of(self, position: int, index: int, value: str, problem: str) -> None:
        service = self.doc.services[position]
        old = service.arguments[index].text
        if old == value:
            return
        span = service.field_span(index)
        start, end = self._span(service)
        lines = self.lines[start:end]
        row = span.line - service.line
        body, eol = _cut_eol(lines[row])
        # keep the columns aligned when the old value was padded with blanks after it
        pad = len(old) - len(value)
        rest = body[span.end_column - 1 :]
        if pad > 0 and rest[:1] in (" ", "\t"):
            rest = " " * pad + rest
        elif pad < 0 and rest.startswith(" " * (-pad + 1)):
            rest = rest[-pad:]
        lines[row] = body[: span.column - 1] + value + rest + eol
        wanted = self._snapshot()
        key, fields, overrides = wanted[position]
        wanted[position] = (key, fields[:index] + (value,) + fields[index + 1 :], overrides)
        self._commit(start, end, lines, self._becomes(wanted, problem), None)

    # -- services ------------------------------------------------------------------------------

    def add_service(self, text: str, reason: str = "", after: str | None = None) -> bool:
        """Add a service entry (its lines as in master.cf) at the end, or after ``after``."""
        # the text's own line endings give way to the file's (no "\r\r\n")
        lines = [line.removesuffix("\r") + self.eol for line in text.rstrip("\r\n").split("\n")]
        try:
            probe = loads("".join(lines), "master")
        except ParseError as exc:
            raise EditError(f"not a master.cf service entry: {exc}") from exc
        if len(probe.services) != 1:
            raise EditError("add_service takes exactly one service entry")
        new = probe.services[0]
        if self.doc.service(new.name, new.type) is not None:
            return False
        at = len(self.lines)
        if after is not None:
            at = self._span(self._find(after))[1]
        before = self._snapshot()
        index = sum(1 for s in self.doc.services if s.line - 1 < at)
        added = _state(probe, self.version)[0]
        check = self._becomes(
            before[:index] + [added] + before[index:], "adding the service would change others"
        )

        self._commit(
            at,
            at,
            lines,
            check,
            Change(self.file_label, "add service", new.key, None, None, reason),
        )
        return True

    def remove_service(self, key: str, reason: str = "") -> bool:
        """Remove the service ``key``: every entry of it (its head, continuation and inner
        comment lines), as unset removes every definition of a parameter, so that no other
        copy takes its place."""
        name, _, type_ = key.rpartition("/")
        if self.doc.service(name, type_) is None:
            return False
        with self._atomic():
            self._remove_entries(key)
        self.changes.append(Change(self.file_label, "remove service", key, None, None, reason))
        return True

    def _remove_entries(self, key: str) -> None:
        while True:
            entries = [s for s in self.doc.services if s.key == key]
            if not entries:
                break
            last = entries[-1]
            start, end = self._span(last)
            before = self._snapshot()
            index = next(i for i, s in enumerate(self.doc.services) if s is last)
            check = self._becomes(
                before[:index] + before[index + 1 :], "removing the service would change others"
            )
            self._commit(start, end, [], check, None)

    def enable_service(
        self, key: str, overrides: dict[str, str] | None = None, reason: str = ""
    ) -> bool:
        """Turn a commented-out service (``#submission inet n - y - - smtpd``) back on.

        The head line loses its ``#``; of the commented ``#  -o name=value`` lines after it,
        those whose name is in ``overrides`` are uncommented with the new value, the others
        stay comments.  Overrides not found there are added as new ``-o`` lines.  False when
        there is no such comment; an EditError when the service is already active.
        """
        name, _, type_ = key.rpartition("/")
        overrides = dict(overrides or {})
        if self.doc.service(name, type_) is not None:
            raise EditError(f"{key} is already defined")
        head = re.compile(r"^#\s*" + re.escape(name) + r"\s+" + re.escape(type_) + r"\s")
        option = re.compile(r"^#([ \t]+)-o[ \t]+(\{[^}]*\}|\S+)")
        lines = self.lines
        found = None
        for index, line in enumerate(lines):
            if head.match(line):
                found = index
                break
        if found is None:
            return False
        new = [re.sub(r"^#\s*", "", lines[found])]
        end = found + 1
        used = set()
        while end < len(lines):
            match = option.match(lines[end])
            if not match:
                break
            word = match.group(2)
            inner = word[1:-1] if word.startswith("{") else word
            oname = inner.split("=", 1)[0].strip()
            if oname in overrides and oname not in used:
                _body, eol = _cut_eol(lines[end])
                new.append(f"{match.group(1)}-o {override_word(oname, overrides[oname])}{eol}")
                used.add(oname)
            else:
                new.append(lines[end])
            end += 1
        # Every word of every other service, not only its fields: an indented line after the
        # commented block continues the entry above it today, and would continue the enabled
        # service instead (Postfix joins it to whatever entry precedes it)
        def whole(doc: MasterCf) -> list[tuple[str, tuple[str, ...], dict[str, str]]]:
            return [
                (s.key, tuple(a.text for a in s.arguments), s.overrides)
                for s in doc.services
                if s.key != key
            ]

        before = whole(self.doc)

        def check(doc: MasterCf) -> str | None:
            service = doc.service(name, type_)
            if service is None:
                return f"uncommenting {key} did not define it"
            if whole(doc) != before:
                return f"enabling {key} would change other services"
            for k in used:
                read = self._override(service, k)
                if read is None or read.value != overrides[k]:
                    return f"{key}: -o {k} did not get its value"
            return None

        with self._atomic():
            self._commit(
                found,
                end,
                new,
                check,
                Change(self.file_label, "enable service", key, None, None, reason),
            )
            for oname in sorted(used):
                self.changes.append(
                    Change(
                        self.file_label, "set", f"{key}: -o {oname}", None, overrides[oname], reason
                    )
                )
            for oname, value in overrides.items():
                if oname not in used:
                    self.set_override(key, oname, value, reason)
        return True
