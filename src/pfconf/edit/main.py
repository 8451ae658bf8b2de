"""Editing main.cf: set, add, unset, comment out, uncomment, rename, and list items.

Style is taken from the file: a changed entry keeps its own spacing around ``=``; a new entry
copies the spacing most entries use; a list laid out one item per line stays that way, with
the indentation and commas of its other lines.  A new parameter goes next to its relatives
(the entries sharing the longest ``a_b_`` prefix, or under a comment that names its topic),
or at the end of the file.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Callable, Sequence

from .. import loads
from ..errors import ParseError
from ..io import LINE_BREAK_LOOKALIKES
from ..model import MainCf, Parameter
from ..syntax.nodes import BlankLine, CommentLine, Entry, MainNode
from ..values import split_list
from .base import Change, EditError, Editor, split_lines


def list_items(value: str) -> list[str]:
    """A list value's items as Postfix splits them (commas and blanks; ``{...}`` whole): two
    values with the same items read the same, however they are laid out."""
    return [token.text for token in split_list(value)]


#: Words in a comment that name the topic of a parameter family.
_TOPICS = {
    "tls": ("tls", "ssl", "starttls"),
    "sasl": ("sasl", "auth"),
    "restrictions": ("restriction", "spam", "relay"),
    "milter": ("milter", "dkim", "opendkim", "rspamd"),
    "virtual": ("virtual",),
    "alias": ("alias",),
}


class MainEditor(Editor[MainCf]):
    """Changes to one main.cf, each verified before it is kept (see pfconf.edit)."""

    kind = "main"
    file_label = "main.cf"

    # -- where things are ----------------------------------------------------------------------

    def _span(self, entry: Parameter) -> tuple[int, int]:
        """0-based [start, end) of the entry's physical lines."""
        start = entry.line - 1
        return start, start + len(split_lines(entry.node.dump()))

    def _style(self) -> tuple[str, str]:
        """The spacing around ``=`` that most entries use (``" = "`` when there are none)."""
        spacing: Counter[tuple[str, str]] = Counter()
        for entry in self.doc.entries:
            node = entry.node
            after = node.after_eq if node.head_value else " "
            # only blanks are style: a "\r" or form feed there is an accident to not copy
            if node.equals and not (node.before_eq + after).strip(" \t"):
                spacing[(node.before_eq, after)] += 1
        return spacing.most_common(1)[0][0] if spacing else (" ", " ")

    # -- operations ----------------------------------------------------------------------------

    def get(self, name: str) -> str | None:
        entry = self.doc.get(name)
        return entry.value if entry is not None else None

    def set(self, name: str, value: str, reason: str = "", secret: bool = False) -> bool:
        """Give ``name`` the value ``value``: in place when it is defined, else as a new entry.

        Returns False (and changes nothing) when the value is already that.
        """
        _check_name(name)
        _check_value(value)
        # Postfix drops the blanks around a value; writing them would only make the file say
        # something else than what is in effect (and than what the report says)
        value = value.strip(" \t")
        entry = self.doc.get(name)
        old = entry.value if entry is not None else None
        if old == value:
            return False
        change = Change(self.file_label, "set", name, old, value, reason, secret)
        if entry is None:
            self._add(name, value, change)
        elif entry.node.continuations and is_list(name):
            self._set_list(entry, value, change)
        else:
            self._set_inline(entry, value, change)
        return True

    def _expect(self, name: str, value: str) -> Callable[[MainCf], str | None]:
        """A check: ``name`` reads ``value`` (a list: the same items, whatever the layout)."""

        def check(doc: MainCf) -> str | None:
            entry = doc.get(name)
            after = entry.value if entry is not None else None
            if after == value:
                return None
            # a list may be laid out anew (one item per line): the same items are the same value
            if after is not None and is_list(name) and list_items(after) == list_items(value):
                return None
            return f"the edit would change {name} in an unintended way"

        return check

    def _unchanged(
        self,
        doc: MainCf,
        before: Sequence[MainNode],
        after: Sequence[MainNode],
        intended: frozenset[str],
    ) -> str | None:
        """Every parameter defined in the lines read again, other than ``intended``, keeps
        its effective value; parameters defined only elsewhere cannot have changed."""
        names = {Parameter(node).name for node in (*before, *after) if isinstance(node, Entry)}
        changed = sorted(
            name for name in names - intended if _value(self.doc.get(name)) != _value(doc.get(name))
        )
        if changed:
            return f"the edit would change {', '.join(changed)} in an unintended way"
        return None

    def _set_inline(self, entry: Parameter, value: str, change: Change) -> None:
        """Rewrite the entry on its head line, keeping its spacing; continuation lines go,
        comment and blank lines among them stay."""
        node = entry.node
        start, end = self._span(entry)
        if not node.equals:
            before_eq, after_eq = self._style()
        else:
            # "name=value" stays unspaced; "name =" with no value gets a blank to match
            before_eq = node.before_eq
            after_eq = node.after_eq or (" " if before_eq else "")
        head = node.name + before_eq + "=" + (after_eq + value if value else "")
        eol = node.eol if node.eol else ("" if end == len(self.lines) else self.eol)
        kept = [n.dump() for n in node.inner if isinstance(n, (CommentLine, BlankLine))]
        new = [head + (eol or (self.eol if kept else ""))] + kept
        self._commit(start, end, new, self._expect(entry.name, value), change, [entry.name])

    def _set_list(self, entry: Parameter, value: str, change: Change) -> None:
        """A multi-line list, rewritten in one go so that its layout and comments stay.

        Items that stay keep their lines as they are.  An item replaced by another takes its
        place; a removed item goes with the separator after it (before it, when it ends its
        line), and its line when that held nothing else.  A new item gets a line of its own in
        the list's indentation and comma style, or joins the line of its neighbour when that
        neighbour shares its line (the head line, say).
        """
        start, end = self._span(entry)
        rows = list(self.lines[start:end])
        tokens = split_list(entry.value)
        old_groups = _groups([t.text for t in tokens])
        new_texts = [text for _, text in _groups(list_items(value))]
        # Token k of the value: (first row, column, last row, end column), 0-based, in rows.
        where = []
        for token in tokens:
            span = entry.item_span(token)
            where.append(
                (span.line - entry.line, span.column - 1, span.end_line - entry.line,
                 span.end_column - 1)
            )  # fmt: skip

        def tokens_of(group: int) -> range:
            first = old_groups[group][0]
            after = old_groups[group + 1][0] if group + 1 < len(old_groups) else len(tokens)
            return range(first, after)

        # What happens on each row: (column, end column, action, new texts), applied from the
        # right so that the columns of what is further left stay valid.
        edits: dict[int, list[tuple[int, int, str, list[str]]]] = {}
        above: dict[int, list[str]] = {}  # new lines before a row
        below: dict[int, list[str]] = {}  # new lines after a row
        across = False  # a removed or replaced item spans lines: not rewritten in place

        def edit(first: int, last: int, action: str, texts: list[str]) -> None:
            """``action`` on tokens first..last (``after``: just after last, else from the
            start of first to the end of last)."""
            nonlocal across
            row, column, _, _ = where[first]
            _, _, last_row, end_column = where[last]
            if action == "after":
                edits.setdefault(last_row, []).append((end_column, end_column, action, texts))
            elif action == "before":
                edits.setdefault(row, []).append((column, column, action, texts))
            elif row != last_row:
                across = True
            else:
                edits.setdefault(row, []).append((column, end_column, action, texts))

        def starts_row(token: int) -> bool:
            row, column, _, _ = where[token]
            return row > 0 and not _cut_eol(rows[row])[0][:column].strip(" \t,")

        def ends_row(token: int) -> bool:
            _, _, row, end_column = where[token]
            return not _cut_eol(rows[row])[0][end_column:].strip(" \t,")

        def insert(texts: list[str], before: int | None, after: int | None) -> None:
            if before is not None and starts_row(before):
                above.setdefault(where[before][0], []).extend(texts)
            elif before is not None:
                edit(before, before, "before", texts)
            elif after is not None and ends_row(after):
                below.setdefault(where[after][2], []).extend(texts)
            elif after is not None:
                edit(after, after, "after", texts)

        if not tokens or len(new_texts) <= 1 or "#" in entry.value or "#" in value:
            # No layout to follow, or none needed: the value goes on the head line.  So it
            # does when a "#" is about: an item that starts a line with "#" would make that
            # line a comment, which Postfix skips, indented or not.
            self._set_inline(entry, value, change)
            return
        for i1, i2, j1, j2 in _differences([text for _, text in old_groups], new_texts):
            replaced = min(i2 - i1, j2 - j1)
            for k in range(replaced):
                group = tokens_of(i1 + k)
                edit(group[0], group[-1], "replace", [new_texts[j1 + k]])
            for group_index in range(i1 + replaced, i2):
                for index in tokens_of(group_index):
                    edit(index, index, "remove", [])
            added = new_texts[j1 + replaced : j2]
            if not added:
                continue
            if replaced:
                insert(added, None, tokens_of(i1 + replaced - 1)[-1])
            elif i1 < len(old_groups):
                insert(added, tokens_of(i1)[0], None)
            else:
                insert(added, None, len(tokens) - 1)
        if across:
            # Rare (an item in braces over several lines): the value goes on the head line.
            self._set_inline(entry, value, change)
            return

        indent = _indent(entry.node)
        trailing = _trailing_commas(rows)
        sep = ", " if "," in entry.value else " "
        old_last = max(r for r, text in enumerate(rows) if r == 0 or _holds_value(text))
        new_rows: list[str] = []
        last_value = -1  # index in new_rows of the last line that holds value text
        for row, line in enumerate(rows):
            for text in above.get(row, []):
                new_rows.append(indent + text + ("," if trailing else "") + self.eol)
                last_value = len(new_rows) - 1
            body, eol = _cut_eol(line)
            removed = False
            for column, end_column, action, texts in sorted(edits.get(row, []), reverse=True):
                if action == "replace":
                    body = body[:column] + texts[0] + body[end_column:]
                elif action == "remove":
                    before, after = _item_cut(body, column, end_column)
                    body = body[:before] + body[after:]
                    removed = True
                elif action == "before":
                    body = body[:column] + sep.join([*texts, ""]) + body[column:]
                else:
                    body = body[:column] + sep + sep.join(texts) + body[column:]
            if row > 0 and removed and not body.strip(" \t,"):
                continue  # the line held only removed items
            more = below.get(row, [])
            if more and trailing and not body.rstrip().endswith(","):
                stripped = body.rstrip()
                body = stripped + "," + body[len(stripped) :]
            new_rows.append(body + (eol or (self.eol if more else "")))
            if row == 0 or _holds_value(new_rows[-1]):
                last_value = len(new_rows) - 1
            for k, text in enumerate(more):
                follows = k + 1 < len(more) or row != old_last
                ending = eol if k + 1 == len(more) else (eol or self.eol)
                new_rows.append(indent + text + ("," if trailing and follows else "") + ending)
                last_value = len(new_rows) - 1
        # The line now last keeps no comma that separated it from what came after it (unless
        # it is the old last line, untouched).
        if new_rows[last_value] != rows[old_last]:
            body, eol = _cut_eol(new_rows[last_value])
            stripped = body.rstrip()
            if stripped.endswith(","):
                new_rows[last_value] = stripped[:-1] + body[len(stripped) :] + eol
        self._commit(start, end, new_rows, self._expect(entry.name, value), change, [entry.name])

    def _add(self, name: str, value: str, change: Change) -> None:
        before_eq, after_eq = self._style()
        line = name + before_eq + "=" + (after_eq + value if value else "") + self.eol
        at = self._place(name)
        self._commit(at, at, [line], self._expect(name, value), change, [name])

    def _place(self, name: str) -> int:
        """The 0-based line before which a new ``name`` entry goes."""
        entries = self.doc.entries
        lines = self.lines
        # 1. Right after a commented-out definition of the same name ("#name = ...").
        #    When more comment follows it, after the end of that comment block instead.
        pattern = re.compile(r"#\s*" + re.escape(name) + r"\s*=")
        for node in reversed(self.doc.nodes):
            if isinstance(node, CommentLine) and pattern.match(node.text.lstrip()):
                after = node.line  # 0-based index of the line after it
                while after < len(lines) and lines[after].lstrip().startswith("#"):
                    after += 1
                return after
        # 2. After the last entry of the closest family sharing two or more words
        #    (smtpd_tls_*), 3. under a comment naming the topic, 4. after the last entry
        #    sharing the first word (smtpd_*).
        words = name.split("_")
        for size in range(len(words) - 1, 1, -1):
            prefix = "_".join(words[:size]) + "_"
            family = [e for e in entries if e.name.startswith(prefix)]
            if family:
                return self._span(family[-1])[1]
        topics = [t for t, keys in _TOPICS.items() if any(k in name for k in (t, *keys))]
        for node in self.doc.nodes:
            if not isinstance(node, CommentLine):
                continue
            text = node.text.lower()
            if any(k in text for t in topics for k in _TOPICS[t]):
                last = None
                for entry in entries:
                    if entry.line > node.line:
                        gap = lines[(last or node.line) : entry.line - 1]
                        if last is not None and any(not g.strip() for g in gap):
                            break
                        last = self._span(entry)[1]
                if last is not None:
                    return last
        if len(words) > 1:
            family = [e for e in entries if e.name.startswith(words[0] + "_")]
            if family:
                return self._span(family[-1])[1]
        # 4. At the end of the file.
        return len(lines)

    def unset(self, name: str, reason: str = "") -> bool:
        """Remove every definition of ``name`` (like postconf -X); False if there is none."""
        definitions = self.doc.definitions(name)
        if not definitions:
            return False
        old = definitions[-1].value
        for _ in definitions:
            start, end = self._span(self.doc.definitions(name)[-1])
            self._commit(start, end, [], self._expect_removed(name, start + 1), None, [name])
        self.changes.append(Change(self.file_label, "unset", name, old, None, reason))
        return True

    def _expect_removed(self, name: str, line: int) -> Callable[[MainCf], str | None]:
        """A check: the definition of ``name`` on ``line`` is gone, the one before it (if any)
        takes effect."""
        remaining = [e for e in self.doc.definitions(name) if e.line != line]
        wanted = remaining[-1].value if remaining else None

        def check(doc: MainCf) -> str | None:
            if _value(doc.get(name)) != wanted:
                return f"removing {name} would change other parameters"
            return None

        return check

    def comment(self, name: str, reason: str = "") -> bool:
        """Comment out every definition of ``name`` with a ``#`` before each of its lines.

        Like postconf -#, with two differences that let :meth:`uncomment` give back exactly
        what was there: a comment or blank line inside the entry gets its ``#`` too (``#
        note`` becomes ``## note``), and a line above says how many lines pfedit commented
        out (``# pfedit: commented out relayhost (1 line below)``).  Without it, a comment
        that happens to follow the entry could not be told from the entry's own lines.
        """
        definitions = self.doc.definitions(name)
        if not definitions:
            return False
        old = definitions[-1].value
        for _ in definitions:
            entry = self.doc.definitions(name)[-1]
            start, end = self._span(entry)
            block = ["#" + line for line in self.lines[start:end]]
            if not block[-1].endswith("\n"):
                block[-1] += self.eol if end < len(self.lines) else ""
            new = [_marker(name, len(block)) + self.eol, *block]
            self._commit(start, end, new, self._expect_removed(name, start + 1), None, [name])
        self.changes.append(Change(self.file_label, "comment out", name, old, None, reason))
        return True

    def commented(self, name: str) -> list[int]:
        """The 1-based lines of the commented-out definitions of ``name`` (``#name = ...``)."""
        head = re.compile(r"#\s*" + re.escape(name) + r"\s*=")
        return [index + 1 for index, line in enumerate(self.lines) if head.match(line)]

    def uncomment(self, name: str, reason: str = "", line: int | None = None) -> bool:
        """Turn a commented-out definition of ``name`` back into an entry.

        Which one: the one on ``line``; else the one pfedit commented out last (it left a
        marker line); else the only one.  When there are several and nothing says which,
        EditError names their lines.  False when there is none or ``name`` is defined.

        What pfedit commented out comes back byte for byte: the marker says how many lines.
        Elsewhere (the stock main.cf's examples, postconf -#) the head line ``#name = ...``
        loses its ``#`` and the blanks after it, and the lines after it that continue it
        (see :func:`_continues`) lose one ``#`` each.
        """
        if self.doc.get(name) is not None:
            return False
        heads = self.commented(name)
        if not heads:
            return False
        lines = self.lines
        marked = [h for h in heads if h >= 2 and _marked_count(lines[h - 2], name) is not None]
        if line is not None:
            if line not in heads:
                raise EditError(f"line {line} is not a commented-out definition of {name}")
            found = line - 1
        elif marked:
            found = marked[-1] - 1
        elif len(heads) == 1:
            found = heads[0] - 1
        else:
            listed = ", ".join(str(h) for h in heads)
            raise EditError(
                f"{name} is commented out {len(heads)} times (lines {listed}); say which line"
            )
        count = _marked_count(lines[found - 1], name) if found >= 1 else None
        block = lines[found : found + count] if count else []
        if count and len(block) == count and all(b.startswith("#") for b in block):
            start, end = found - 1, found + count
            restored = [b[1:] for b in block]
        else:
            start, end, restored = found, *self._commented_extent(name, found)
        # what the restored lines say on their own (comment lines inside them are skipped,
        # as Postfix skips them); in the file they must say the same
        try:
            alone = loads("".join(restored), "main").get(name)
        except ParseError as exc:
            raise EditError(f"uncommenting {name} would not parse: {exc}") from None
        value = alone.value if alone is not None else ""

        def check(doc: MainCf) -> str | None:
            entry = doc.get(name)
            if entry is None or entry.value != value:
                return f"uncommenting {name} would not define it as written"
            return None

        self._commit(
            start, end, restored, check,
            Change(self.file_label, "uncomment", name, None, value, reason),
            [name],
        )  # fmt: skip
        return True

    def _commented_extent(self, name: str, found: int) -> tuple[int, list[str]]:
        """For a commented definition without pfedit's marker: where it ends (0-based,
        exclusive) and its lines without their ``#``."""
        lines = self.lines
        restored = [re.sub(r"^#\s*", "", lines[found])]
        end = found + 1
        pending: list[str] = []  # "#" lines, kept only if a continuation follows them
        for index in range(found + 1, len(lines)):
            body = lines[index][1:]
            if not lines[index].startswith("#") or _marked_count(lines[index], None):
                break
            if not body.strip():
                pending.append(body)
            elif _continues(name, restored, body):
                restored += [*pending, body]
                pending = []
                end = index + 1
            else:
                break
        return end, restored

    def rename(self, old: str, new: str, value: str | None = None, reason: str = "") -> bool:
        """Rename the effective definition of ``old`` in place (its value kept, or ``value``)."""
        _check_name(new)
        entry = self.doc.get(old)
        if entry is None:
            return False
        if self.doc.get(new) is not None:
            raise EditError(f"cannot rename {old} to {new}: {new} is already defined")
        node = entry.node
        start, _ = self._span(entry)
        head = self.lines[start]
        if not head.startswith(node.name):
            raise EditError(f"{old}: the entry does not start with its name")
        new_head = new + head[len(node.name) :]
        kept_value = entry.value

        earlier = self.doc.definitions(old)[:-1]

        def check(doc: MainCf) -> str | None:
            renamed = doc.get(new)
            still = doc.get(old)
            if renamed is None or renamed.value != kept_value:
                return f"renaming {old} to {new} did not keep its value"
            if (still.value if still else None) != (earlier[-1].value if earlier else None):
                return f"renaming {old} to {new} changed {old}'s earlier definitions"
            return None

        if value is not None:
            _check_value(value)
        with self._atomic():
            self._commit(start, start + 1, [new_head], check, None, [old, new])
            if value is not None and self.set(new, value, reason):
                self.changes.pop()  # reported as part of the rename
        shown = new if value is None else f"{new} = {value}"
        self.changes.append(Change(self.file_label, "rename", old, kept_value, shown, reason))
        return True

    # -- list items ----------------------------------------------------------------------------

    def _find_item(
        self, name: str, item: str, at: tuple[int, int] | None
    ) -> tuple[int, int] | None:
        """(token index, token count) of ``item`` in the list ``name``: the first occurrence,
        or the one whose first word starts at ``at`` = (line, column)."""
        entry = self.doc.get(name)
        if entry is None:
            return None
        words = [w.lower() for w in list_items(item)]
        tokens = split_list(entry.value)
        items = [t.text.lower() for t in tokens]
        for index in range(len(items) - len(words) + 1):
            if items[index : index + len(words)] != words:
                continue
            if at is not None:
                span = entry.item_span(tokens[index])
                if (span.line, span.column) != at:
                    continue
            return index, len(words)
        return None

    def list_remove(
        self, name: str, item: str, reason: str = "", at: tuple[int, int] | None = None
    ) -> bool:
        """Remove one item (``reject_rbl_client zone`` counts as one) from a list value: the
        first occurrence, or the one starting at ``at`` = (line, column)."""
        found = self._find_item(name, item, at)
        if found is None:
            return False
        index, count = found
        with self._atomic():
            for k in reversed(range(index, index + count)):
                self._list_remove_at(name, k, None)
        self.changes.append(Change(self.file_label, "remove", name, None, item, reason))
        return True

    def list_replace(
        self,
        name: str,
        item: str,
        replacement: str,
        reason: str = "",
        at: tuple[int, int] | None = None,
    ) -> bool:
        """Replace one item in place (a renamed restriction, a zone with a result filter)."""
        found = self._find_item(name, item, at)
        if found is None:
            return False
        index, count = found
        with self._atomic():
            for k in reversed(range(index, index + count)):
                self._list_remove_at(name, k, None)
            self._list_insert_at(name, index, replacement, None)
        self.changes.append(Change(self.file_label, "replace", name, item, replacement, reason))
        return True

    def remove_definition(self, name: str, line: int, reason: str = "") -> bool:
        """Remove the one definition of ``name`` that starts on ``line`` (an earlier duplicate)."""
        for entry in self.doc.definitions(name):
            if entry.line != line:
                continue
            start, end = self._span(entry)
            self._commit(start, end, [], self._expect_removed(name, line), None, [name])
            self.changes.append(
                Change(self.file_label, "remove duplicate", name, entry.value, None, reason)
            )
            return True
        return False

    def list_add(
        self,
        name: str,
        item: str,
        *,
        after: str | None = None,
        before: str | None = None,
        reason: str = "",
    ) -> bool:
        """Add an item to a list value (at the end, or after/before an existing item)."""
        entry = self.doc.get(name)
        if entry is None:
            self.set(name, item, reason)
            return True
        items = list_items(entry.value)
        words = list_items(item)
        lowered = [w.lower() for w in items]
        for index in range(len(items) - len(words) + 1):
            if lowered[index : index + len(words)] == [w.lower() for w in words]:
                return False
        position = len(items)
        if after is not None and after.lower() in lowered:
            position = lowered.index(after.lower()) + 1
            # keep a restriction's argument with it
            while position < len(items) and _is_argument(items, position):
                position += 1
        elif before is not None and before.lower() in lowered:
            position = lowered.index(before.lower())
        if len(words) == 1:
            self._list_insert_at(name, position, item, None)
        else:
            self._list_insert_at(name, position, " ".join(words), None)
        self.changes.append(Change(self.file_label, "add", name, None, item, reason))
        return True

    def _list_remove_at(self, name: str, index: int, change: Change | None) -> None:
        entry = self.doc.get(name)
        assert entry is not None
        tokens = split_list(entry.value)
        items = [t.text for t in tokens]
        token = tokens[index]
        span = entry.item_span(token)
        start, end = self._span(entry)
        lines = self.lines[start:end]
        row = span.line - entry.line
        line = lines[row]
        body, eol = _cut_eol(line)
        col = span.column - 1
        col_end = span.end_column - 1
        before, after = _item_cut(body, col, col_end)
        rest = body[:before] + body[after:] if after < len(body) else body[:before]
        new_lines = list(lines)
        if row > 0 and not rest.strip(" \t,"):
            del new_lines[row]  # the item had the line to itself
        else:
            new_lines[row] = rest + eol
        remaining = items[:index] + items[index + 1 :]
        if index == len(items) - 1 and remaining:
            # The last item went: the one now last keeps no comma that separated them.
            last = max(
                r for r, text in enumerate(new_lines)
                if r == 0 or (text.strip() and not text.lstrip().startswith("#"))
            )  # fmt: skip
            body_last, eol_last = _cut_eol(new_lines[last])
            stripped = body_last.rstrip()
            if stripped.endswith(","):
                new_lines[last] = stripped[:-1] + body_last[len(stripped) :] + eol_last
        text = "".join(new_lines)
        expected = remaining

        def check(doc: MainCf) -> str | None:
            found = doc.get(name)
            value = found.value if found else ""
            if list_items(value) != expected:
                return f"{name}: removing {token.text} would not leave the intended list"
            return None

        self._commit(start, end, split_lines(text), check, change, [name])

    def _list_insert_at(self, name: str, index: int, item: str, change: Change | None) -> None:
        entry = self.doc.get(name)
        assert entry is not None
        tokens = split_list(entry.value)
        items = [t.text for t in tokens]
        start, end = self._span(entry)
        lines = self.lines[start:end]
        node = entry.node
        expected = items[:index] + list_items(item) + items[index:]
        comma = "," in entry.value
        per_line = len(node.continuations) > 0
        new_lines = list(lines)
        if per_line:
            indent = _indent(node)
            trailing = _trailing_commas(lines)
            if index < len(tokens):
                # before the item at ``index``: a new line above that item's line when it
                # starts its line, else on that line before it
                span = entry.item_span(tokens[index])
                row = span.line - entry.line
                body, eol = _cut_eol(lines[row])
                col = span.column - 1
                if row > 0 and not body[:col].strip(" \t,"):
                    new = indent + item + ("," if trailing else "") + (eol or self.eol)
                    new_lines.insert(row, new)
                else:
                    sep = ", " if comma else " "
                    new_lines[row] = body[:col] + item + sep + body[col:] + eol
            else:
                # after the last item: its line gets a comma if the style wants one, and the
                # new item a line of its own
                last_row = _last_value_row(node)
                body, eol = _cut_eol(new_lines[last_row])
                if trailing and not body.rstrip().endswith(","):
                    stripped = body.rstrip()
                    body = stripped + "," + body[len(stripped) :]
                new_lines[last_row] = body + (eol or self.eol)
                new = indent + item + (eol if eol else "")
                new_lines.insert(last_row + 1, new)
        else:
            body, eol = _cut_eol(new_lines[0])
            if index < len(tokens):
                span = entry.item_span(tokens[index])
                col = span.column - 1
                sep = ", " if comma else " "
                new_lines[0] = body[:col] + item + sep + body[col:] + eol
            elif not tokens:
                before_eq, after_eq = (node.before_eq, node.after_eq or " ")
                new_lines[0] = node.name + before_eq + "=" + after_eq + item + eol
            else:
                span = entry.item_span(tokens[-1])
                col = span.end_column - 1
                sep = ", " if comma else " "
                new_lines[0] = body[:col] + sep + item + body[col:] + eol

        def intended(doc: MainCf) -> str | None:
            entry = doc.get(name)
            if entry is not None and list_items(entry.value) == expected:
                return None
            return f"{name}: adding {item} would not give the intended list"

        self._commit(start, end, split_lines("".join(new_lines)), intended, change, [name])


