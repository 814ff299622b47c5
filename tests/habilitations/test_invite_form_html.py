"""The invitation form written from its kept rendering (`invite_form_html`) against the template
included as before, byte for byte (the CSRF token aside, new at each rendering): empty, kept,
for another inviter and key, for names to escape; sent with errors, and a search."""

import re

import pytest
from django.contrib.messages.storage.fallback import FallbackStorage
from django.template import engines
from django.test import RequestFactory
from django.urls import reverse

from portail.companies.models import Establishment
from portail.core import fragments
from portail.habilitations import invite_form_html
from portail.habilitations.forms import InviteForm

pytestmark = pytest.mark.django_db

INCLUDED = '{% include "habilitations/_invite_form.html" %}'
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def request_of(user, data=None):
    request = RequestFactory().post("/", data) if data else RequestFactory().get("/")
    request.user = user
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def context_of(world, data=None, inviter="Guy Duponttest", **extra):
    scope = Establishment.objects.filter(pk__in=[world.head.pk, world.sibling.pk])
    form = InviteForm(data, actor=world.gestionnaire, demarche=world.demarche, establishments=scope)
    if data:
        form.is_valid()
    context = form.template_context(inviter=inviter, kind="colleague")
    return context | {"autocomplete_url": "/a?b=1&c=2", "candidates": [], "searched": False} | extra


def both(world, context, data=None):
    request = request_of(world.gestionnaire, data)
    before = engines["django"].from_string(INCLUDED).render(context, request)
    after = invite_form_html.rendered(request, context)
    return TOKEN.sub("TOKEN", before), TOKEN.sub("TOKEN", after)


@pytest.fixture(autouse=True)
def _nothing_kept(monkeypatch):
    monkeypatch.setattr(fragments, "_rendered", fragments.OrderedDict())


def test_the_empty_form_rendered_then_kept_is_the_templates(world):
    world.head.name = 'CFI <Atlantique> & "fils"'
    world.head.save()
    first = context_of(world)
    before, after = both(world, first)
    assert after == before
    assert first["form"]["submission_key"].value() in after
    assert len(fragments._rendered) == 1
    # Kept: another request, another key, another inviter whose name must be escaped.
    second = context_of(world, inviter="Zoé <b>O'Brien</b> & Cie")
    before, after = both(world, second)
    assert after == before
    assert "Zoé &lt;b&gt;O&#x27;Brien&lt;/b&gt; &amp; Cie" in after
    assert str(second["form"]["submission_key"].value()) in after
    assert str(first["form"]["submission_key"].value()) not in after
    assert "mark" not in after
    assert len(fragments._rendered) == 1


def test_a_renamed_establishment_makes_a_new_rendering(world):
    both(world, context_of(world))
    world.head.name = "NOUVEAU NOM"
    world.head.save()
    before, after = both(world, context_of(world))
    assert after == before
    assert "NOUVEAU NOM" in after
    assert len(fragments._rendered) == 2


def test_a_sent_form_and_a_search_render_the_template(world):
    data = {"user_query": "x" * 200, "email": "pas-une-adresse", "role": "999"}
    before, after = both(world, context_of(world, data), data)
    assert after == before
    assert "fr-error-text" in after
    context = context_of(world, searched=True, candidates=[world.colleague])
    before, after = both(world, context)
    assert after == before
    assert world.colleague.email in after
    assert not fragments._rendered


def test_the_management_page_s_empty_form_is_made_only_to_be_kept(world):
    made = []

    def make_form():
        made.append(1)
        return context_of(world)["form"]

    def empty(inviter="Guy Duponttest"):
        return invite_form_html.empty_context(
            demarche=world.demarche,
            roles=list(world.demarche.roles.all()),
            establishments=context_of(world)["establishments"],
            inviter=inviter,
            autocomplete_url="/a?b=1&c=2",
            make_form=make_form,
        )

    for inviter in ("Guy Duponttest", "Zoé <b>O'Brien</b>"):
        context = empty(inviter)
        after = invite_form_html.rendered(request_of(world.gestionnaire), context)
        expected = context_of(world, inviter=inviter)
        expected["form"].initial["submission_key"] = context["submission_key"]
        request = request_of(world.gestionnaire)
        before = engines["django"].from_string(INCLUDED).render(expected, request)
        assert TOKEN.sub("TOKEN", after) == TOKEN.sub("TOKEN", before)
    assert made == [1]


def test_the_invitation_page_empty_writes_the_form_it_wrote_when_it_made_one(world, client):
    # The page's GET makes no form since decision 0014's sixth session (`empty_context`, as the
    # management page's modal): the same bytes as the template given the form.
    client.force_login(world.gestionnaire)
    page = client.get(reverse("habilitations:invite", args=[world.demarche.code])).content.decode()
    key = re.search(r'name="submission_key" value="([^"]+)"', page)
    assert key is not None
    url = reverse("habilitations:autocomplete", args=[world.demarche.code])
    expected = context_of(world, inviter=str(world.gestionnaire), autocomplete_url=url)
    expected["form"].initial["submission_key"] = key.group(1)
    included = (
        engines["django"].from_string(INCLUDED).render(expected, request_of(world.gestionnaire))
    )
    assert TOKEN.sub("TOKEN", included) in TOKEN.sub("TOKEN", page)
