"""The rate limits of the agents' sign-in (portail.core.ratelimit): passwords and codes, all
failing closed when the store does not answer (decision 0012)."""

from portail.core.ratelimit import Limiter

PASSWORD_LIMITER = Limiter(
    "agent-login",
    label="Connexion agent suspendue après plusieurs mots de passe erronés",
    limit=5,
    window=15 * 60,
    base_wait=60,
    fails_closed=True,
)
PASSWORD_IP_LIMITER = Limiter(
    "agent-login-ip",
    label="Connexion agent depuis cette adresse IP suspendue après trop d'échecs",
    limit=30,
    window=15 * 60,
    base_wait=60,
    fails_closed=True,
)
OTP_LIMITER = Limiter(
    "agent-otp",
    label="Connexion agent suspendue après plusieurs codes de vérification erronés",
    limit=5,
    window=15 * 60,
    base_wait=60,
    fails_closed=True,
)
