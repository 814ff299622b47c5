"""The rate limits of the ways into a habilitation (portail.core.ratelimit): activation codes fail
closed when the store does not answer, the others fail open (decision 0012)."""

from portail.core.ratelimit import Limiter

# Per person and per SIRET: 5 failures in 15 minutes, then a wait that doubles (1 min → 1 h).
activation_user_limiter = Limiter(
    "activation-user",
    label="Saisie de codes d'activation suspendue après plusieurs codes erronés",
    limit=5,
    window=15 * 60,
    fails_closed=True,
)
activation_siret_limiter = Limiter(
    "activation-siret",
    label="Saisie de codes d'activation pour ce SIRET suspendue après plusieurs codes erronés",
    limit=5,
    window=15 * 60,
    fails_closed=True,
)
# Every access request counts (they email people): 10 per hour per person.
access_request_limiter = Limiter(
    "access-request-user",
    label="Demandes d'accès suspendues après trop de demandes en peu de temps",
    limit=10,
    window=60 * 60,
)
# Invitation links carry 256 random bits: this limit only keeps a client from hammering.
token_limiter = Limiter(
    "invitation-token",
    label="Ouverture de liens d'invitation suspendue après plusieurs liens invalides",
    limit=10,
    window=15 * 60,
    base_wait=60,
)
