"""CERES' session store (ceres.web.sessions): a session read by one plain statement and deleted by
one, with Django's answers (the portal's process has the same session table)."""

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore as DjangoStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ceres.web import sessions
from ceres.web.sessions import SessionStore

pytestmark = pytest.mark.django_db


def saved(data: dict) -> str:
    store = SessionStore()
    store.update(data)
    store.save()
    assert store.session_key is not None
    return store.session_key


def test_a_session_is_read_back_in_one_statement():
    key = saved({"ceres_siret": "90310000600019", "n": 3})
    with CaptureQueriesContext(connection) as captured:
        store = SessionStore(session_key=key)
        assert store["ceres_siret"] == "90310000600019"
        assert store["n"] == 3
    assert len(captured.captured_queries) == 1
    assert store.session_key == key


def test_an_expired_or_unknown_session_reads_empty_and_loses_its_key():
    key = saved({"a": 1})
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(1))
    for unknown in (key, "x" * 32):
        store = SessionStore(session_key=unknown)
        assert dict(store.items()) == {}
        assert store.session_key is None


def test_a_session_is_deleted_in_one_statement():
    key = saved({"a": 1})
    other = saved({"b": 2})
    with CaptureQueriesContext(connection) as captured:
        SessionStore(session_key=key).delete()
    assert len(captured.captured_queries) == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == [other]


def test_a_new_session_is_django_s_row_and_statement():
    """The insert written out: the row and the INSERT's text as Django's store writes them."""
    data = {"ceres_siret": "90310000600019", "nom": "Zoé <&> \"q\" 'a'", "n": [1, 2]}
    rows = []
    for store in (DjangoStore(), SessionStore()):
        store.update(data)
        store.set_expiry(3600)
        with CaptureQueriesContext(connection) as captured:
            store.save()
        inserts = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("INSERT")]
        assert len(inserts) == 1
        row = Session.objects.get(session_key=store.session_key)
        rows.append((inserts[0].split(" VALUES")[0], row.get_decoded(), row.expire_date))
    (django_sql, django_data, django_expiry), (ours_sql, ours_data, ours_expiry) = rows
    assert ours_sql == django_sql
    assert ours_data == django_data == {**data, "_session_expiry": 3600}
    assert abs(ours_expiry - django_expiry) < timedelta(seconds=5)


def test_a_key_taken_is_drawn_again(monkeypatch):
    taken = saved({"a": 1})
    keys = iter([taken, "y" * 32])
    monkeypatch.setattr(sessions, "random_string", lambda length, chars: next(keys))
    store = SessionStore()
    store["b"] = 2
    store.save()
    assert store.session_key == "y" * 32
    assert SessionStore(session_key=taken)["a"] == 1  # the other session untouched
    assert SessionStore(session_key="y" * 32)["b"] == 2
