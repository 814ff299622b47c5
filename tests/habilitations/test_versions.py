"""Version numbers: one source per application, and each says which application it is the
version of (#17 item 13)."""

import html

import pytest
from django.conf import settings
from django.urls import reverse

import ceres
import portail
from portail.demarches.catalogue import CATALOGUE, CERES

pytestmark = pytest.mark.django_db


def visible(response) -> str:
    return " ".join(html.unescape(response.content.decode()).split())


def test_the_portal_footer_says_it_is_the_portals_version(client):
    assert portail.__version__ == settings.APP_VERSION
    text = visible(client.get("/"))
    assert f"Portail v {portail.__version__}" in text


def test_caracteristiques_says_which_demarche_its_version_is_of(world, client):
    client.force_login(world.gestionnaire)
    demarche = world.demarche
    demarche.version = "3.1.4"
    demarche.save(update_fields=["version"])
    response = client.get(reverse("habilitations:manage", args=[demarche.code]))
    content = response.content.decode()
    label = html.escape(f"Version de {demarche.short_label}")
    assert f"<dt>{label}</dt><dd>v 3.1.4</dd>" in content
    # The démarche's version is not the portal's, and the page tells them apart.
    assert f"Portail v {portail.__version__}" in visible(response)


def test_the_catalogue_gives_ceres_the_version_ceres_says():
    [entry] = [d for d in CATALOGUE if d["code"] == CERES]
    assert entry["version"] == ceres.__version__
