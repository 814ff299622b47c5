"""Rate limits on anything guessable, with waits that grow and never a permanent lock.

A limiter counts attempts per key (an account, an address, a SIRET). Within a window of `window`
seconds opened by the first attempt, `limit` failures make the key wait `base_wait`; each further
block doubles the wait, up to `max_wait`; the doubling is forgotten `window + max_wait` seconds
after the last counted attempt. Success does not reset other keys: an attacker cannot clear the
address limit by succeeding on their own account. Agents can lift a wait (`reset`).

Reserve, then verify (decision 0012): `attempt(...)` takes a slot *before* the guessable check
runs, atomically in the store (a Lua script in Redis, a locked row in the database), so that 50
guesses arriving at once get at most `limit` checks; the slots of all its limiters are taken in
one step (one transaction, one Redis round trip), all or none, and given back in one; the caller then says how it went
(`failed()` keeps the slot as a failure, `succeeded()` gives it back: a right password costs
nothing). `hit()` counts requests that are limited whatever their outcome (emails, sign-ups).

The store is Redis when `RATELIMIT_REDIS_URL` is set, else the `core_ratelimitstate` table. When
Redis does not answer, a limiter with `fails_closed` (passwords, codes) refuses with
`LimitsUnavailable`; the others let the request through. Both are logged.
"""

import hashlib
import logging
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal, Protocol

import redis
from django.conf import settings
from django.core.cache import cache as django_cache
from django.db import connection, transaction

from portail.core.models import RateLimitState
from portail.core.refusals import Refusal

logger = logging.getLogger(__name__)

Op = Literal["reserve", "fail", "release", "hit"]

UNAVAILABLE = (
    "Le service est momentanément indisponible. Réessayez dans quelques minutes ; si le problème "
    "persiste, contactez l'assistance."
)


class LimitsUnavailable(Refusal):
    """The rate-limit store does not answer and this limit must not be skipped (503)."""

    def __init__(self) -> None:
        super().__init__(UNAVAILABLE)


LIMITERS: dict[str, "Limiter"] = {}


def registered() -> dict[str, "Limiter"]:
    """Every limiter of the portal, by name (each app's `limits` module, loaded by its config)."""
    return dict(LIMITERS)


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
    # Refuse rather than let guesses through unlimited when the store does not answer.
    fails_closed: bool = field(default=False, kw_only=True)

    def __post_init__(self) -> None:
        known = LIMITERS.setdefault(self.name, self)
        if known != self:
            raise ValueError(f"Two different rate limiters are named {self.name!r}")

    @property
    def ttl(self) -> int:
        """How long a key's state is kept after its last counted attempt."""
        return self.window + self.max_wait

    def digest(self, subject: str) -> str:
        # Subjects are emails or addresses: hashed, the store holds no personal data.
        return hashlib.sha256(subject.strip().lower().encode()).hexdigest()[:32]

    def _apply(self, op: Op, subject: str) -> tuple[bool, int]:
        try:
            return store().apply(self, self.digest(subject), op, time.time())
        except redis.RedisError:
            closed = self.fails_closed and op in ("reserve", "hit")
            logger.error(
                "Rate-limit store unreachable: limiter %s, %s %s",
                self.name,
                op,
                "refused (fails closed)" if closed else "let through (fails open)",
            )
            if closed:
                raise LimitsUnavailable() from None
            return True, 0

    def reserve(self, subject: str) -> int:
        """Take a slot before the check: 0 when granted (then `fail` or `release` it), else the
        seconds to wait. Prefer `attempt(...)`, which does both for several limiters."""
        granted, wait = self._apply("reserve", subject)
        return 0 if granted else max(1, wait)

    def fail(self, subject: str) -> int:
        """The reserved attempt failed: it stays counted. Returns the wait it imposes (0 while
        under the limit). Without a reservation, it counts as one."""
        return self._apply("fail", subject)[1]

    def release(self, subject: str) -> None:
        """The reserved attempt succeeded or was no guess: its slot is given back."""
        self._apply("release", subject)

    def hit(self, subject: str) -> int:
        """Count a request limited whatever its outcome: 0 when it may go on, else the wait."""
        granted, wait = self._apply("hit", subject)
        return 0 if granted else max(1, wait)

    def wait_seconds(self, subject: str) -> int:
        """Seconds before `subject` may try again (0: now)."""
        return waits([(self, subject)])[0]

    def is_blocked(self, subject: str) -> bool:
        return self.wait_seconds(subject) > 0

    def reset(self, subject: str) -> None:
        """Forget the key: no wait, no failure, no doubling (agents lift waits with it)."""
        store().delete(self, self.digest(subject))


