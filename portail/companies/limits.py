"""The rate limit of the public SIRET lookup (portail.core.ratelimit); it fails open."""

from portail.core.ratelimit import Limiter

# Anyone may look a SIRET up (the sign-up form does it before any account exists): a limit per
# address keeps the endpoint from being used to scrape the registry (and its quota).
LOOKUP_LIMITER = Limiter(
    "siret_lookup",
    label="Recherche de SIRET suspendue après trop de recherches",
    limit=30,
    window=60,
    base_wait=60,
    max_wait=15 * 60,
)
