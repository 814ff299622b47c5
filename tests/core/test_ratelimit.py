"""The rate limits' rule, on both stores (the database table and a real Redis): reserve, then
verify; waits that double and end; a store that does not answer."""

import logging
import socket
import threading
import time

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from portail.core import ratelimit
from portail.core.ratelimit import Limiter, LimitsUnavailable, attempt

pytestmark = pytest.mark.django_db

# Not registered under a portal name: each test makes its own (the registry refuses two
# different limiters under one name, so the names are unique per test).
COUNTER = iter(range(10**6))


def limiter(**rule) -> Limiter:
    return Limiter(f"test-{next(COUNTER)}", label="Test", **rule)


class Clock:
    """Stands for `time` in portail.core.ratelimit: the tests move it on."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(ratelimit, "time", fake)
    return fake


@pytest.fixture(autouse=True)
def _forget_test_limiters():
    yield
    for name in [name for name in ratelimit.LIMITERS if name.startswith("test-")]:
        del ratelimit.LIMITERS[name]


def test_the_limit_th_failure_imposes_the_wait_and_it_doubles_up_to_the_maximum(
    limits_store, clock
):
    rule = limiter(limit=3, window=600, base_wait=60, max_wait=200)
    for expected in (60, 120, 200, 200):
        for _ in range(2):
            assert rule.reserve("a@exemple.fr") == 0
            assert rule.fail("a@exemple.fr") == 0
        assert rule.reserve("a@exemple.fr") == 0
        assert rule.fail("a@exemple.fr") == expected
        assert rule.wait_seconds("a@exemple.fr") == expected
        assert rule.reserve("a@exemple.fr") == expected  # refused: nothing checked
        clock.now += expected + 1  # never a permanent lock
        assert rule.wait_seconds("a@exemple.fr") == 0


def test_slots_under_check_count_before_the_outcome_is_known(limits_store, clock):
    rule = limiter(limit=3)
    assert [rule.reserve("x") for _ in range(4)] == [0, 0, 0, 60]
    rule.release("x")  # one check succeeded: its slot comes back
    assert rule.reserve("x") == 0
    assert rule.reserve("x") == 60


def test_a_right_answer_costs_nothing(limits_store, clock):
    rule = limiter(limit=2)
    for _ in range(10):
        slots = attempt((rule, "juste@exemple.fr"))
        assert slots.wait == 0
        slots.succeeded()
    assert not rule.is_blocked("juste@exemple.fr")


def test_success_does_not_clear_the_failures_already_counted(limits_store, clock):
    rule = limiter(limit=3)
    for _ in range(2):
        attempt((rule, "x")).failed()
    attempt((rule, "x")).succeeded()
    assert attempt((rule, "x")).failed() == 60


def test_the_window_forgets_failures_and_the_doubling_is_forgotten_later(limits_store, clock):
    rule = limiter(limit=2, window=100, base_wait=10, max_wait=1000)
    attempt((rule, "x")).failed()
    clock.now += 101  # the window ended: that failure no longer counts
    assert attempt((rule, "x")).failed() == 0
    assert attempt((rule, "x")).failed() == 10
    clock.now += 11
    attempt((rule, "x")).failed()
    assert attempt((rule, "x")).failed() == 20  # doubled
    clock.now += rule.ttl + 21  # long quiet: back to the first wait
    attempt((rule, "x")).failed()
    assert attempt((rule, "x")).failed() == 10


def test_keys_are_independent_and_hashed(limits_store, clock):
    rule = limiter(limit=1)
    assert rule.hit("Someone@Exemple.fr ") == 0
    assert rule.hit("someone@exemple.fr") == 60  # the same person, written otherwise
    assert rule.hit("other@exemple.fr") == 0
    assert "exemple" not in rule.digest("someone@exemple.fr")


def test_hit_counts_every_request_and_lets_the_limit_th_through(limits_store, clock):
    rule = limiter(limit=3, base_wait=900)
    assert [rule.hit("1.2.3.4") for _ in range(5)] == [0, 0, 0, 900, 900]


def test_an_attempt_refused_by_one_limit_gives_back_the_others(limits_store, clock):
    account, address = limiter(limit=5), limiter(limit=1)
    attempt((address, "ip")).failed()
    refused = attempt((account, "a"), (address, "ip"))
    assert refused.wait == 60
    assert [account.reserve("a") for _ in range(6)] == [0, 0, 0, 0, 0, 60]  # none was kept


def test_an_attempt_refused_by_its_last_limit_keeps_none_of_the_first(limits_store, clock):
    address, account = limiter(limit=5), limiter(limit=1)
    attempt((account, "a")).failed()
    refused = attempt((address, "ip"), (account, "a"))
    assert refused.wait == 60
    assert refused.slots == []
    assert [address.reserve("ip") for _ in range(6)] == [0, 0, 0, 0, 0, 60]  # none was kept


def test_both_slots_are_taken_in_one_step_and_given_back_in_one(limits_store, clock):
    account, address = limiter(limit=5), limiter(limit=5)
    # New keys: a read finding nothing, then an insert; known keys (rows stay): read locked, written.
    for verbs in (["SELECT", "INSERT"], ["SELECT", "UPDATE"]):
        with CaptureQueriesContext(connection) as captured:
            slots = attempt((account, "a"), (address, "ip"))
            slots.succeeded()
        sql = [q["sql"] for q in captured.captured_queries]
        if limits_store == "database":  # one transaction, a savepoint pair in a test (the
            # giving back joins the test's transaction as it joins a login's: below)
            assert sum(s.startswith("SAVEPOINT") for s in sql) == 1, sql
            assert [s.split(" ")[0] for s in sql if "core_ratelimitstate" in s] == [
                *verbs,
                *verbs,
                "UPDATE",
            ]
        else:
            assert sql == []
    assert [account.reserve("a") for _ in range(6)] == [0, 0, 0, 0, 0, 60]  # given back


@pytest.mark.django_db(transaction=True)
def test_slots_given_back_in_a_caller_s_transaction_commit_as_it_does(clock):
    """A login gives its slots back inside its own transaction (decision 0014, sixth session):
    the UPDATE joins it, and leaves its durability alone (a SET LOCAL synchronous_commit there
    would make the login's outbox row unsynced too); alone, it is its own unsynced transaction."""
    rule = limiter(limit=5)

    def set_local(captured) -> list[str]:
        return [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SET LOCAL")]

    slots = attempt((rule, "a"))
    with CaptureQueriesContext(connection) as alone:
        slots.succeeded()
    slots = attempt((rule, "a"))
    with CaptureQueriesContext(connection) as joined, transaction.atomic():
        slots.succeeded()
    assert len(set_local(alone)) == (1 if connection.vendor == "postgresql" else 0)
    assert set_local(joined) == []
    assert [rule.reserve("a") for _ in range(6)] == [0, 0, 0, 0, 0, 60]  # both given back


def test_reset_forgets_everything(limits_store, clock):
    rule = limiter(limit=1)
    assert rule.fail("x") == 60
    rule.reset("x")
    assert rule.wait_seconds("x") == 0
    assert rule.fail("x") == 60  # not 120: the doubling is forgotten too


def test_waits_reads_many_keys_at_once(limits_store, clock, django_assert_max_num_queries):
    rules = [limiter(limit=1) for _ in range(3)]
    rules[1].fail("x")
    with django_assert_max_num_queries(1):
        assert ratelimit.waits([(rule, "x") for rule in rules]) == [0, 60, 0]


# Fifty threads at once: the database store needs PostgreSQL's row locks, Redis runs everywhere.
LOCKS_ON_EVERY_STORE = pytest.mark.parametrize(
    "limits_store",
    [
        pytest.param(
            "database",
            marks=pytest.mark.postgres_only(
                reason="row locks between threads: PostgreSQL (the Redis variant runs everywhere)"
            ),
        ),
        "redis",
    ],
    indirect=True,
)


def _run_at_once(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)


@pytest.mark.django_db(transaction=True)
@LOCKS_ON_EVERY_STORE
def test_fifty_reservations_at_once_get_the_limit(limits_store):
    rule = limiter(limit=5)
    barrier = threading.Barrier(50)
    granted = []

    def reserve():
        try:
            barrier.wait(timeout=10)
            granted.append(rule.reserve("target@exemple.fr") == 0)
        finally:
            connection.close()

    _run_at_once([threading.Thread(target=reserve) for _ in range(50)])
    assert len(granted) == 50
    assert granted.count(True) == 5


@pytest.mark.django_db(transaction=True)
@LOCKS_ON_EVERY_STORE
def test_fifty_two_limit_attempts_at_once_get_the_limit_without_deadlock(limits_store):
    """A login's two limits taken together by 50 requests, half naming them in the other order:
    the account's limit still lets exactly 5 through, and the rows locked in one order never
    wait on each other."""
    account, address = limiter(limit=5), limiter(limit=100)
    address.reserve("ip")  # the address's row exists, the account's is new
    address.release("ip")
    barrier = threading.Barrier(50)
    granted = []

    def login(n: int) -> None:
        slots = [(account, "target@exemple.fr"), (address, "ip")]
        try:
            barrier.wait(timeout=10)
            granted.append(attempt(*(slots if n % 2 else slots[::-1])).wait == 0)
        finally:
            connection.close()

    _run_at_once([threading.Thread(target=login, args=(n,)) for n in range(50)])
    assert len(granted) == 50
    assert granted.count(True) == 5
    assert [address.reserve("ip") == 0 for _ in range(96)].count(True) == 95  # 5 still held


def test_the_registry_knows_every_limiter_by_name():
    names = set(ratelimit.registered())
    assert {"login-account", "login-ip", "agent-otp", "activation-siret", "siret_lookup"} <= names
    with pytest.raises(ValueError, match="login-account"):
        Limiter("login-account", limit=99)


# --- Redis down ---------------------------------------------------------------------------------


@pytest.fixture
def redis_down(settings):
    settings.RATELIMIT_REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def test_passwords_and_codes_fail_closed_when_redis_is_down(redis_down, caplog):
    closed = limiter(limit=5, fails_closed=True)
    with (
        caplog.at_level(logging.ERROR, logger="portail.core.ratelimit"),
        pytest.raises(LimitsUnavailable, match="momentanément indisponible"),
    ):
        attempt((closed, "a@exemple.fr"))
    assert "fails closed" in caplog.text
    assert "a@exemple.fr" not in caplog.text


def test_other_limits_fail_open_when_redis_is_down(redis_down, caplog):
    open_ = limiter(limit=1)
    with caplog.at_level(logging.ERROR, logger="portail.core.ratelimit"):
        assert [open_.hit("1.2.3.4") for _ in range(3)] == [0, 0, 0]
        assert open_.wait_seconds("1.2.3.4") == 0
    assert "fails open" in caplog.text


def test_healthz_says_the_cache_does_not_answer(redis_down, client):
    response = client.get("/healthz")
    assert response.status_code == 200  # the pages still work; monitoring reads "cache"
    assert response.json()["cache"] == {"backend": "redis", "status": "unreachable"}


def test_healthz_says_redis_answers(limits_store, client):
    response = client.get("/healthz")
    assert response.json()["cache"] == {"backend": limits_store, "status": "ok"}


def test_a_login_while_redis_is_down_is_refused_in_french(redis_down, client):
    response = client.post(
        "/", {"email": "quelquun@exemple.fr", "password": "Un mot de passe quelconque"}
    )
    assert response.status_code == 503
    assert "Le service est momentanément indisponible" in response.content.decode()


def test_expired_rows_are_cleared_by_housekeeping(clock, settings):
    settings.RATELIMIT_REDIS_URL = ""
    rule = limiter(limit=5)
    rule.fail("x")
    clock.now += rule.ttl + 1
    assert ratelimit.delete_expired() == 1


@pytest.fixture
def redis_hung(settings):
    """A Redis that takes connections and never answers (the kernel accepts them: nobody reads)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    settings.RATELIMIT_REDIS_URL = f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    yield
    server.close()


def test_a_redis_that_hangs_holds_a_login_half_a_second_then_refuses(redis_hung):
    closed, open_ = limiter(limit=5, fails_closed=True), limiter(limit=5)
    started = time.monotonic()
    with pytest.raises(LimitsUnavailable):
        attempt((closed, "a@exemple.fr"))
    assert open_.hit("1.2.3.4") == 0
    assert time.monotonic() - started < 3  # two calls, each given up after 0.5 s
