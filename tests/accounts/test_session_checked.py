"""A session row's signature is checked once per text; what a request reads is its own."""

import pytest
from django.contrib.sessions.models import Session
from django.core import signing

from portail.accounts import session_store
from portail.accounts.session_store import SessionStore

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty():
    session_store._checked.clear()
    yield
    session_store._checked.clear()


def _saved(data):
    store = SessionStore()
    store.update(data)
    store.save()
    return store.session_key


def test_the_same_row_read_twice_gives_equal_and_separate_data():
    key = _saved({"a": [1, 2], "b": {"c": "é"}, "n": None, "t": True})
    first = SessionStore(key).load()
    second = SessionStore(key).load()
    assert first == second == {"a": [1, 2], "b": {"c": "é"}, "n": None, "t": True}
    first["a"].append(3)
    assert SessionStore(key).load()["a"] == [1, 2]
    assert len(session_store._checked) == 1


def test_a_tampered_row_is_refused_as_django_refuses_it():
    key = _saved({"_auth_user_id": "1"})
    row = Session.objects.get(session_key=key)
    SessionStore(key).load()  # its text checked and kept
    payload, signature = row.session_data.rsplit(":", 1)
    row.session_data = f"{payload}:{'A' * len(signature)}"
    row.save()
    assert SessionStore(key).load() == {}


def test_a_new_secret_key_forgets_what_was_checked(settings):
    key = _saved({"x": 1})
    assert SessionStore(key).load() == {"x": 1}
    settings.SECRET_KEY = "another-secret-key-for-this-test-0123456789abcdefghijklmnop"
    assert session_store._checked == {}
    assert SessionStore(key).load() == {}  # signed with the old key


def test_a_row_signed_with_a_fallback_key_still_reads(settings):
    old = settings.SECRET_KEY
    key = _saved({"y": 2})
    settings.SECRET_KEY = "the-new-secret-key-of-this-test-0123456789abcdefghijklmnop"
    settings.SECRET_KEY_FALLBACKS = [old]
    assert SessionStore(key).load() == {"y": 2}


def test_djangos_own_decoding_gives_the_same():
    data = {"k": ["v", 1, 2.5], "l": {"m": False}}
    key = _saved(data)
    text = Session.objects.get(session_key=key).session_data
    assert (
        signing.loads(text, salt=SessionStore().key_salt, serializer=signing.JSONSerializer) == data
    )
    assert SessionStore().decode(text) == data
    assert SessionStore().decode(text) == data  # from what was kept