def _item_cut(body: str, column: int, end_column: int) -> tuple[int, int]:
    """What to cut to remove the item at [column, end_column) of a line: the item and the
    separator after it (", " or blanks), or the one before it when it is last on its line."""
    after = end_column
    while after < len(body) and body[after] in " \t,":
        after += 1
    before = column
    if after == len(body):
        while before > 0 and body[before - 1] in " \t,":
            before -= 1
    return before, after


def is_list(name: str) -> bool:
    """Whether ``name`` holds a list (so a multi-line value is laid out item by item).

    Only the knowledge base says so.  A parameter it does not know (one of the
    administrator's own, used through $name) is text: its value is written as given, commas
    and all, because pfedit cannot know how it will be read.
    """
    from ..kb import KnowledgeBase

    info = KnowledgeBase().parameter(name) or {}
    return info.get("kind") in ("list", "restriction_list", "table_list")


# The name is any text: Postfix names may hold characters that Python's \S refuses (\x1c-\x1f
# count as whitespace to it, not to Postfix).
_MARKER = re.compile(r"# pfedit: commented out (.+?) \((\d+) lines? below\)\r?\n?$")


def _marker(name: str, count: int) -> str:
    return f"# pfedit: commented out {name} ({count} line{'s' if count != 1 else ''} below)"


