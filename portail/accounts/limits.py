"""The rate limits of the accounts pages (portail.core.ratelimit; registered by the app's config).

Passwords fail closed when the store does not answer; the others (emails, sign-ups, 256-bit
links) fail open (decision 0012)."""

from portail.core.ratelimit import Limiter

# Growing waits, never a permanent lock (portail.core.ratelimit): per account and per address.
LOGIN_PER_ACCOUNT = Limiter(
    "login-account",
    label="Connexion suspendue après plusieurs mots de passe erronés",
    limit=5,
    window=15 * 60,
    base_wait=60,
    fails_closed=True,
)
LOGIN_PER_IP = Limiter(
    "login-ip",
    label="Connexion depuis cette adresse IP suspendue après trop d'échecs",
    limit=30,
    window=15 * 60,
    base_wait=60,
    fails_closed=True,
)
# Emails sent on request (activation again, password reset): per address asked and per IP.
EMAIL_PER_ADDRESS = Limiter(
    "account-email",
    label="Envoi de courriels (activation, mot de passe oublié) suspendu après trop de demandes",
    limit=3,
    window=60 * 60,
    base_wait=15 * 60,
)
EMAIL_PER_IP = Limiter(
    "account-email-ip",
    label="Envoi de courriels depuis cette adresse IP suspendu après trop de demandes",
    limit=20,
    window=60 * 60,
    base_wait=15 * 60,
)
SIGNUP_PER_IP = Limiter(
    "signup-ip",
    label="Inscriptions depuis cette adresse IP suspendues après trop d'essais",
    limit=20,
    window=60 * 60,
    base_wait=15 * 60,
)
LOOKUP_PER_IP = Limiter(
    "signup-lookup-ip",
    label="Recherche de SIRET à l'inscription suspendue après trop de recherches",
    limit=60,
    window=60 * 60,
    base_wait=5 * 60,
)
TOKEN_PER_IP = Limiter(
    "account-token-ip",
    label="Ouverture de liens (activation, mot de passe) depuis cette adresse IP suspendue après plusieurs liens invalides",
    limit=20,
    window=15 * 60,
    base_wait=60,
)
# "Mes données": downloads of everything the portal holds about the account, per account.
DATA_EXPORT_PER_ACCOUNT = Limiter(
    "data-export",
    label="Téléchargement de « Mes données » suspendu après trop de demandes",
    limit=10,
    window=60 * 60,
    base_wait=60 * 60,
)
# Reactivation links sent from the login page (the right password of a deactivated account).
REACTIVATION_PER_ACCOUNT = Limiter(
    "reactivation-email",
    label="Envoi du lien de réactivation suspendu après trop de demandes",
    limit=3,
    window=60 * 60,
    base_wait=15 * 60,
)
