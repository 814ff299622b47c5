"""`{% url %}` keeps its answers (portail.core.url_tag) and answers as Django's tag does."""

import pytest
from django.template import engines
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse, set_script_prefix

from portail.core import url_tag

pytestmark = pytest.mark.django_db


def render(source: str, **context: object) -> str:
    return engines["django"].from_string(source).render(context)


def test_the_builtin_replaces_djangos_tag_and_keeps_the_answers():
    url_tag._reversed.cache_clear()
    assert render("{% url 'home' %}") == reverse("home")
    assert render("{% url 'home' %}|{% url 'home' %}") == f"{reverse('home')}|{reverse('home')}"
    info = url_tag._reversed.cache_info()
    assert (info.misses, info.hits) == (1, 2)


def test_arguments_as_var_and_errors_as_djangos():
    expected = reverse("habilitations:manage", args=["ceres"])
    assert render("{% url 'habilitations:manage' code %}", code="ceres") == expected
    assert render("{% url 'habilitations:manage' code=code %}", code="ceres") == reverse(
        "habilitations:manage", kwargs={"code": "ceres"}
    )
    assert render("{% url 'nowhere' as link %}[{{ link }}]") == "[]"
    with pytest.raises(NoReverseMatch):
        render("{% url 'nowhere' %}")
    # An argument that is neither a string nor a number is reversed each time, as Django does.
    lazy = type("Code", (), {"__str__": lambda self: "ceres"})()
    assert render("{% url 'habilitations:manage' code %}", code=lazy) == expected


def test_another_script_prefix_is_another_answer():
    assert render("{% url 'home' %}") == "/"
    try:
        set_script_prefix("/portail/")
        assert render("{% url 'home' %}") == "/portail/"
    finally:
        set_script_prefix("/")
    assert render("{% url 'home' %}") == "/"


def test_pages_render_with_it(client):
    request = RequestFactory().get("/")
    html = engines["django"].from_string("{% url 'home' %}").render({}, request)
    assert html == "/"
    assert client.get("/").status_code == 200