class Attempt:
    """Slots reserved on several limiters for one check; `wait` > 0 when refused."""

    def __init__(self, slots: list[tuple[Limiter, str]], wait: int) -> None:
        self.slots = slots
        self.wait = wait

    def failed(self) -> int:
        """The check failed: every slot stays counted. Returns the longest wait now imposed."""
        return max((wait for _, wait in _apply_all(self.slots, "fail")), default=0)

    def succeeded(self) -> None:
        """The check passed: every slot is given back."""
        _apply_all(self.slots, "release")


def attempt(*slots: tuple[Limiter, str]) -> Attempt:
    """Reserve a slot on each (limiter, subject), all in one step of the store: all are taken,
    or none (the attempt then carries the wait of the first refusing, in the order given, and
    nothing is to be checked)."""
    for granted, wait in _apply_all(list(slots), "reserve"):
        if not granted:
            return Attempt([], max(1, wait))
    return Attempt(list(slots), 0)


def _apply_all(slots: list[tuple[Limiter, str]], op: Op) -> list[tuple[bool, int]]:
    """`op` on every slot in one step of the store (one transaction, one Redis round trip); a
    reservation takes every slot or none. When Redis does not answer, as `Limiter._apply`."""
    if not slots:
        return []
    keys = [(limiter, limiter.digest(subject)) for limiter, subject in slots]
    try:
        return store().apply_all(keys, op, time.time())
    except redis.RedisError:
        closed = op in ("reserve", "hit") and any(limiter.fails_closed for limiter, _ in slots)
        logger.error(
            "Rate-limit store unreachable: limiters %s, %s %s",
            ", ".join(limiter.name for limiter, _ in slots),
            op,
            "refused (fails closed)" if closed else "let through (fails open)",
        )
        if closed:
            raise LimitsUnavailable() from None
        return [(True, 0)] * len(slots)


def waits(pairs: list[tuple[Limiter, str]]) -> list[int]:
    """The wait of each (limiter, subject), in one round trip to the store; 0 when the store
    does not answer (this only reads)."""
    keys = [(limiter, limiter.digest(subject)) for limiter, subject in pairs]
    try:
        until = store().blocked_until(keys)
    except redis.RedisError:
        logger.error("Rate-limit store unreachable: waits not read")
        return [0] * len(pairs)
    now = time.time()
    return [max(0, math.ceil(moment - now)) for moment in until]


# --- the rule, and the stores that apply it atomically ------------------------------------------


def step(state: dict[str, float], limiter: Limiter, op: Op, now: float) -> tuple[bool, int]:
    """Apply `op` to `state` (keys h, f, w, b, n; changed in place): (granted, wait).

    h: slots taken in the window (checks under way and failures), f: failures in the window,
    w: end of the window, b: blocked until, n: the next block's wait. The Lua script of
    `RedisStore` is this same rule, line for line."""
    if state["w"] <= now:
        state.update(h=0, f=0, w=now + limiter.window)
    if op == "release":
        state["h"] = max(0, state["h"] - 1)
        return True, 0
    if op != "fail":
        if state["b"] > now:
            return False, math.ceil(state["b"] - now)
        if state["h"] >= limiter.limit:  # every slot is taken by checks under way
            return False, int(state["n"])
        state["h"] += 1
        if op == "reserve":
            return True, 0
    state["f"] += 1
    state["h"] = max(state["h"], state["f"])
    if state["f"] >= limiter.limit:
        wait = int(state["n"])
        state.update(h=0, f=0, w=0, b=now + wait, n=min(limiter.max_wait, wait * 2))
        return True, wait
    return True, 0


