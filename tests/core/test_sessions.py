"""The session store (portail.core.sessions): each new session written once, Django's otherwise."""

import pytest
from django.contrib.sessions.models import Session

from portail.core import ratelimit, sessions
from portail.core.cached_sessions import SessionStore as CachedSessionStore
from portail.core.sessions import SessionStore

pytestmark = pytest.mark.django_db


def test_create_writes_nothing_and_the_save_inserts_the_row(django_assert_num_queries):
    store = SessionStore()
    with django_assert_num_queries(0):
        store.create()
    store["who"] = 1
    store.save()
    row = Session.objects.get(session_key=store.session_key)
    assert SessionStore().decode(row.session_data) == {"who": 1}
    store["who"] = 2
    store.save()  # an update now, not a second insert
    assert Session.objects.count() == 1
    assert SessionStore(store.session_key)["who"] == 2


def test_a_save_without_a_key_draws_one_and_inserts(django_assert_num_queries):
    store = SessionStore()
    store["who"] = 1
    store.save()
    assert Session.objects.filter(session_key=store.session_key).exists()


def test_a_key_already_taken_draws_another(monkeypatch):
    taken = SessionStore()
    taken["who"] = "first"
    taken.save()
    keys = iter([taken.session_key, "b" * 32])
    monkeypatch.setattr(sessions, "get_random_string", lambda *a: next(keys))
    store = SessionStore()
    store.create()
    store["who"] = "second"
    store.save()
    assert store.session_key == "b" * 32
    assert SessionStore(taken.session_key)["who"] == "first"  # untouched
    assert SessionStore("b" * 32)["who"] == "second"


def test_cycle_key_keeps_the_data_and_drops_the_old_row():
    store = CachedSessionStore()
    store["who"] = 1
    store.save()
    old = store.session_key
    store.cycle_key()
    store.save()
    assert store.session_key != old
    assert not Session.objects.filter(session_key=old).exists()
    assert CachedSessionStore(store.session_key)["who"] == 1


def test_longest_wait_reads_every_counter_at_once(django_assert_max_num_queries):
    account = ratelimit.Limiter("test-account", limit=1)
    address = ratelimit.Limiter("test-address", limit=1)
    assert ratelimit.longest_wait((account, "a@b.fr"), (address, "10.0.0.1")) == 0
    address.fail("10.0.0.1")
    with django_assert_max_num_queries(1):
        wait = ratelimit.longest_wait((account, "a@b.fr"), (address, "10.0.0.1"))
    assert 0 < wait <= address.base_wait
    assert wait == address.wait_seconds("10.0.0.1")