def _marked_count(line: str, name: str | None) -> int | None:
    """How many lines pfedit's marker ``line`` says it commented out (of ``name``; of any
    parameter when None), or None when the line is no such marker."""
    match = _MARKER.match(line)
    if match is None or (name is not None and match.group(1) != name):
        return None
    return int(match.group(2))


def _continues(name: str, restored: list[str], body: str) -> bool:
    """Whether the commented line ``#BODY`` after ``#name = ...`` continues that entry.

    A continuation starts with blanks.  A tab or two blanks is never prose; one blank is
    prose too ("# See the manual"), so it counts only where the entry clearly goes on: the
    line before ends with a comma, or every word of it reads as an item of this parameter's
    list (a restriction, or a word with ``.``, ``:``, ``/``, ``$``, ``[`` or a digit in it,
    like domains, networks and tables).
    """
    if not body[:1].isspace() or not body.strip():
        return False
    if body.startswith(("\t", "  ")) or body[1:2] == "\t":
        return True
    if restored[-1].rstrip().endswith(","):
        return True
    from ..kb import KnowledgeBase

    kb = KnowledgeBase()
    kind = (kb.parameter(name) or {}).get("kind")
    if kind not in ("list", "restriction_list", "table_list"):
        return False
    words = [w.text for w in split_list(body)]
    return bool(words) and all(
        kb.restriction(w) is not None or re.search(r"[.:/$\[0-9]", w) for w in words
    )


