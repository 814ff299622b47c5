"""The public SIRET lookup endpoint: every status it answers."""

from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from portail.companies import demo
from portail.companies.lookup import lookup_url_template
from portail.companies.views import LOOKUP_LIMITER
from tests.companies.fake_registry import Reply
from tests.factories import UserFactory, make_siren, make_siret

pytestmark = pytest.mark.django_db


@pytest.fixture
def sample(settings):
    settings.COMPANIES_REGISTRY = "sirene_local"
    demo.load()


def _url(siret):
    return reverse("companies:siret_lookup", args=[siret])


def test_url_template():
    assert lookup_url_template() == "/entreprises/siret/{siret}/"
    assert _url("1") == "/entreprises/siret/1/"


def test_found_anonymously(client, sample):
    response = client.get(_url(demo.CFI_ATLANTIQUE_SIRET))
    assert response.status_code == 200
    assert response.json() == {
        "siret": "90310000600019",
        "siren": "903100006",
        "name": "CFI ATLANTIQUE",
        "address": "12 QUAI DE LA FOSSE",
        "postcode": "44000",
        "commune": "NANTES",
        "is_active": True,
    }
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_found_when_logged_in_and_with_spaces(client, sample):
    client.force_login(UserFactory())
    response = client.get(_url("903 100 006 00027"))
    assert response.status_code == 200
    assert response.json()["commune"] == "SAINT-NAZAIRE"


def test_closed_establishment_is_answered_inactive(client, sample):
    response = client.get(_url(demo.CFI_ATLANTIQUE_CLOSED_SITE))
    assert response.status_code == 200
    assert response.json()["is_active"] is False


@pytest.mark.parametrize(
    ("siret", "message"),
    [
        ("1234", "Le numéro SIRET doit comporter 14 chiffres."),
        ("9031000060001A", "Le numéro SIRET doit comporter 14 chiffres."),
        ("90310000600018", "Ce numéro SIRET n'est pas valide."),
    ],
)
def test_invalid(client, sample, siret, message):
    response = client.get(_url(siret))
    assert response.status_code == 400
    assert response.json() == {"error": message}


def test_unknown(client, sample):
    response = client.get(_url(make_siret(make_siren(4), 1)))
    assert response.status_code == 404
    assert response.json() == {"error": "Ce SIRET est inconnu du répertoire des entreprises."}


def test_registry_unavailable(client, settings, fake_registry):
    settings.COMPANIES_REGISTRY = "recherche_entreprises"
    settings.COMPANIES_RECHERCHE_ENTREPRISES_URL = fake_registry.url
    fake_registry.reply("/search", Reply(503, "down"))
    response = client.get(_url(demo.CFI_ATLANTIQUE_SIRET))
    assert response.status_code == 503
    assert response.json() == {
        "error": "Le répertoire des entreprises ne répond pas : vous pouvez saisir les informations à la main."
    }


def test_rate_limited_per_client_address(limits_store, client, sample):
    for _ in range(LOOKUP_LIMITER.limit):
        assert client.get(_url(demo.CFI_ATLANTIQUE_SIRET)).status_code == 200
    response = client.get(_url(demo.CFI_ATLANTIQUE_SIRET))
    assert response.status_code == 429
    assert response.json()["error"] == "Trop de recherches de SIRET : réessayez dans 1 minute."
    assert 0 < int(response["Retry-After"]) <= 60
    # Invalid SIRETs are refused too while blocked: the limit is on the address.
    assert client.get(_url("1234")).status_code == 429
    # Another address is not affected.
    other = client.get(_url(demo.CFI_ATLANTIQUE_SIRET), REMOTE_ADDR="192.0.2.7")
    assert other.status_code == 200


def test_only_get(client, sample):
    assert client.post(_url(demo.CFI_ATLANTIQUE_SIRET)).status_code == 405


def test_the_module_is_a_static_file_documenting_its_attributes():
    path = finders.find("companies/js/siret-lookup.js")
    assert path
    source = Path(path).read_text(encoding="utf-8")
    for attribute in (
        "data-siret-lookup",
        "data-siret-lookup-url",
        'data-siret-fill="name"',
        "data-siret-status",
    ):
        assert attribute in source


def test_a_lookup_costs_a_few_queries(client, sample, django_assert_max_num_queries):
    # The rate limit in the database cache (3 reads, an upsert in a savepoint, a cull count) and
    # two reads of the local tables; with REDIS_URL the first part leaves the database.
    with django_assert_max_num_queries(10):
        assert client.get(_url(demo.CFI_ATLANTIQUE_SIRET)).status_code == 200
