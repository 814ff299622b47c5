"""Text rendered once with a mark in place of each changing value, then filled in.

A template whose output differs from one person to the next only by a few values (an email at
each login, "Mon compte") is rendered once with marks (`marks(names)`) in place of those values;
`pieces(rendered)` keeps the text between the marks, and `join(pieces, values)` writes each value
where its mark was, escaped where the template escaped the mark (a mark holds an "&": found as
"&amp;", the template escaped it).

A value must be shown as it is (no filter, no `{% if %}` on it: the filter would see the mark):
the callers render in full the first time too and keep the pieces only if both agree.
"""

import html
import re
from collections.abc import Iterable, Sequence

# Letters and digits around the value's number, and an "&" that escaping turns into "&amp;".
_MARK = "keptmark{}&x"
_SPLIT = re.compile(r"keptmark(\d+)(&amp;|&)x")

# The literal pieces, and between two of them (number of the value, escaped or not).
Pieces = tuple[tuple[str, ...], tuple[tuple[int, bool], ...]]


def marks(names: Iterable[str]) -> dict[str, str]:
    """A mark for each name, numbered in the order given (the order of `join`'s values)."""
    return {name: _MARK.format(number) for number, name in enumerate(names)}


def pieces(rendered: str) -> Pieces:
    parts = _SPLIT.split(rendered)
    texts = tuple(parts[0::3])
    holes = tuple(
        (int(number), escaped == "&amp;")
        for number, escaped in zip(parts[1::3], parts[2::3], strict=True)
    )
    return texts, holes


def join(kept: Pieces, values: Sequence[str]) -> str:
    """The text with `values` in place of the marks (`conditional_escape` where escaped: a safe
    value as it is, any other escaped as Django's `escape` does)."""
    texts, holes = kept
    out = [texts[0]]
    for (number, escaped), text in zip(holes, texts[1:], strict=True):
        value = values[number]
        if escaped:
            value = value.__html__() if hasattr(value, "__html__") else html.escape(str(value))
        out.append(value)
        out.append(text)
    return "".join(out)
