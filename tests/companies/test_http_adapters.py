"""The HTTP registry adapters against a local server speaking each API's documented JSON."""

import time

import pytest
from django.core.cache import cache

from portail.companies import registry
from portail.companies.adapters.http import retry_after_seconds
from portail.companies.models import Establishment, RegistryRecord
from tests.companies.fake_registry import (
    Reply,
    api_entreprise_etablissement,
    recherche_company,
    recherche_etablissement,
    recherche_page,
)
from tests.factories import make_siren, make_siret

pytestmark = pytest.mark.django_db

SIREN = make_siren(31337)
HEAD_OFFICE = make_siret(SIREN, 1)
SITE = make_siret(SIREN, 2)
CLOSED_SITE = make_siret(SIREN, 3)
ENTREPRISE_PATH = "/v3/insee/sirene/etablissements/{}"


def _recherche_cfi(*etablissements):
    head = recherche_etablissement(HEAD_OFFICE, "12 QUAI DE LA FOSSE", "44000", "NANTES")
    return recherche_page(
        recherche_company(SIREN, "CFI ATLANTIQUE", list(etablissements) or [head], siege=head)
    )


# --- API Recherche d'entreprises -------------------------------------------------------------


def test_recherche_success_strips_postcode_and_commune_from_the_address(recherche_entreprises):
    site = recherche_etablissement(
        SITE, "5 BIS BOULEVARD DE L'UNIVERSITE", "44600", "SAINT-NAZAIRE", siege=False
    )
    recherche_entreprises.reply("/search", Reply(200, _recherche_cfi(site)))

    data = registry.lookup(SITE)

    assert data == registry.EstablishmentData(
        siret=SITE,
        siren=SIREN,
        name="CFI ATLANTIQUE",
        address="5 BIS BOULEVARD DE L'UNIVERSITE",
        postcode="44600",
        commune="SAINT-NAZAIRE",
        is_head_office=False,
        is_active=True,
        source="recherche_entreprises",
    )
    (request,) = recherche_entreprises.requests
    assert request.path == "/search"
    assert request.query["q"] == [SITE]


def test_recherche_finds_the_head_office_in_siege(recherche_entreprises):
    recherche_entreprises.reply("/search", Reply(200, _recherche_cfi()))
    data = registry.lookup(HEAD_OFFICE)
    assert data.is_head_office
    assert data.address == "12 QUAI DE LA FOSSE"


def test_recherche_person_uses_nom_complet(recherche_entreprises):
    etab = recherche_etablissement(HEAD_OFFICE, "17 RUE DES EMAILLEURS", "87000", "LIMOGES")
    page = recherche_page(recherche_company(SIREN, "Marie Durand", [etab], person=True))
    recherche_entreprises.reply("/search", Reply(200, page))
    assert registry.lookup(HEAD_OFFICE).name == "MARIE DURAND"


def test_recherche_unknown_siret(recherche_entreprises):
    recherche_entreprises.reply("/search", Reply(200, recherche_page()))
    with pytest.raises(registry.UnknownSiret):
        registry.lookup(HEAD_OFFICE)
    # A result for another establishment of the company is not an answer for this one.
    recherche_entreprises.reply("/search", Reply(200, _recherche_cfi()))
    with pytest.raises(registry.UnknownSiret):
        registry.lookup(make_siret(SIREN, 9))


def test_recherche_closed_establishment_and_closed_company(recherche_entreprises):
    closed = recherche_etablissement(
        CLOSED_SITE, "14 AVENUE DU MARECHAL LECLERC", "49300", "CHOLET", etat="F", siege=False
    )
    recherche_entreprises.reply("/search", Reply(200, _recherche_cfi(closed)))
    assert registry.lookup(CLOSED_SITE).is_active is False

    head = recherche_etablissement(HEAD_OFFICE, "9 QUAI DES ARMATEURS", "17000", "LA ROCHELLE")
    page = recherche_page(recherche_company(SIREN, "ANCIEN CENTRE", [head], etat="C"))
    recherche_entreprises.reply("/search", Reply(200, page))
    assert registry.lookup(HEAD_OFFICE).is_active is False


# --- API Entreprise v3 -----------------------------------------------------------------------


def test_api_entreprise_success(api_entreprise):
    api_entreprise.reply(
        ENTREPRISE_PATH.format(HEAD_OFFICE), Reply(200, api_entreprise_etablissement(HEAD_OFFICE))
    )

    data = registry.lookup(HEAD_OFFICE)

    assert data == registry.EstablishmentData(
        siret=HEAD_OFFICE,
        siren=SIREN,
        name="CFI ATLANTIQUE",
        address="12 BIS QUAI DE LA FOSSE, BATIMENT C",
        postcode="44000",
        commune="NANTES",
        is_head_office=True,
        is_active=True,
        source="api_entreprise",
    )
    (request,) = api_entreprise.requests
    assert request.headers["Authorization"] == "Bearer test-token-api-entreprise"
    assert request.query["recipient"] == ["13000000000000"]
    assert request.query["context"]
    assert request.query["object"]


