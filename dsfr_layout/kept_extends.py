"""`{% extends %}` keeping the root template's blocks: a template builtin (settings.TEMPLATES,
"builtins") that replaces Django's tag.

At every render, Django's `ExtendsNode` walks the whole root template (the page frame) for its
`{% block %}` nodes (`get_nodes_by_type`): the same answer each time for the same compiled
template, a few per cent of every page that extends it. This node keeps that answer beside the
compiled parent it was computed from, and computes it again whenever the parent is another object
(a template edited and loaded again in development, a parent named by a variable). Everything else
(finding the parent, the blocks' order, `{{ block.super }}`) is Django's.
`tests/core/test_kept_extends.py` checks that the blocks are Django's and that an edited parent is
seen.
"""

from django import template
from django.template.base import Parser, Template, TextNode, Token
from django.template.context import Context
from django.template.loader_tags import BLOCK_CONTEXT_KEY, BlockContext, BlockNode, ExtendsNode
from django.template.loader_tags import do_extends as django_extends
from django.utils.safestring import SafeString

register = template.Library()

Blocks = dict[str, BlockNode]


def root_blocks(parent: Template) -> Blocks | None:
    """The blocks Django adds for `parent`: those of a root template, none when it extends."""
    for node in parent.nodelist:
        # The ExtendsNode has to be the first non-text node (as Django reads it).
        if not isinstance(node, TextNode):
            if isinstance(node, ExtendsNode):
                return None
            found = parent.nodelist.get_nodes_by_type(BlockNode)
            return {n.name: n for n in found if isinstance(n, BlockNode)}
    return None


class KeptExtendsNode(ExtendsNode):
    # The parent the blocks were read from, and its blocks: one tuple, replaced whole (threads).
    _kept: tuple[Template, Blocks | None] | None = None

    def render(self, context: Context) -> SafeString:
        compiled_parent = self.get_parent(context)
        block_context = context.render_context.get(BLOCK_CONTEXT_KEY)
        if block_context is None:
            block_context = context.render_context[BLOCK_CONTEXT_KEY] = BlockContext()
        block_context.add_blocks(self.blocks)
        kept = self._kept
        if kept is None or kept[0] is not compiled_parent:
            kept = self._kept = (compiled_parent, root_blocks(compiled_parent))
        if kept[1] is not None:
            block_context.add_blocks(kept[1])
        # Template._render, so that the parser context stays the same (as Django).
        with context.render_context.push_state(compiled_parent, isolated_context=False):
            return compiled_parent._render(context)  # type: ignore[attr-defined,no-any-return]


@register.tag("extends")
def do_extends(parser: Parser, token: Token) -> KeptExtendsNode:
    node = django_extends(parser, token)
    return KeptExtendsNode(node.nodelist, node.parent_name, node.template_dirs)
