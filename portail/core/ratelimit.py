"""Rate limits on anything guessable, with waits that grow and never a permanent lock.

A limiter counts failures per key (an account, an address, a SIRET) in the Django cache. Past
`limit` failures within `window` seconds, the key must wait; each further failure doubles the
wait, up to `max_wait`. Success does not reset other keys: an attacker cannot clear the address
limit by succeeding on their own account. Agents can lift a wait (`reset`).
"""

import hashlib
import time
from dataclasses import dataclass
from typing import TypedDict

from django.core.cache import cache


class _State(TypedDict):
    failures: list[float]  # times of the failures within the window
    blocked_until: float
    strikes: int


@dataclass(frozen=True)
class Limiter:
    name: str
    # What the wait means for the person, in French, for the agents' support page:
    # "Connexion suspendue après plusieurs mots de passe erronés".
    label: str = ""
    limit: int = 5
    window: int = 15 * 60
    base_wait: int = 60
    max_wait: int = 60 * 60

    def _key(self, subject: str) -> str:
        # Subjects are emails or addresses: hash them so the cache holds no personal data.
        digest = hashlib.sha256(subject.strip().lower().encode()).hexdigest()[:32]
        return f"rl:{self.name}:{digest}"

    def _state(self, subject: str) -> _State:
        state: _State | None = cache.get(self._key(subject))
        return state or {"failures": [], "blocked_until": 0.0, "strikes": 0}

    def wait_seconds(self, subject: str) -> int:
        """Seconds before `subject` may try again (0: now)."""
        state = self._state(subject)
        return max(0, int(state["blocked_until"] - time.time() + 0.999))

    def is_blocked(self, subject: str) -> bool:
        return self.wait_seconds(subject) > 0

    def fail(self, subject: str) -> int:
        """Count a failure; return the wait now imposed (0 while under the limit)."""
        now = time.time()
        state = self._state(subject)
        state["failures"] = [t for t in state["failures"] if t > now - self.window] + [now]
        if len(state["failures"]) >= self.limit:
            wait = min(self.max_wait, self.base_wait * 2 ** state["strikes"])
            state["blocked_until"] = now + wait
            state["strikes"] += 1
            state["failures"] = []
        cache.set(self._key(subject), state, timeout=self.window + self.max_wait)
        return self.wait_seconds(subject)

    def reset(self, subject: str) -> None:
        cache.delete(self._key(subject))


def longest_wait(*checks: tuple[Limiter, str]) -> int:
    """Seconds before every (limiter, subject) of `checks` allows a try (0: now), their counters
    read in one cache round trip (one query with the database cache)."""
    states: dict[str, _State] = cache.get_many(
        [limiter._key(subject) for limiter, subject in checks]
    )
    now = time.time()
    return max((max(0, int(s["blocked_until"] - now + 0.999)) for s in states.values()), default=0)


def format_wait(seconds: int) -> str:
    """'2 minutes', '1 heure' — how long to wait, in French, rounded up to the minute."""
    minutes = max(1, (seconds + 59) // 60)
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes > 1 else ''}"
    hours = (minutes + 59) // 60
    return f"{hours} heure{'s' if hours > 1 else ''}"


def format_remaining(seconds: int) -> str:
    """'49 secondes', '2 minutes', '1 heure' — the time left, in French, to the second under a
    minute, then as `format_wait` says it."""
    if seconds < 60:
        seconds = max(1, seconds)
        return f"{seconds} seconde{'s' if seconds > 1 else ''}"
    return format_wait(seconds)
