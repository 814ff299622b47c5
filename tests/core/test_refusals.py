"""`Refusal` and `refusal_shown`: a refusal on its field, on the form, or in the messages."""

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.test import RequestFactory

from portail.core.refusals import Refusal, refusal_shown

pytestmark = pytest.mark.django_db


class NameForm(forms.Form):
    name = forms.CharField()


def _request():
    request = RequestFactory().post("/")
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


def _valid_form():
    form = NameForm({"name": "Alice"})
    assert form.is_valid()
    return form


def test_a_refusal_goes_on_its_field():
    form = _valid_form()
    with refusal_shown(_request(), form) as attempt:
        raise Refusal("Ce nom est déjà pris.", field="name")
    assert not attempt.succeeded
    assert attempt.refusal is not None
    assert attempt.refusal.message == "Ce nom est déjà pris."
    assert form.errors == {"name": ["Ce nom est déjà pris."]}


def test_a_refusal_for_an_unknown_field_goes_on_the_form():
    form = _valid_form()
    with refusal_shown(_request(), form):
        raise Refusal("Refusé.", field="not_a_field")
    assert form.non_field_errors() == ["Refusé."]
    assert "not_a_field" not in form.errors


def test_a_refusal_without_field_goes_on_the_form():
    form = _valid_form()
    with refusal_shown(_request(), form):
        raise Refusal("Refusé.")
    assert form.non_field_errors() == ["Refusé."]


def test_without_a_form_the_refusal_is_in_the_messages():
    request = _request()
    with refusal_shown(request) as attempt:
        raise Refusal("Trop tard.", field="name")
    assert not attempt.succeeded
    assert [str(m) for m in get_messages(request)] == ["Trop tard."]


def test_a_subclass_is_a_refusal_too():
    class Special(Refusal):
        pass

    request = _request()
    with refusal_shown(request):
        raise Special("Spécial.")
    assert [str(m) for m in get_messages(request)] == ["Spécial."]


def test_success_shows_nothing():
    request = _request()
    form = _valid_form()
    with refusal_shown(request, form) as attempt:
        pass
    assert attempt.succeeded
    assert attempt.refusal is None
    assert form.errors == {}
    assert list(get_messages(request)) == []


def test_any_other_exception_goes_through():
    request = _request()
    form = _valid_form()
    with pytest.raises(ValueError, match="bug"), refusal_shown(request, form):
        raise ValueError("bug")
    assert form.errors == {}
    assert list(get_messages(request)) == []


def test_the_success_message_is_shown_only_when_the_flow_went_through():
    request = _request()
    with refusal_shown(request, success="C'est fait.") as attempt:
        pass
    assert attempt.succeeded
    with refusal_shown(request, success="Jamais montré.") as refused:
        raise Refusal("Refusé.")
    assert not refused.succeeded
    assert [str(m) for m in get_messages(request)] == ["C'est fait.", "Refusé."]
