"""The company registry's settings: a Django setting wins, then the environment, then a default.

| setting / variable | meaning | default |
|---|---|---|
| COMPANIES_REGISTRY | `sirene_local`, `recherche_entreprises` or `api_entreprise` | `sirene_local` |
| COMPANIES_RECHERCHE_ENTREPRISES_URL | base URL of the API Recherche d'entreprises | the public API |
| COMPANIES_API_ENTREPRISE_URL | base URL of API Entreprise | the production API |
| COMPANIES_API_ENTREPRISE_TOKEN | API Entreprise's bearer token (required with that adapter) | empty |
| COMPANIES_API_ENTREPRISE_RECIPIENT | SIRET of the administration receiving the data | empty |
| COMPANIES_REGISTRY_TIMEOUT | seconds to wait for an HTTP registry (connect and read) | 3 |
| COMPANIES_REGISTRY_MAX_AGE | seconds a cached registry answer stays fresh | 604800 (7 days) |
| COMPANIES_REGISTRY_MAX_RETRY_AFTER | longest `Retry-After` (seconds) worth waiting once | 2 |
| COMPANIES_RECHERCHE_ENTREPRISES_MAX_RATE | requests per second we send it, all processes together (0: no pacing) | 7 |
"""

import os

from django.conf import settings

REGISTRY_CHOICES = ("sirene_local", "recherche_entreprises", "api_entreprise")


def _get(name: str, default: str) -> str:
    value = getattr(settings, name, None)
    return os.environ.get(name, default) if value is None else str(value)


def registry() -> str:
    return _get("COMPANIES_REGISTRY", "sirene_local").strip()


def recherche_entreprises_url() -> str:
    return _get(
        "COMPANIES_RECHERCHE_ENTREPRISES_URL", "https://recherche-entreprises.api.gouv.fr"
    ).rstrip("/")


def api_entreprise_url() -> str:
    return _get("COMPANIES_API_ENTREPRISE_URL", "https://entreprise.api.gouv.fr").rstrip("/")


def api_entreprise_token() -> str:
    return _get("COMPANIES_API_ENTREPRISE_TOKEN", "")


def api_entreprise_recipient() -> str:
    return _get("COMPANIES_API_ENTREPRISE_RECIPIENT", "")


def timeout() -> float:
    return float(_get("COMPANIES_REGISTRY_TIMEOUT", "3"))


def max_age() -> int:
    """Seconds a cached answer of an HTTP registry is served without asking again."""
    return int(_get("COMPANIES_REGISTRY_MAX_AGE", str(7 * 24 * 3600)))


def max_retry_after() -> float:
    return float(_get("COMPANIES_REGISTRY_MAX_RETRY_AFTER", "2"))


def recherche_entreprises_max_rate() -> int:
    return int(_get("COMPANIES_RECHERCHE_ENTREPRISES_MAX_RATE", "7"))
