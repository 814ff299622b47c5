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

The page's own `{% extends %}` (the first of a render) goes further: the chain of templates
(page → base → frame) is flattened once per chain of compiled templates into the frame's nodes
with each `{% block %}` holding the most derived template's nodes, as Django's block context
would pick them at every render (a push and a pop per block per level). A chain is flattened only
when that choice cannot depend on the render: no `block.` in any of its templates' text
(`{{ block.super }}`), every block directly in its template or in another block (none under an
`{% if %}` or a loop), each parent nothing but its `{% extends %}`, the engine's `debug` off (its
error pages name the nodes). Otherwise, Django's way as above.
"""

from django import template
from django.template import TemplateDoesNotExist
from django.template.base import Node, NodeList, Parser, Template, TextNode, Token
from django.template.context import Context
from django.template.loader_tags import BLOCK_CONTEXT_KEY, BlockContext, BlockNode, ExtendsNode
from django.template.loader_tags import do_extends as django_extends
from django.utils.safestring import SafeString

register = template.Library()

Blocks = dict[str, BlockNode]
FLATTEN = True  # tests turn it off to compare


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


class FlatBlockNode(BlockNode):
    """A `{% block %}` whose nodes were chosen when the chain was flattened: Django's context
    push and `block` variable, without the block context's pop and push."""

    def render(self, context: Context) -> SafeString:
        with context.push(block=self):
            return self.nodelist.render(context)


def _direct_blocks(nodelist: NodeList) -> int:
    """How many blocks lie in `nodelist` or, recursively, in its blocks (not under other tags)."""
    return sum(1 + _direct_blocks(n.nodelist) for n in nodelist if isinstance(n, BlockNode))


def _flattened(nodelist: NodeList, chosen: Blocks) -> NodeList:
    flat = NodeList()
    for node in nodelist:
        if isinstance(node, BlockNode):
            block = chosen[node.name]
            flat.append(FlatBlockNode(node.name, _flattened(block.nodelist, chosen)))
        else:
            flat.append(node)
    return flat


def _source(node: Node) -> str | None:
    """The text of the template `node` was parsed from, read again from its loader (the page's
    template object is not at hand), or None."""
    origin = node.origin
    loader = getattr(origin, "loader", None)
    if loader is None:
        return None
    try:
        source: str = loader.get_contents(origin)
    except TemplateDoesNotExist:
        return None
    return source


def flat_nodes(chain: list[tuple[Node, Template]]) -> NodeList | None:
    """The root's nodes with every block the most derived one's, or None (see the module).
    `chain`: each `{% extends %}` node, from the page's, and the template it names."""
    chosen: Blocks = {}
    for node, _template in reversed(chain):  # the root's parent first: the page's win
        nodelist = node.nodelist  # type: ignore[attr-defined]
        if len(nodelist.get_nodes_by_type(BlockNode)) != _direct_blocks(nodelist):
            return None
        chosen.update(node.blocks)  # type: ignore[attr-defined]
    root = chain[-1][1]
    blocks = root_blocks(root)
    if blocks is None or len(blocks) != _direct_blocks(root.nodelist):
        return None
    page_source = _source(chain[0][0])
    if page_source is None or any("block." in t.source for _n, t in chain):
        return None
    if "block." in page_source:
        return None
    chosen = {**blocks, **chosen}
    return _flattened(root.nodelist, chosen)


class KeptExtendsNode(ExtendsNode):
    # The parent the blocks were read from, and its blocks: one tuple, replaced whole (threads).
    _kept: tuple[Template, Blocks | None] | None = None
    # The chain's compiled templates and its flattened nodes (None: not flattened).
    _flat: tuple[tuple[Template, ...], NodeList | None] | None = None

    def render(self, context: Context) -> SafeString:
        if BLOCK_CONTEXT_KEY not in context.render_context and self._flattenable(context):
            history = context.render_context.get(self.context_key)
            before = None if history is None else list(history)
            chain = self._chain(context)
            if chain is not None:
                parents = tuple(template for _node, template in chain)
                flat = self._flat
                if flat is None or flat[0] != parents:
                    flat = self._flat = (parents, flat_nodes(chain))
                if flat[1] is not None:
                    with context.render_context.push_state(parents[-1], isolated_context=False):
                        return flat[1].render(context)
            # Django's way: its parents found again, from the history as it was.
            if before is None:
                if self.context_key in context.render_context:
                    del context.render_context[self.context_key]
            else:
                context.render_context[self.context_key] = before
        return self._render_as_django(context)

    @staticmethod
    def _flattenable(context: Context) -> bool:
        template = context.template
        return FLATTEN and template is not None and not template.engine.debug

    def _chain(self, context: Context) -> list[tuple[Node, Template]] | None:
        """Each `{% extends %}` of the chain with the template it names, found as Django finds
        them level by level; None when a parent has more than its `{% extends %}`."""
        chain: list[tuple[Node, Template]] = []
        node: ExtendsNode = self
        while True:
            parent = node.get_parent(context)
            chain.append((node, parent))
            # As Django: an extends is the first node but text (root_blocks).
            first = next((n for n in parent.nodelist if not isinstance(n, TextNode)), None)
            if not isinstance(first, ExtendsNode):
                return chain
            if len(parent.nodelist) != 1:
                return None  # text before a parent's extends: Django renders it
            node = first

    def _render_as_django(self, context: Context) -> SafeString:
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