def _holds_value(line: str) -> bool:
    """Whether a line of an entry holds value text (not a comment or blank line)."""
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _differences(old: list[str], new: list[str]) -> list[tuple[int, int, int, int]]:
    """Where two lists differ: (i1, i2, j1, j2) for each stretch old[i1:i2] that becomes
    new[j1:j2], like the non-equal opcodes of difflib.SequenceMatcher.

    Equal items at both ends match, then, in between, the items both lists hold exactly once
    when they keep their order (the longest run of them that does), then equal items at
    either end of the stretches between those.  SequenceMatcher finds more matches among
    repeated items but can take time quadratic in the length of the lists (with every other
    item changed, say); this takes n log n.
    """
    pairs: list[tuple[int, int]] = []

    def trim(i1: int, i2: int, j1: int, j2: int) -> tuple[int, int, int, int]:
        """Match equal items at both ends of a stretch; what is left in between."""
        while i1 < i2 and j1 < j2 and old[i1] == new[j1]:
            pairs.append((i1, j1))
            i1, j1 = i1 + 1, j1 + 1
        tail = []
        while i2 > i1 and j2 > j1 and old[i2 - 1] == new[j2 - 1]:
            i2, j2 = i2 - 1, j2 - 1
            tail.append((i2, j2))
        pairs.extend(reversed(tail))
        return i1, i2, j1, j2

    i1, i2, j1, j2 = trim(0, len(old), 0, len(new))
    in_old = Counter(old[i1:i2])
    in_new = Counter(new[j1:j2])
    position = {new[j]: j for j in range(j1, j2) if in_new[new[j]] == 1}
    unique = [
        (i, position[old[i]]) for i in range(i1, i2) if in_old[old[i]] == 1 and old[i] in position
    ]
    # Patience sorting; the stretches between anchors hold no more such items, or the run
    # would be longer, so each is only trimmed (no recursion: no quadratic worst case).
    for i, j in [*_increasing(unique), (i2, j2)]:
        trim(i1, i, j1, j)
        if i < i2:
            pairs.append((i, j))
        i1, j1 = i + 1, j + 1
    pairs.sort()
    result = []
    i = j = 0
    for a, b in [*pairs, (len(old), len(new))]:
        if a > i or b > j:
            result.append((i, a, j, b))
        i, j = a + 1, b + 1
    return result


