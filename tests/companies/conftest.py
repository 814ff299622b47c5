import pytest

from tests.companies.fake_registry import FakeRegistry


@pytest.fixture
def fake_registry():
    server = FakeRegistry().start()
    yield server
    server.stop()


@pytest.fixture
def recherche_entreprises(settings, fake_registry):
    """The API Recherche d'entreprises adapter, pointed at the local fake."""
    settings.COMPANIES_REGISTRY = "recherche_entreprises"
    settings.COMPANIES_RECHERCHE_ENTREPRISES_URL = fake_registry.url
    settings.COMPANIES_REGISTRY_TIMEOUT = 0.5
    settings.COMPANIES_REGISTRY_MAX_RETRY_AFTER = 2
    return fake_registry


@pytest.fixture
def api_entreprise(settings, fake_registry):
    """The API Entreprise adapter, pointed at the local fake, with a token."""
    settings.COMPANIES_REGISTRY = "api_entreprise"
    settings.COMPANIES_API_ENTREPRISE_URL = fake_registry.url
    settings.COMPANIES_API_ENTREPRISE_TOKEN = "test-token-api-entreprise"
    settings.COMPANIES_API_ENTREPRISE_RECIPIENT = "13000000000000"
    settings.COMPANIES_REGISTRY_TIMEOUT = 0.5
    settings.COMPANIES_REGISTRY_MAX_RETRY_AFTER = 2
    return fake_registry
