"""`{% url %}` with its answers kept: a template builtin (settings.TEMPLATES, "builtins") that
replaces Django's tag.

Reversing a URL name walks the URL resolver and quotes each argument: a tenth of a light page's
time, for answers that do not change while a process runs. The same arguments (names, strings and
numbers; anything else is reversed as Django does), the same URL configuration, script prefix and
current application give the same URL: kept in a bounded cache (the header's and footer's links,
and the rows a page shows again). A name that does not reverse raises as before.
"""

import html
from functools import lru_cache
from typing import Any

from django import template
from django.template.base import Parser, Token
from django.template.context import Context
from django.template.defaulttags import URLNode
from django.template.defaulttags import url as django_url
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape

register = template.Library()
SIMPLE = (str, int)


Key = tuple[str, tuple[Any, ...], tuple[tuple[str, Any], ...], str | None, str, str | None]


@lru_cache(maxsize=4096)
def _reversed(key: Key) -> str:
    """`reverse`, kept per (name, arguments, application, script prefix, URL configuration)."""
    view_name, args, kwargs, current_app, _prefix, urlconf = key
    return reverse(
        view_name, urlconf=urlconf, args=args, kwargs=dict(kwargs), current_app=current_app
    )


def cached_reverse(
    view_name: str, args: list[Any], kwargs: dict[str, Any], current_app: str | None
) -> str:
    urlconf = get_urlconf()
    if (
        isinstance(view_name, str)
        and isinstance(current_app, str | None)
        and isinstance(urlconf, str | None)
        and all(type(arg) in SIMPLE for arg in args)
        and all(type(value) in SIMPLE for value in kwargs.values())
    ):
        return _reversed(
            (
                view_name,
                tuple(args),
                tuple(sorted(kwargs.items())),
                current_app,
                get_script_prefix(),
                urlconf,
            )
        )
    return reverse(view_name, args=args, kwargs=kwargs, current_app=current_app)


class CachedURLNode(URLNode):
    def render(self, context: Context) -> str:
        # URLNode.render, with cached_reverse.
        args = [arg.resolve(context) for arg in self.args]
        kwargs = {k: v.resolve(context) for k, v in self.kwargs.items()}
        view_name = self.view_name.resolve(context)
        try:
            current_app = context.request.current_app  # type: ignore[attr-defined]
        except AttributeError:
            try:
                current_app = context.request.resolver_match.namespace  # type: ignore[attr-defined]
            except AttributeError:
                current_app = None
        url = ""
        try:
            url = cached_reverse(view_name, args, kwargs, current_app)
        except NoReverseMatch:
            if self.asvar is None:
                raise
        if self.asvar:
            context[self.asvar] = url
            return ""
        if not context.autoescape:
            return url
        # conditional_escape of reverse()'s plain str, without escape()'s lazy-argument wrapper.
        return html.escape(url) if type(url) is str else str(conditional_escape(url))


@register.tag
def url(parser: Parser, token: Token) -> CachedURLNode:
    node = django_url(parser, token)
    return CachedURLNode(node.view_name, node.args, node.kwargs, node.asvar)
