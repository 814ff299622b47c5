"""`{% extends %}` keeping the root template's blocks (dsfr_layout.kept_extends): the same
rendering as Django's tag, and a parent edited (or another parent) is seen."""

from pathlib import Path

import pytest
from django.template import Context, Engine, engines
from django.template.loader_tags import ExtendsNode

from dsfr_layout.kept_extends import KeptExtendsNode, root_blocks

pytestmark = pytest.mark.django_db  # the suite's fixtures open the database

TEMPLATES = {
    "root.html": "<t>{% block title %}Root{% endblock %}</t>"
    "{% if show %}<b>{% block inner %}inner {{ name }}{% endblock %}</b>{% endif %}"
    "{% for i in items %}{% block looped %}[{{ i }}]{% endblock %}{% endfor %}",
    "middle.html": '{% extends "root.html" %}{% block title %}Middle {{ block.super }}{% endblock %}',
    "page.html": '{% extends "middle.html" %}{% block inner %}{{ block.super }} & page{% endblock %}'
    "{% block title %}Page — {{ block.super }}{% endblock %}",
    "direct.html": '{% extends "root.html" %}{% block looped %}<{{ i }}>{% endblock %}',
    "by_variable.html": "{% extends parent %}{% block title %}Mine{% endblock %}",
}


def engine(**options: object) -> Engine:
    return Engine(
        loaders=[("django.template.loaders.locmem.Loader", TEMPLATES)],
        builtins=["dsfr_layout.kept_extends"],
        **options,  # type: ignore[arg-type]
    )


def test_the_project_s_templates_use_it():
    node = engines["django"].engine.get_template("accounts/account.html").nodelist[0]
    assert isinstance(node, KeptExtendsNode)


def test_the_same_rendering_as_django_s_tag_twice():
    kept, django = engine(), Engine(loaders=[("django.template.loaders.locmem.Loader", TEMPLATES)])
    assert type(django.get_template("page.html").nodelist[0]) is ExtendsNode
    values = {"show": True, "name": "<a & 'b'>", "items": [1, 2]}
    for name in ("middle.html", "page.html", "direct.html"):
        for show in (True, False):
            context = {**values, "show": show}
            expected = django.get_template(name).render(Context(context))
            assert kept.get_template(name).render(Context(context)) == expected, name
            assert kept.get_template(name).render(Context(context)) == expected, name  # kept


def test_the_blocks_kept_are_django_s():
    parent = engine().get_template("root.html")
    blocks = root_blocks(parent)
    assert blocks is not None
    assert set(blocks) == {"title", "inner", "looped"}
    assert root_blocks(engine().get_template("middle.html")) is None  # not a root


def test_another_parent_object_is_read_again():
    kept = engine()
    child = kept.get_template("by_variable.html")
    first = Engine().from_string("A{% block title %}a{% endblock %}")
    second = Engine().from_string(
        "B{% block title %}b{% endblock %}{% block other %}o{% endblock %}"
    )
    assert child.render(Context({"parent": first})) == "AMine"
    assert child.render(Context({"parent": second})) == "BMineo"
    assert child.render(Context({"parent": first})) == "AMine"


def test_a_parent_edited_in_development_is_seen(tmp_path: Path):
    (tmp_path / "root.html").write_text("1{% block a %}a{% endblock %}")
    (tmp_path / "child.html").write_text('{% extends "root.html" %}{% block b %}B{% endblock %}')
    debug = Engine(dirs=[str(tmp_path)], debug=True, builtins=["dsfr_layout.kept_extends"])
    assert debug.get_template("child.html").render(Context()) == "1a"
    (tmp_path / "root.html").write_text("2{% block a %}a{% endblock %}{% block b %}b{% endblock %}")
    for loader in debug.template_loaders:  # what Django's autoreloader does on a change
        loader.reset()
    assert debug.get_template("child.html").render(Context()) == "2aB"


