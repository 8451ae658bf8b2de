"""Fixes of restriction list items, for rules that read the lists through the model
(pfconf.semantics: ``server.restrictions``): the model says where each word is written, and
pflint --fix can edit only what is written literally in main.cf.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..model import Parameter
from ..semantics import Restriction as Listed
from ..semantics import RestrictionList, Written
from .finding import Edit, Fix, RemoveListItem, ReplaceListItem


def written_fix(
    written: Written,
    item: str,
    description: str,
    *,
    replacement: str | None = None,
    safe: bool = True,
) -> Fix:
    """A fix of the list item ``item`` (one or more words) written at ``written``: removed,
    or replaced by ``replacement``.  pflint --fix edits main.cf only, and only words written
    there literally: an item of a master.cf ``-o``, of a default, or produced by expanding
    a ``$name`` expression gets a described fix."""
    origin = written.origin
    if not isinstance(origin, Parameter) or written.span is None:
        return Fix.display_only(description)
    where = (written.span.line, written.span.column)
    edit: Edit = (
        ReplaceListItem(origin.name, item, replacement, *where)
        if replacement is not None
        else RemoveListItem(origin.name, item, *where)
    )
    return Fix.safe(description, edit) if safe else Fix.unsafe(description, edit)


def item_fix(
    restriction: Listed,
    description: str,
    *,
    replacement: str | None = None,
    name_only: bool = False,
    safe: bool = True,
    classes: Iterable[RestrictionList] = (),
) -> Fix:
    """A fix of one restriction of the model (pfconf.semantics), with its argument unless
    ``name_only``: removed, or replaced by ``replacement``.

    The edit is made only where both words are written literally in the same main.cf entry
    (see written_fix), and a removal only where it leaves no restriction class of
    ``classes`` empty (smtpd refuses to start with "restriction class ... needs a
    definition"); otherwise the fix is described, not made.
    """
    written = restriction.written
    item = restriction.name
    if not name_only and restriction.argument is not None:
        second = restriction.argument_written
        if second is None or second.origin != written.origin or second.span is None:
            return Fix.display_only(description)
        item = restriction.text
    if replacement is None and any(
        len(c.items) == 1 and c.items[0].written == written for c in classes
    ):
        return Fix.display_only(description)
    return written_fix(written, item, description, replacement=replacement, safe=safe)
