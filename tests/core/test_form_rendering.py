"""The Python renderer of form fields writes the same bytes as django-dsfr's templates."""

import inspect

import pytest
from django import forms
from dsfr.forms import DsfrBaseForm, DsfrDjangoTemplates

from portail.accounts import forms as account_forms
from portail.accounts import mfa_forms
from portail.backoffice import forms as backoffice_forms
from portail.companies import forms as company_forms
from portail.core.form_rendering import FormRenderer
from portail.habilitations import forms as habilitation_forms
from portail.habilitations import mes_demarches_forms

pytestmark = pytest.mark.django_db

MODULES = [
    account_forms,
    mfa_forms,
    backoffice_forms,
    company_forms,
    habilitation_forms,
    mes_demarches_forms,
]


def portal_forms() -> list[type[forms.Form]]:
    found = {
        cls
        for module in MODULES
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, DsfrBaseForm) and cls.__module__ == module.__name__
    }
    return sorted(found, key=lambda cls: cls.__qualname__)


def instances(cls: type[forms.Form]) -> list[forms.Form]:
    """The form unbound and bound to nothing (every required field in error), when it can be
    made without arguments of its own; else none (counted below)."""
    made = []
    for data in (None, {"unknown": "<b>x</b>"}):
        try:
            made.append(cls(data) if data is not None else cls())
        except TypeError:
            return []
    return made


def rendered(form: forms.Form, renderer) -> list[str]:
    form.renderer = renderer
    out = []
    for field in form:
        field.renderer = renderer
        out.append(str(field.as_field_group()))
        out.append(str(field))
        out.append(str(field.errors))
    return out


def test_the_python_renderer_is_the_settings_renderer(settings):
    assert settings.FORM_RENDERER == "portail.core.form_rendering.FormRenderer"
    assert isinstance(account_forms.LoginForm().renderer, FormRenderer)


def test_every_field_of_the_portal_forms_renders_the_same_bytes():
    compared = 0
    for cls in portal_forms():
        for form in instances(cls):
            expected = rendered(cls(form.data) if form.is_bound else cls(), DsfrDjangoTemplates())
            actual = rendered(form, FormRenderer())
            assert actual == expected, cls.__qualname__
            compared += len(actual)
    # The login, sign-up, profile, password, activation and invitation forms among them (162
    # renders when this was written), bound and unbound.
    assert compared >= 150


@pytest.mark.parametrize(
    "field",
    [
        forms.CharField(label="Nom <b>", help_text="Une <em>aide</em>"),
        forms.CharField(required=False, disabled=True, initial="déjà « là » & <ici>"),
        forms.EmailField(
            widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})
        ),
        forms.CharField(widget=forms.PasswordInput(attrs={"spellcheck": False, "minlength": 12})),
        forms.IntegerField(min_value=1),
        forms.CharField(widget=forms.HiddenInput),
        forms.ChoiceField(choices=[("a", "A")]),
        forms.BooleanField(),
        forms.CharField(widget=forms.Textarea),
    ],
)
@pytest.mark.parametrize("data", [None, {"f": "valeur \" ' <x>"}, {}])
def test_field_kinds_render_the_same_bytes(field, data):
    class One(account_forms.Form):
        f = field

    def make():
        return One(data) if data is not None else One(initial={"f": "init<>"})

    assert rendered(make(), FormRenderer()) == rendered(make(), DsfrDjangoTemplates())


def test_a_value_the_python_renderer_does_not_know_goes_to_the_template():
    class One(account_forms.Form):
        f = forms.CharField(widget=forms.TextInput(attrs={"data-x": ("a", "b")}))

    assert rendered(One(), FormRenderer()) == rendered(One(), DsfrDjangoTemplates())
    assert "data-x" in rendered(One(), FormRenderer())[1]
