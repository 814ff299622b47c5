"""The page frame's parts rendered once (`{% once %}`, dsfr_layout.templatetags.dsfr_once): the
pages are the same bytes as without it, apart from the nonces and CSRF tokens of each request."""

import re

import pytest
from django.template import Context, Engine, TemplateSyntaxError, engines
from django.test import Client

from dsfr_layout.templatetags import dsfr_once
from portail.habilitations.models import Habilitation
from tests.habilitations.factories import ceres, company, habilitate, person

pytestmark = pytest.mark.django_db

PER_REQUEST = [
    (re.compile(r'nonce="[^"]*"'), 'nonce=""'),
    (re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"'), 'name="csrfmiddlewaretoken"'),
    (re.compile(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}"), "uuid"),  # the forms' one-time keys
]


def normalized(html: str) -> str:
    for pattern, replacement in PER_REQUEST:
        html = pattern.sub(replacement, html)
    return html


def pages() -> list[tuple[Client, str]]:
    demarche, _centre, manager = ceres()
    # Periodic reviews, none done yet: the management page's summary says so, kept once.
    demarche.access_review_months = 12
    demarche.save(update_fields=["access_review_months"])
    head, _site = company(31)
    gestionnaire = person("Gaston", "Cadre", head)
    habilitate(gestionnaire, manager, head, origin=Habilitation.Origin.ACTIVATION_CODE)
    signed_in = Client()
    signed_in.force_login(gestionnaire)
    anonymous = Client()
    return [
        (anonymous, "/"),
        (anonymous, "/inscription/"),
        (anonymous, "/mot-de-passe-oublie/"),
        (anonymous, "/nulle-part/"),  # 404
        (signed_in, "/demarches/"),
        (signed_in, "/mon-compte/"),
        (signed_in, "/mon-compte/sessions/"),
        (signed_in, "/habilitations/ceres/"),
        (signed_in, "/habilitations/ceres/inviter/"),
        (signed_in, "/nulle-part/"),
        # The management page's tabs and characteristics, kept per tab selected.
        (signed_in, "/habilitations/ceres/?onglet=caracteristiques"),
        (signed_in, "/habilitations/ceres/?onglet=messages"),
    ]


def rendered(visits: list[tuple[Client, str]]) -> list[str]:
    return [normalized(client.get(path).content.decode()) for client, path in visits]


def test_pages_are_the_same_bytes_with_their_frame_rendered_once(monkeypatch):
    visits = pages()
    monkeypatch.setattr(dsfr_once, "ENABLED", False)
    plain = rendered(visits)
    monkeypatch.setattr(dsfr_once, "ENABLED", True)
    monkeypatch.setattr(dsfr_once, "_kept", {})
    first = rendered(visits)  # every variant rendered and kept…
    assert dsfr_once._kept, "nothing kept: the frame was rendered every time"
    kept = len(dsfr_once._kept)
    again = rendered(list(reversed(visits)))[::-1]  # …then written as kept, in another order
    assert len(dsfr_once._kept) == kept
    for (_client, path), expected, once, twice in zip(visits, plain, first, again, strict=True):
        assert once == expected, path
        assert twice == expected, path
    # The menu's variants: signed out, and signed in with the section marked.
    assert 'href="/inscription/"' in again[0]
    assert 'href="/inscription/"' not in again[4]
    assert 'href="/demarches/" aria-current="page"' in again[4]
    assert 'href="/mon-compte/" aria-current="page"' in again[5]
    assert 'href="/demarches/" aria-current="true"' in again[7]
    assert "Aucune revue des accès n’a encore été validée." in again[7]


def test_a_part_kept_cannot_hold_a_block_or_a_token():
    engine = Engine(libraries={"dsfr_once": "dsfr_layout.templatetags.dsfr_once"})
    for inside in ("{% block b %}{% endblock %}", "{% csrf_token %}"):
        with pytest.raises(TemplateSyntaxError):
            engine.from_string("{% load dsfr_once %}{% once %}" + inside + "{% endonce %}")


def test_a_part_is_kept_per_value_named(monkeypatch):
    monkeypatch.setattr(dsfr_once, "_kept", {})
    engine = Engine(libraries={"dsfr_once": "dsfr_layout.templatetags.dsfr_once"})
    template = engine.from_string("{% load dsfr_once %}{% once a %}{{ a }}{{ b }}{% endonce %}")
    assert template.render(Context({"a": 1, "b": "x"})) == "1x"
    assert template.render(Context({"a": 1, "b": "y"})) == "1x"  # b is not in the key: kept
    assert template.render(Context({"a": 2, "b": "y"})) == "2y"


@pytest.mark.parametrize("nonce", ["", "n0nce+/=", 'a"<b>&'])
def test_dsfr_scripts_kept_with_each_page_s_nonce(monkeypatch, nonce):
    """`{% dsfr_js_once %}` writes what django-dsfr's `{% dsfr_js %}` writes, with this page's
    nonce (none when it is empty: django-csp's is until something asks for it)."""
    monkeypatch.setattr(dsfr_once, "_kept", {})
    template = engines["django"].from_string(
        "{% load dsfr_tags dsfr_once %}{% dsfr_js nonce=n %}|{% dsfr_js_once nonce=n %}"
    )
    for value in (nonce, nonce, "autre" if nonce else ""):  # rendered, kept, kept
        expected, kept = template.render({"n": value}).split("|")
        assert kept == expected
        assert ("nonce=" in kept) is bool(value)
    assert len(dsfr_once._kept) == 1


def test_pages_are_the_same_bytes_through_their_flattened_templates(monkeypatch):
    """dsfr_layout.kept_extends: the chain page → frame flattened once, against Django's
    block context at every render."""
    from dsfr_layout import kept_extends

    visits = pages()
    monkeypatch.setattr(kept_extends, "FLATTEN", False)
    expected = rendered(visits)
    monkeypatch.setattr(kept_extends, "FLATTEN", True)
    assert rendered(visits) == expected
    assert rendered(visits) == expected  # as kept
    node = engines["django"].engine.get_template("habilitations/mes_demarches.html").nodelist[0]
    assert node._flat is not None
    assert node._flat[1] is not None, "not flattened"