class Store(Protocol):
    def apply(self, limiter: Limiter, digest: str, op: Op, now: float) -> tuple[bool, int]: ...

    def apply_all(
        self, keys: list[tuple[Limiter, str]], op: Op, now: float
    ) -> list[tuple[bool, int]]:
        """`apply` on each key, in one step; "reserve" takes every slot or none."""
        ...

    def blocked_until(self, keys: list[tuple[Limiter, str]]) -> list[float]: ...

    def delete(self, limiter: Limiter, digest: str) -> None: ...

    def ping(self) -> None: ...


@contextmanager
def unsynced() -> Iterator[None]:
    """A transaction whose commit does not wait for the disk (PostgreSQL's synchronous_commit
    off; still atomic, still ordered): a crash may forget the last instant of counts, while an
    fsync on every slot taken and given back made a login 50 ms slower on a loaded machine."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield


def _table() -> str:
    return connection.ops.quote_name(RateLimitState._meta.db_table)


class DatabaseStore:
    """One row per key, kept (an expired one starts afresh). A known key's row is read locked
    and written: two statements; concurrent requests queue on it (PostgreSQL's row lock;
    SQLite's single writer). A new key is a read finding nothing and one INSERT (ON CONFLICT DO
    NOTHING: when another request made it first, its row is then locked and stepped). A slot
    given back is one UPDATE."""

    FIELDS = {
        "h": "hits",
        "f": "failures",
        "w": "window_ends",
        "b": "blocked_until",
        "n": "next_wait",
    }

    def apply(self, limiter: Limiter, digest: str, op: Op, now: float) -> tuple[bool, int]:
        return self.apply_all([(limiter, digest)], op, now)[0]

    def apply_all(
        self, keys: list[tuple[Limiter, str]], op: Op, now: float
    ) -> list[tuple[bool, int]]:
        """One transaction: giving back is one UPDATE for every key; otherwise each key is
        inserted or locked in turn, in the order of their names (two requests sharing keys
        lock them in the same order: no deadlock), and a refused reservation rolls the
        transaction back (none taken)."""
        if len(set(keys)) != len(keys):  # the same key twice: once each, in turn
            return [self.apply(limiter, digest, op, now) for limiter, digest in keys]
        if op == "release":
            # No lock needed: a window ended since is reset by the next step anyway.
            match = " OR ".join(["(limiter = %s AND digest = %s)"] * len(keys))
            params = [value for limiter, digest in keys for value in (limiter.name, digest)]
            # Inside the caller's transaction (a login's: decision 0014, sixth session) the
            # UPDATE joins it and commits as it does: a SET LOCAL there would leave the caller's
            # own rows (its outbox) unsynced too.
            scope = nullcontext() if connection.in_atomic_block else unsynced()
            with scope, connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {_table()} SET hits = hits - 1 WHERE hits > 0 AND ({match})",  # noqa: S608 -- names are ours
                    params,
                )
            return [(True, 0)] * len(keys)
        results: dict[tuple[Limiter, str], tuple[bool, int]] = {}
        with unsynced():
            for limiter, digest in sorted(keys, key=lambda key: (key[0].name, key[1])):
                results[(limiter, digest)] = self.locked_step(limiter, digest, op, now)
            if op == "reserve" and not all(granted for granted, _ in results.values()):
                transaction.set_rollback(True)
        return [results[key] for key in keys]

    def locked_step(self, limiter: Limiter, digest: str, op: Op, now: float) -> tuple[bool, int]:
        """`step` on the key's row, inside the caller's transaction: a known key (rows stay, so
        most are) locked, stepped and written; a new one inserted with its state (made meanwhile
        by another request: locked once that one commits, then stepped)."""
        found = self.locked_row(limiter, digest)
        if found is None:
            state = self.fresh(limiter)
            granted, wait = step(state, limiter, op, now)
            if self.insert(limiter, digest, state, now):
                return granted, wait
            found = self.locked_row(limiter, digest)
            assert found is not None  # the insert met it
        *values, expires_at = found
        if expires_at > now:
            state = dict(zip(self.FIELDS, values, strict=True))
        else:  # forgotten: a fresh start
            state = self.fresh(limiter)
        granted, wait = step(state, limiter, op, now)
        if granted:
            changes = ", ".join(f"{name} = %s" for name in self.FIELDS.values())
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {_table()} SET {changes}, expires_at = %s"  # noqa: S608 -- names are ours
                    " WHERE limiter = %s AND digest = %s",
                    [*(state[key] for key in self.FIELDS), now + limiter.ttl, limiter.name, digest],
                )
        return granted, wait

    def locked_row(self, limiter: Limiter, digest: str) -> tuple[Any, ...] | None:
        """The key's state and `expires_at`, its row locked until the transaction ends (SQLite:
        the transaction's write lock, taken at its start); None when there is no row."""
        # Plain SQL: the ORM's building of these statements cost more than running them.
        columns = ", ".join(self.FIELDS.values())
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {columns}, expires_at FROM {_table()}"  # noqa: S608 -- names are ours
                f" WHERE limiter = %s AND digest = %s{lock}",
                [limiter.name, digest],
            )
            row = cursor.fetchone()
        return tuple(row) if row is not None else None

    @staticmethod
    def fresh(limiter: Limiter) -> dict[str, float]:
        return {"h": 0, "f": 0, "w": 0.0, "b": 0.0, "n": limiter.base_wait}

    def insert(self, limiter: Limiter, digest: str, state: dict[str, float], now: float) -> bool:
        """Create the key's row with `state`; False when it exists already."""
        table = connection.ops.quote_name(RateLimitState._meta.db_table)
        columns = ", ".join(["limiter", "digest", *self.FIELDS.values(), "expires_at"])
        values: list[str | float] = [
            limiter.name,
            digest,
            *(state[k] for k in self.FIELDS),
            now + limiter.ttl,
        ]
        placeholders = ", ".join(["%s"] * len(values))
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) "  # noqa: S608 -- names are ours
                "ON CONFLICT (limiter, digest) DO NOTHING",
                values,
            )
            return bool(cursor.rowcount == 1)

    def blocked_until(self, keys: list[tuple[Limiter, str]]) -> list[float]:
        if not keys:
            return []
        rows = RateLimitState.objects.filter(
            limiter__in={limiter.name for limiter, _ in keys},
            digest__in={digest for _, digest in keys},
            expires_at__gt=time.time(),
        ).values_list("limiter", "digest", "blocked_until")
        found = {(name, digest): until for name, digest, until in rows}
        return [found.get((limiter.name, digest), 0.0) for limiter, digest in keys]

    def delete(self, limiter: Limiter, digest: str) -> None:
        RateLimitState.objects.filter(limiter=limiter.name, digest=digest).delete()

    def ping(self) -> None:
        RateLimitState.objects.exists()