def test_api_entreprise_person(api_entreprise):
    body = api_entreprise_etablissement(HEAD_OFFICE, person=("MARIE", "DURAND"))
    api_entreprise.reply(ENTREPRISE_PATH.format(HEAD_OFFICE), Reply(200, body))
    assert registry.lookup(HEAD_OFFICE).name == "MARIE DURAND"


def test_api_entreprise_unknown_siret(api_entreprise):
    body = {
        "errors": [
            {
                "code": "37003",
                "title": "Entité non trouvée",
                "detail": "Le siret indiqué n'existe pas",
            }
        ]
    }
    api_entreprise.reply(ENTREPRISE_PATH.format(SITE), Reply(404, body))
    with pytest.raises(registry.UnknownSiret):
        registry.lookup(SITE)


def test_api_entreprise_closed(api_entreprise):
    api_entreprise.reply(
        ENTREPRISE_PATH.format(CLOSED_SITE),
        Reply(200, api_entreprise_etablissement(CLOSED_SITE, etat="F", siege=False)),
    )
    assert registry.lookup(CLOSED_SITE).is_active is False
    api_entreprise.reply(
        ENTREPRISE_PATH.format(SITE), Reply(200, api_entreprise_etablissement(SITE, etat_unite="C"))
    )
    assert registry.lookup(SITE).is_active is False


def test_api_entreprise_without_token_is_unavailable(api_entreprise, settings):
    settings.COMPANIES_API_ENTREPRISE_TOKEN = ""
    with pytest.raises(registry.RegistryUnavailable):
        registry.lookup(HEAD_OFFICE)
    assert api_entreprise.requests == []


@pytest.mark.parametrize("status", [401, 403, 422])
def test_api_entreprise_refusals_are_unavailable(api_entreprise, status):
    api_entreprise.reply(ENTREPRISE_PATH.format(HEAD_OFFICE), Reply(status, {"errors": []}))
    with pytest.raises(registry.RegistryUnavailable):
        registry.lookup(HEAD_OFFICE)


def test_api_entreprise_answer_for_another_siret_is_refused(api_entreprise):
    api_entreprise.reply(
        ENTREPRISE_PATH.format(HEAD_OFFICE), Reply(200, api_entreprise_etablissement(SITE))
    )
    with pytest.raises(registry.RegistryUnavailable):
        registry.lookup(HEAD_OFFICE)


# --- Failures both adapters share ------------------------------------------------------------


@pytest.fixture(params=["recherche_entreprises", "api_entreprise"])
def any_registry(request):
    server = request.getfixturevalue(request.param)
    path = (
        "/search"
        if request.param == "recherche_entreprises"
        else ENTREPRISE_PATH.format(HEAD_OFFICE)
    )
    success = (
        _recherche_cfi()
        if request.param == "recherche_entreprises"
        else api_entreprise_etablissement(HEAD_OFFICE)
    )
    return server, path, success


def test_429_with_a_short_retry_after_is_retried_once(any_registry):
    server, path, success = any_registry
    server.reply(
        path,
        Reply(429, {"message": "Too many requests"}, {"Retry-After": "1"}),
        Reply(200, success),
    )

    data = registry.lookup(HEAD_OFFICE)

    assert data.name == "CFI ATLANTIQUE"
    first, second = server.requests
    assert second.at - first.at >= 0.9


def test_429_twice_is_unavailable(any_registry):
    server, path, _ = any_registry
    server.reply(path, Reply(429, {}, {"Retry-After": "1"}))
    with pytest.raises(registry.RegistryUnavailable) as exc:
        registry.lookup(HEAD_OFFICE)
    assert exc.value.message == (
        "Le répertoire des entreprises ne répond pas : vous pouvez saisir les informations à la main."
    )
    assert len(server.requests) == 2


def test_429_with_a_long_retry_after_is_unavailable_without_waiting(any_registry):
    server, path, success = any_registry
    server.reply(path, Reply(429, {}, {"Retry-After": "120"}), Reply(200, success))
    started = time.monotonic()
    with pytest.raises(registry.RegistryUnavailable):
        registry.lookup(HEAD_OFFICE)
    assert time.monotonic() - started < 60  # the 120 s were not waited
    assert len(server.requests) == 1


def test_timeout_is_unavailable(any_registry):
    server, path, success = any_registry
    server.reply(path, Reply(200, success, delay=6))
    started = time.monotonic()
    with pytest.raises(registry.RegistryUnavailable):
        registry.lookup(HEAD_OFFICE)
    # Given up after the 0.5 s timeout (twice at most), far before the 6 s answer: a wide
    # margin, for a loaded machine.
    assert time.monotonic() - started < 4


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_unavailable(any_registry, status):
    server, path, _ = any_registry
    server.reply(path, Reply(status, "<html>Bad gateway</html>"))
    with pytest.raises(registry.RegistryUnavailable):
        registry.lookup(HEAD_OFFICE)


