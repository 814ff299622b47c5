"""An email rendered once per process with marks in place of its changing values, then filled in.

A login from a new browser queues an email whose three templates (subject, text, HTML) cost more
than the rest of the login's writes: yet only a handful of values change from one to the next
(the person's name, the browser, the time, the address). `render_kept(template, constants,
values)` renders the three once for the `constants` (and the settings `render_email` adds), with a
mark in place of each of the `values`, and keeps the pieces between the marks; each call joins
them with its values, escaped where the template escaped the mark (`portail.core.marked`).

A value must be shown as it is (`{{ name }}`: no filter, no `{% if %}` on it; the caller formats
it first): the mark is a string, so a filter would see the mark, not the value. The first call of
each kept email compares the joined result with `render_email`'s and renders in full from then on
should they differ (logged). With the template engine's `debug` on, nothing is kept.
`tests/notifications/test_kept_email.py` compares both renderings byte for byte.
"""

import logging
from collections.abc import Hashable, Mapping
from threading import Lock
from typing import Any

from django.conf import settings
from django.template import engines

from portail.core.marked import Pieces, join, marks, pieces
from portail.notifications.emails import render_email, rendered_parts, trimmed

logger = logging.getLogger(__name__)

MAX_KEPT = 64
_kept: dict[Hashable, tuple[Pieces, ...] | None] = {}  # None: rendered in full (they differed)
_lock = Lock()


def forget() -> None:
    with _lock:
        _kept.clear()


def render_kept(
    template: str, constants: Mapping[str, Hashable], values: Mapping[str, str]
) -> tuple[str, str, str]:
    """`render_email(template, {**constants, **values})`: (subject, text, html)."""
    if engines["django"].engine.debug:  # type: ignore[attr-defined]  # DjangoTemplates' engine
        return render_email(template, {**constants, **values})
    names = sorted(values)
    key = (
        template,
        tuple(sorted(constants.items())),
        tuple(names),
        settings.SERVICE_NAME,
        settings.PORTAL_BASE_URL,
        settings.EMAIL_SUBJECT_PREFIX,
    )
    ordered = [values[name] for name in names]
    with _lock:
        known = key in _kept
        kept = _kept.get(key)
    if known and kept is None:
        return render_email(template, {**constants, **values})
    if kept is not None:
        subject, text, html = (join(part, ordered) for part in kept)
        return trimmed(subject, text, html)
    marked: dict[str, Any] = marks(names)
    # Untrimmed: the marks' pieces are joined first, then trimmed as render_email trims.
    raw = rendered_parts(template, {**constants, **marked})
    kept_parts = tuple(pieces(part) for part in raw)
    joined = trimmed(*(join(part, ordered) for part in kept_parts))
    full = render_email(template, {**constants, **values})
    if joined != full:
        logger.warning("Email %s: its kept rendering differs, rendered in full", template)
        pieces_or_none: tuple[Pieces, ...] | None = None
    else:
        pieces_or_none = kept_parts
    with _lock:
        if len(_kept) >= MAX_KEPT:  # bounded: a few emails use it, this never happens
            _kept.clear()
        _kept[key] = pieces_or_none
    return full