# `step`, in Lua: Redis runs a script alone, so the read, the rule and the write are one step.
STEP_SCRIPT = """
local op = ARGV[1]
local now = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local window = tonumber(ARGV[4])
local max_wait = tonumber(ARGV[6])
local ttl = tonumber(ARGV[7])
local s = redis.call('HMGET', KEYS[1], 'h', 'f', 'w', 'b', 'n', 'e')
local h, f, w, b, n = 0, 0, 0, 0, tonumber(ARGV[5])
if (tonumber(s[6]) or 0) > now then  -- else forgotten (EXPIRE deletes it, on Redis's clock)
  h = tonumber(s[1]); f = tonumber(s[2]); w = tonumber(s[3]); b = tonumber(s[4]); n = tonumber(s[5])
end
local wait = 0
if w <= now then h = 0; f = 0; w = now + window end
if op == 'release' then
  h = math.max(0, h - 1)
else
  if op ~= 'fail' then
    if b > now then return {0, math.ceil(b - now)} end
    if h >= limit then return {0, n} end
    h = h + 1
  end
  if op ~= 'reserve' then
    f = f + 1
    h = math.max(h, f)
    if f >= limit then
      wait = n
      h = 0; f = 0; w = 0; b = now + n; n = math.min(max_wait, n * 2)
    end
  end
end
redis.call('HSET', KEYS[1], 'h', h, 'f', f, 'w', tostring(w), 'b', tostring(b), 'n', n,
  'e', tostring(now + ttl))
redis.call('EXPIRE', KEYS[1], ttl)
return {1, wait}
"""