def _increasing(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest subsequence of ``pairs`` (sorted by the first) increasing in the second."""
    tops: list[int] = []  # the second of the last pair of the best run of each length
    ends: list[int] = []  # the index in pairs of that pair
    back: list[int] = []
    for index, (_, j) in enumerate(pairs):
        length = bisect.bisect_left(tops, j)
        if length == len(tops):
            tops.append(j)
            ends.append(index)
        else:
            tops[length] = j
            ends[length] = index
        back.append(ends[length - 1] if length else -1)
    run = []
    index = ends[-1] if ends else -1
    while index >= 0:
        run.append(pairs[index])
        index = back[index]
    return run[::-1]


def _groups(items: list[str]) -> list[tuple[int, str]]:
    """Items with a restriction's argument joined to it: (index of the first token, text)."""
    groups: list[tuple[int, str]] = []
    i = 0
    while i < len(items):
        if i + 1 < len(items) and _is_argument(items, i + 1):
            groups.append((i, f"{items[i]} {items[i + 1]}"))
            i += 2
        else:
            groups.append((i, items[i]))
            i += 1
    return groups


def _value(entry: Parameter | None) -> str | None:
    return entry.value if entry is not None else None


def _cut_eol(line: str) -> tuple[str, str]:
    if line.endswith("\r\n"):
        return line[:-2], "\r\n"
    if line.endswith("\n"):
        return line[:-1], "\n"
    return line, ""


def _indent(node: Entry) -> str:
    counts: Counter[str] = Counter(c.indent for c in node.continuations)
    return counts.most_common(1)[0][0] if counts else "    "


def _trailing_commas(lines: list[str]) -> bool:
    """Whether a list's value lines end with a comma (all but the last one)."""
    bodies = [
        _cut_eol(line)[0].rstrip()
        for line in lines
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if len(bodies) < 2:
        return True
    return sum(b.endswith(",") for b in bodies[:-1]) * 2 >= len(bodies) - 1


def _last_value_row(node: Entry) -> int:
    """The entry's last physical line that holds value text (row 0 is the head line; row k
    is ``node.inner[k - 1]``, each inner node being one line)."""
    row = len(node.inner)
    while row > 0 and isinstance(node.inner[row - 1], (CommentLine, BlankLine)):
        row -= 1
    return row


def _is_argument(items: list[str], position: int) -> bool:
    """Whether items[position] is the argument of the restriction before it."""
    from ..kb import KnowledgeBase

    info = KnowledgeBase().restriction(items[position - 1]) if position > 0 else None
    return info is not None and info.get("argument", "none") != "none"


_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise EditError(f"{name!r} is not a parameter name")


def _check_value(value: str) -> None:
    if "\n" in value:
        raise EditError("a value must be one line")
    if "\x00" in value:
        raise EditError("a value cannot hold a NUL byte (Postfix ends the line there)")
    lookalike = next((c for c in value if c in LINE_BREAK_LOOKALIKES), None)
    if lookalike is not None:
        raise EditError(
            f"the value holds U+{ord(lookalike):04X}, which many programs show as a line "
            "break but Postfix keeps in the value; write it without"
        )
