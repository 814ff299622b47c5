"""`{% once [value …] %}…{% endonce %}`: a part of the page frame rendered once per process for
each combination of the values named, then written as kept.

The frame (DSFR's stylesheets and favicons, the menu, the footer) is the same on every page but
cost a template's rendering each time. What the part shows must depend only on the settings
(constant while the process runs) and on the values named in the tag: never a nonce, a CSRF
token, a person's name or messages (those stay outside). A `{% block %}` (or `{% csrf_token %}`)
inside is refused: a child template could change what it renders without changing the key. The
key is the tag's place (template and tokens after it), so a template parsed again keeps its parts.

With the template engine's `debug` on (development), nothing is kept: an edited template shows.
`tests/core/test_frame_once.py` compares pages rendered with and without it, byte for byte
apart from nonces and tokens.
"""

from collections.abc import Hashable
from threading import Lock

from django import template
from django.template.base import FilterExpression, Node, NodeList, Parser, Token
from django.template.context import Context
from django.template.defaulttags import CsrfTokenNode
from django.template.loader_tags import BlockNode
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from dsfr.templatetags.dsfr_tags import dsfr_js

register = template.Library()

MAX_PARTS = 512
ENABLED = True  # tests turn it off to compare
_kept: dict[Hashable, SafeString] = {}
_lock = Lock()


def forget() -> None:
    with _lock:
        _kept.clear()


class OnceNode(Node):
    def __init__(self, nodelist: NodeList, values: list[FilterExpression], place: Hashable):
        self.nodelist = nodelist
        self.values = values
        self.place = place

    def render(self, context: Context) -> SafeString:
        if not ENABLED or context.template is None or context.template.engine.debug:
            return mark_safe(self.nodelist.render(context))  # noqa: S308 (a template's output)
        key = (self.place, *(value.resolve(context, ignore_failures=True) for value in self.values))
        html = _kept.get(key)
        if html is None:
            html = mark_safe(self.nodelist.render(context))  # noqa: S308 (a template's output)
            with _lock:
                if len(_kept) >= MAX_PARTS:  # bounded: variants are few, this never happens
                    _kept.clear()
                _kept[key] = html
        return html


@register.tag
def once(parser: Parser, token: Token) -> OnceNode:
    # Its place: the template and the tokens left after it (outside debug, tokens carry no
    # position), the same each time the template is parsed.
    origin = parser.origin.name if parser.origin is not None else None
    place = (origin, len(parser.tokens), token.contents)
    values = [parser.compile_filter(bit) for bit in token.split_contents()[1:]]
    nodelist = parser.parse(("endonce",))
    parser.delete_first_token()
    if nodelist.get_nodes_by_type(BlockNode) or nodelist.get_nodes_by_type(CsrfTokenNode):
        raise template.TemplateSyntaxError("{% once %} cannot hold a {% block %} or a token.")
    return OnceNode(nodelist, values, place)


# What `dsfr_js_once` renders in place of the nonce, then replaces (letters only: escaping
# leaves it as it is, and no nonce or URL of DSFR's scripts contains it).
NONCE_MARK = "dsfrnoncemarkxq"


@register.simple_tag(takes_context=True)
def dsfr_js_once(context: Context, nonce: object = "") -> SafeString:
    """`{% dsfr_js nonce=… %}` (DSFR's two scripts, their integrity and the nonce) rendered once
    per process with a mark where the nonce goes, which each page then puts in (as the CSP
    header, `portail.core.middleware.CSPMiddleware`). django-csp's nonce is false until
    something on the page asked for it: then the scripts have none, as with django-dsfr's tag
    (whose template asks `{% if self.nonce %}`), kept once too. With `debug` on, or turned off
    (tests), django-dsfr's tag renders it."""
    engine = context.template.engine if context.template is not None else None
    if not ENABLED or engine is None or engine.debug:
        return _dsfr_js(context, nonce)
    with_nonce = bool(nonce)  # does not make django-csp's nonce (as the template's `if`)
    html = _kept.get((NONCE_MARK, with_nonce))
    if html is None:
        html = _dsfr_js(context, NONCE_MARK if with_nonce else "")
        with _lock:
            _kept[(NONCE_MARK, with_nonce)] = html
    if not with_nonce:
        return html
    return mark_safe(html.replace(NONCE_MARK, conditional_escape(str(nonce))))  # noqa: S308


def _dsfr_js(context: Context, nonce: object) -> SafeString:
    """django-dsfr's `{% dsfr_js nonce=nonce %}`: its inclusion tag's template and context."""
    assert context.template is not None
    included = context.template.engine.get_template("dsfr/global_js.html")
    return mark_safe(included.render(context.new(dsfr_js(context, nonce=nonce))))  # noqa: S308