class RedisStore:
    """One hash per key, changed by `STEP_SCRIPT`; it expires `ttl` after its last change."""

    def __init__(self, url: str, prefix: str) -> None:
        # Short timeouts: a Redis that does not answer must not hold the request.
        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.prefix = prefix
        self.script = self.client.register_script(STEP_SCRIPT)

    def key(self, limiter: Limiter, digest: str) -> str:
        return f"{self.prefix}:{limiter.name}:{digest}"

    def apply(self, limiter: Limiter, digest: str, op: Op, now: float) -> tuple[bool, int]:
        return self.apply_all([(limiter, digest)], op, now)[0]

    def apply_all(
        self, keys: list[tuple[Limiter, str]], op: Op, now: float
    ) -> list[tuple[bool, int]]:
        """The script once per key, in one round trip; a refused reservation gives back the
        slots it took on the other keys (a second round trip, only then)."""
        pipeline = self.client.pipeline(transaction=False)
        for limiter, digest in keys:
            rule = [limiter.limit, limiter.window, limiter.base_wait, limiter.max_wait, limiter.ttl]
            args: list[str | int] = [op, repr(now), *rule]
            self.script(keys=[self.key(limiter, digest)], args=args, client=pipeline)
        results = [(bool(granted), int(wait)) for granted, wait in pipeline.execute()]
        if op == "reserve" and not all(granted for granted, _ in results):
            taken = [key for key, (granted, _) in zip(keys, results, strict=True) if granted]
            if taken:
                self.apply_all(taken, "release", now)
        return results

    def blocked_until(self, keys: list[tuple[Limiter, str]]) -> list[float]:
        pipeline = self.client.pipeline(transaction=False)
        for limiter, digest in keys:
            pipeline.hmget(self.key(limiter, digest), "b", "e")
        now = time.time()
        return [
            float(blocked or 0) if float(expires or 0) > now else 0.0
            for blocked, expires in pipeline.execute()
        ]

    def delete(self, limiter: Limiter, digest: str) -> None:
        self.client.delete(self.key(limiter, digest))

    def ping(self) -> None:
        self.client.ping()


@cache
def _redis_store(url: str, prefix: str) -> RedisStore:
    return RedisStore(url, prefix)


def store() -> Store:
    """The store the settings name (read on each call: tests switch it)."""
    url = getattr(settings, "RATELIMIT_REDIS_URL", None)
    if url:
        return _redis_store(url, getattr(settings, "RATELIMIT_KEY_PREFIX", "rl"))
    return DatabaseStore()


def health() -> dict[str, Any]:
    """For `/healthz`: where the cache and the limits are, and whether they answer. It never
    raises (a 503 would take every instance out of the load balancer for a shared Redis, while
    the portal still serves its pages; see docs/deploy.md)."""
    kind = "redis" if getattr(settings, "RATELIMIT_REDIS_URL", None) else "database"
    try:
        store().ping()
        django_cache.get("healthz")
    except redis.RedisError:
        logger.error("Health check: the cache (%s) does not answer", kind)
        return {"backend": kind, "status": "unreachable"}
    return {"backend": kind, "status": "ok"}


def delete_expired() -> int:
    """Housekeeping: the database rows of keys forgotten (Redis expires its own)."""
    deleted, _ = RateLimitState.objects.filter(expires_at__lte=time.time()).delete()
    return int(deleted)


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