FLAT = {
    "frame.html": "<h>{% block head %}{% block title %}T{% endblock %} — {{ site }}{% endblock %}</h>"
    "{% for i in items %}[{{ i }}]{% endfor %}<m>{% block main %}{% endblock %}</m>"
    "{% block foot %}F {{ site }}{% endblock %}",
    "base.html": '{% extends "frame.html" %}{% block head %}{% block title %}B{% endblock %}'
    " | {{ site }}{% endblock %}{% block foot %}{% with x=site %}<{{ x }}>{% endwith %}{% endblock %}",
    "leaf.html": '{% extends "base.html" %}{% block title %}{{ name }}{% endblock %}'
    "{% block main %}{% for i in items %}{{ i }}{% if forloop.last %}.{% endif %}{% endfor %}"
    "{% endblock %}",
    "short.html": '{% extends "frame.html" %}{% block main %}{{ name }}{% endblock %}',
    "by_variable.html": "{% extends parent %}{% block title %}Mine{% endblock %}",
    "text_first.html": 'X{% extends "frame.html" %}{% block main %}P{% endblock %}',
    "on_text_first.html": '{% extends "text_first.html" %}{% block title %}O{% endblock %}',
}


def flat_engine(**options: object) -> Engine:
    return Engine(
        loaders=[("django.template.loaders.locmem.Loader", {**TEMPLATES, **FLAT})],
        builtins=["dsfr_layout.kept_extends"],
        **options,  # type: ignore[arg-type]
    )


def flattened(template) -> bool:
    node = template.nodelist[0]
    return node._flat is not None and node._flat[1] is not None


def test_a_chain_flattened_renders_as_django_s_blocks():
    kept = flat_engine()
    django = Engine(loaders=[("django.template.loaders.locmem.Loader", {**TEMPLATES, **FLAT})])
    values = {"site": "S <&> 'q'", "name": '<b>"N"</b> & co', "items": [1, 2]}
    for name in ("leaf.html", "short.html", "base.html"):
        expected = django.get_template(name).render(Context(values))
        template = kept.get_template(name)
        for _ in range(2):  # flattened, then as kept
            assert template.render(Context(values)) == expected, name
        assert flattened(template), name
    # the variables a block sets stay in it, as with Django's push
    assert "<S &lt;&amp;&gt; &#x27;q&#x27;>" in expected


def test_a_chain_whose_blocks_depend_on_the_render_is_not_flattened():
    kept = flat_engine()
    django = Engine(loaders=[("django.template.loaders.locmem.Loader", TEMPLATES)])
    values = {"show": True, "name": "<a>", "items": [1, 2]}
    # block.super; a block under an if, in a loop
    for name in ("middle.html", "page.html", "direct.html"):
        expected = django.get_template(name).render(Context(values))
        template = kept.get_template(name)
        for _ in range(2):
            assert template.render(Context(values)) == expected, name
        node = template.nodelist[0]
        assert node._flat is not None, name  # looked at…
        assert node._flat[1] is None, name  # …and refused


def test_a_parent_named_by_a_variable_is_followed_each_render():
    kept = flat_engine()
    child = kept.get_template("by_variable.html")
    frame, base = kept.get_template("frame.html"), kept.get_template("base.html")
    values = {"site": "s", "items": []}
    assert child.render(Context({**values, "parent": frame})) == "<h>Mine — s</h><m></m>F s"
    assert child.render(Context({**values, "parent": base})) == "<h>Mine | s</h><m></m><s>"
    assert child.render(Context({**values, "parent": frame})) == "<h>Mine — s</h><m></m>F s"


def test_without_flattening_the_parents_are_found_as_django_finds_them():
    """A chain refused after its parents were found: Django's way finds them again."""
    kept = flat_engine()
    django = Engine(loaders=[("django.template.loaders.locmem.Loader", {**TEMPLATES, **FLAT})])
    values = {"show": False, "items": [], "site": "s"}
    for name in ("page.html", "on_text_first.html"):
        expected = django.get_template(name).render(Context(values))
        assert kept.get_template(name).render(Context(values)) == expected, name
    assert expected == "X<h>O — s</h><m>P</m>F s"  # the text before a parent's extends