@pytest.mark.parametrize(
    "body", ['{"results": [', "<html>maintenance</html>", '{"data": null}', '{"results": 3}', "[]"]
)
def test_malformed_json_is_unavailable(any_registry, body):
    server, path, _ = any_registry
    server.reply(path, Reply(200, body))
    with pytest.raises(registry.RegistryUnavailable):
        registry.lookup(HEAD_OFFICE)


def test_connection_refused_is_unavailable(settings, any_registry):
    server, _, _ = any_registry
    server.stop()
    with pytest.raises(registry.RegistryUnavailable):
        registry.lookup(HEAD_OFFICE)


# --- The cache ------------------------------------------------------------------------------


def test_answers_are_cached_with_source_and_date(any_registry):
    server, path, success = any_registry
    server.reply(path, Reply(200, success))

    first = registry.lookup(HEAD_OFFICE)
    record = RegistryRecord.objects.get(siret=HEAD_OFFICE)
    assert record.source == first.source
    assert record.fetched_at is not None

    assert registry.lookup(HEAD_OFFICE) == first
    assert len(server.requests) == 1  # the second answer came from the database


def test_a_stale_cache_is_refreshed(any_registry, settings):
    server, path, success = any_registry
    server.reply(path, Reply(200, success))
    registry.lookup(HEAD_OFFICE)
    settings.COMPANIES_REGISTRY_MAX_AGE = 0
    registry.lookup(HEAD_OFFICE)
    assert len(server.requests) == 2


def test_a_stale_cache_is_served_while_the_registry_is_down(any_registry, settings):
    server, path, success = any_registry
    server.reply(path, Reply(200, success))
    first = registry.lookup(HEAD_OFFICE)
    settings.COMPANIES_REGISTRY_MAX_AGE = 0
    server.reply(path, Reply(503, "down"))
    assert registry.lookup(HEAD_OFFICE) == first


def test_establishment_from_registry_over_http(any_registry):
    server, path, success = any_registry
    server.reply(path, Reply(200, success))
    establishment = registry.establishment_from_registry(HEAD_OFFICE)
    assert establishment.verified
    assert establishment.source in {
        Establishment.Source.RECHERCHE_ENTREPRISES,
        Establishment.Source.API_ENTREPRISE,
    }
    assert establishment.name == "CFI ATLANTIQUE"


def test_retry_after_parsing():
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


def test_recherche_requests_are_paced_under_the_rate_limit(recherche_entreprises, settings):
    settings.COMPANIES_RECHERCHE_ENTREPRISES_MAX_RATE = 2
    sirets = [make_siret(SIREN, n) for n in range(1, 7)]
    etablissements = [recherche_etablissement(s, "1 RUE X", "44000", "NANTES") for s in sirets]
    page = recherche_page(recherche_company(SIREN, "CFI ATLANTIQUE", etablissements))
    recherche_entreprises.reply("/search", Reply(200, page))

    started = time.monotonic()
    for siret in sirets:
        registry.lookup(siret)

    # 6 requests at 2 per second span at least 3 distinct seconds: 2 boundaries waited for.
    assert len(recherche_entreprises.requests) == 6
    assert _pace_keys()  # counted in the shared cache
    assert time.monotonic() - started >= 1.0


def test_no_pacing_when_disabled(recherche_entreprises, settings):
    settings.COMPANIES_RECHERCHE_ENTREPRISES_MAX_RATE = 0
    sirets = [make_siret(SIREN, n) for n in range(1, 7)]
    etablissements = [recherche_etablissement(s, "1 RUE X", "44000", "NANTES") for s in sirets]
    recherche_entreprises.reply(
        "/search", Reply(200, recherche_page(recherche_company(SIREN, "X", etablissements)))
    )
    for siret in sirets:
        registry.lookup(siret)
    assert len(recherche_entreprises.requests) == 6
    assert _pace_keys() == []  # nothing counted, so nothing waited for


def _pace_keys() -> list[str]:
    now = int(time.time())
    keys = [f"registry-pace:recherche_entreprises:{t}" for t in range(now - 5, now + 1)]
    return [k for k in keys if cache.get(k) is not None]


def test_requests_go_on_unpaced_while_the_cache_is_down(recherche_entreprises, settings, caplog):
    settings.COMPANIES_RECHERCHE_ENTREPRISES_MAX_RATE = 2
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    siret = make_siret(SIREN, 1)
    etablissement = recherche_etablissement(siret, "1 RUE X", "44000", "NANTES")
    recherche_entreprises.reply(
        "/search", Reply(200, recherche_page(recherche_company(SIREN, "X", [etablissement])))
    )

    assert registry.lookup(siret) is not None
    assert len(recherche_entreprises.requests) == 1
    assert "not paced" in caplog.text
