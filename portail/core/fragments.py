"""Fragments of pages rendered once per process for the same inputs ("render-once").

A fragment that depends only on a few values (the catalogue's démarches, not the person) is
rendered the first time and kept, under a key that holds every value its template reads: an
edited démarche makes a new key, never a stale page. Bounded: the oldest keys go first.
"""

from collections import OrderedDict
from collections.abc import Callable, Hashable
from threading import Lock
from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import SafeString

# A few hundred tiles and lists of démarches, a kilobyte or so each.
MAX_FRAGMENTS = 1024
_rendered: OrderedDict[tuple[str, Hashable], SafeString] = OrderedDict()
_lock = Lock()


def render_once(
    template_name: str,
    key: Hashable,
    context: dict[str, Any] | Callable[[], dict[str, Any]],
) -> SafeString:
    """`template_name` rendered with `context`, or the same rendering kept for `key`.

    `key` must hold every value of `context` the template reads (no request, no person);
    `context` may be a function, then called only when the rendering is not kept."""
    cache_key = (template_name, key)
    with _lock:
        html = _rendered.get(cache_key)
        if html is not None:
            _rendered.move_to_end(cache_key)
            return html
    html = SafeString(render_to_string(template_name, context() if callable(context) else context))
    with _lock:
        _rendered[cache_key] = html
        while len(_rendered) > MAX_FRAGMENTS:
            _rendered.popitem(last=False)
    return html
