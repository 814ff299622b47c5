"""The anti-robot check: ALTCHA proof-of-work, no Google, no image puzzle (decision 0004).

The server signs a challenge with settings.ALTCHA_HMAC_KEY; the widget (our own static copy of
the `altcha` npm package) finds the counter in the browser and posts the solution in the field
`altcha`. The counter is drawn below settings.ALTCHA_MAX_NUMBER: the cost for the browser. A
solved challenge works for one sign-up: its signature is remembered in the cache until it expires.
A form shown again (a typo, an unknown SIRET) keeps the solution it was sent with: checking it
there does not spend it, and a sign-up the flow refused gives it back (`give_back`).
When the cache does not answer (Redis down), a solution cannot be spent: the sign-up is refused
as "momentanément indisponible" and the form keeps the solution, never a server error.
"""

import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any

import altcha
from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

ALGORITHM = "SHA-256"
FIELD_NAME = "altcha"


def _max_number() -> int:
    return max(2, int(getattr(settings, "ALTCHA_MAX_NUMBER", 50_000)))


def _lifetime() -> int:
    return int(getattr(settings, "ALTCHA_CHALLENGE_SECONDS", 20 * 60))


def _key_secret() -> str:
    # A second key, derived from the first, signs the expected key: verification needs no
    # re-computation of the proof-of-work.
    return f"{settings.ALTCHA_HMAC_KEY}:derived-key"


def new_challenge() -> dict[str, Any]:
    """A signed challenge for the widget (JSON-serialisable)."""
    challenge = altcha.create_challenge(
        ALGORITHM,
        1,
        counter=secrets.randbelow(_max_number()),
        expires_at=int(time.time()) + _lifetime(),
        hmac_secret=settings.ALTCHA_HMAC_KEY,
        hmac_key_secret=_key_secret(),
    )
    return challenge.to_dict()


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""  # "missing", "malformed", "expired", "invalid", "replayed", "unavailable"


def verify(payload: str | None, *, spend: bool = True) -> Verdict:
    """Check a solution posted by the widget and, with `spend`, burn it: a second use is refused.

    Without `spend` the solution is only checked (still unused, not expired), for a form shown
    again with other errors: it stays valid for the next post of the same form."""
    if not payload:
        return Verdict(False, "missing")
    try:
        parsed = altcha.Payload.from_base64(payload)
    except Exception:
        return Verdict(False, "malformed")
    result = altcha.verify_solution(parsed, settings.ALTCHA_HMAC_KEY, hmac_key_secret=_key_secret())
    if result.expired:
        return Verdict(False, "expired")
    if not result.verified:
        return Verdict(False, "invalid")
    try:
        unused = _unused(parsed, spend=spend)
    except Exception:  # the cache's own errors (Redis, database): whatever its backend
        logger.error(
            "Anti-robot check: the cache does not answer, solution not %s",
            "spent" if spend else "checked",
        )
        # Only checked (a form shown again): the solution is kept as it is.
        return Verdict(False, "unavailable") if spend else Verdict(True)
    return Verdict(True) if unused else Verdict(False, "replayed")


def _unused(parsed: altcha.Payload, *, spend: bool) -> bool:
    key = _used_key(parsed)
    if not spend:
        return not cache.get(key)
    expires_at = parsed.challenge.parameters.expires_at or int(time.time()) + _lifetime()
    remaining = max(1, expires_at - int(time.time()) + 60)
    # cache.add is atomic: of two requests racing with the same solution, one wins.
    return bool(cache.add(key, 1, timeout=remaining))


def give_back(payload: str) -> None:
    """Unspend a solution `verify` spent for a sign-up that did not happen (refused by the flow,
    rate-limited): the person corrects the form and sends it again without a new check."""
    try:
        cache.delete(_used_key(altcha.Payload.from_base64(payload)))
    except Exception:
        logger.error("Anti-robot check: the cache does not answer, solution not given back")


def _used_key(parsed: altcha.Payload) -> str:
    return f"altcha:used:{parsed.challenge.signature or ''}"


def solve(challenge: dict[str, Any]) -> str:
    """Solve a challenge as the widget would (tests and benchmarks): the posted payload."""
    parsed = altcha.Challenge.from_dict(challenge)
    solution = altcha.solve_challenge(parsed, timeout=30)
    if solution is None:  # pragma: no cover - only with an absurd ALTCHA_MAX_NUMBER
        raise RuntimeError("ALTCHA challenge not solved in time")
    return altcha.Payload(parsed, solution).to_base64()
