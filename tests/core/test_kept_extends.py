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
