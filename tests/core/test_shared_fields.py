"""The login form's unbound fields, built once per process and shared (core.forms.
SharedUnboundFields): the same HTML as fields built Django's way, and a bound form's error
never reaching them."""

import pytest

from portail.accounts.forms import LoginForm

pytestmark = pytest.mark.django_db


def rendered(form: LoginForm) -> list[str]:
    return [str(form[name]) + form[name].label_tag() for name in form.fields]


@pytest.fixture
def django_s_way(monkeypatch):
    """A LoginForm built as Django builds it: the fields deep-copied and prepared anew."""
    monkeypatch.setattr(LoginForm, "_unbound_fields", None)
    form = LoginForm(initial={"next": "/demarches/"})
    LoginForm._unbound_fields = None  # the next unbound one keeps its fields (monkeypatch restores)
    return form


def test_unbound_login_forms_share_their_fields_and_render_them_as_django_s(django_s_way):
    first, second = LoginForm(initial={"next": "/demarches/"}), LoginForm()  # kept, then shared
    assert first.fields is not second.fields  # each its own dictionary
    assert all(first.fields[name] is second.fields[name] for name in first.fields)
    assert first.fields["email"] is not django_s_way.fields["email"]
    assert rendered(first) == rendered(django_s_way)
    assert rendered(second) == rendered(LoginForm())


def test_a_bound_form_in_error_gets_its_own_fields(django_s_way):
    unbound = LoginForm()
    before = rendered(unbound)
    refused = LoginForm({"email": "pas une adresse", "password": ""})
    assert not refused.is_valid()
    assert 'aria-invalid="true"' in str(refused["email"])
    assert refused.fields["email"] is not unbound.fields["email"]
    assert rendered(LoginForm()) == before
    assert rendered(LoginForm(initial={"next": "/demarches/"})) == rendered(django_s_way)
