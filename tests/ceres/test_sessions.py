"""CERES' session store (ceres.web.sessions): a session read by one plain statement and deleted by
one, with Django's answers (the portal's process has the same session table)."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

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
