"""Render-once fragments (portail.core.fragments): kept per key, never shown stale."""

import pytest
from django.utils import timezone

from portail.core import fragments
from tests.factories import DemarcheFactory, UserFactory

pytestmark = pytest.mark.django_db

TEMPLATE = "habilitations/_other_demarches.html"


def test_a_fragment_is_rendered_once_per_key(monkeypatch):
    monkeypatch.setattr(fragments, "_rendered", fragments.OrderedDict())
    demarche = DemarcheFactory.build(code="essai", long_name="Première")
    first = fragments.render_once(TEMPLATE, ("k", 1), {"others": [demarche], "is_particulier": 0})
    demarche.long_name = "Seconde"  # same key: the kept rendering
    again = fragments.render_once(TEMPLATE, ("k", 1), {"others": [demarche], "is_particulier": 0})
    assert again is first
    assert "Première" in again
    other = fragments.render_once(TEMPLATE, ("k", 2), {"others": [demarche], "is_particulier": 0})
    assert "Seconde" in other


def test_the_kept_fragments_are_bounded(monkeypatch):
    monkeypatch.setattr(fragments, "_rendered", fragments.OrderedDict())
    monkeypatch.setattr(fragments, "MAX_FRAGMENTS", 3)
    for n in range(5):
        fragments.render_once(TEMPLATE, n, {"others": [], "is_particulier": False})
    assert [key for _template, key in fragments._rendered] == [2, 3, 4]


def test_mes_demarches_shows_a_renamed_demarche_at_once(client):
    demarche = DemarcheFactory(long_name="Ancien nom")
    client.force_login(UserFactory(email_verified_at=timezone.now()))
    assert "Ancien nom" in client.get("/demarches/").content.decode()
    demarche.long_name = "Nouveau nom"
    demarche.save()
    html = client.get("/demarches/").content.decode()
    assert "Nouveau nom" in html
    assert "Ancien nom" not in html
